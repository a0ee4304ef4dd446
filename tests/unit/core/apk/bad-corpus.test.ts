import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApkInfo } from '../../../../electron/core/apk/apk-reader.js';
import { writeBadApks, type BadApk } from '../../../fixtures/apk/bad-apks.js';

let dir: string;
let corpus: BadApk[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apk-bad-'));
  corpus = await writeBadApks(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the bad-input corpus', () => {
  it('is refused member by member, each with its code and reason within 2 s', async () => {
    expect(corpus.length).toBeGreaterThan(20);
    for (const bad of corpus) {
      const started = performance.now();
      const err = await readApkInfo(bad.file).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
      const ms = performance.now() - started;
      expect({ name: bad.name, code: err?.code }).toEqual({ name: bad.name, code: bad.code });
      expect(err?.message, bad.name).toMatch(bad.reason);
      expect(ms, bad.name).toBeLessThan(2000);
    }
  });
});
