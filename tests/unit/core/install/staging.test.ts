import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyAndHash,
  makeStagingDir,
  openInput,
} from '../../../../electron/core/install/staging.js';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'install-staging-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('openInput', () => {
  it('refuses a folder, a FIFO, a symlink (even to /dev/zero), a missing file and an oversized one', async () => {
    const fifo = path.join(dir, 'fifo.apk');
    execFileSync('mkfifo', [fifo]);
    const link = path.join(dir, 'zero.apk');
    await fs.symlink('/dev/zero', link);
    const folder = path.join(dir, 'folder.apk');
    await fs.mkdir(folder);
    for (const f of [fifo, link, folder, path.join(dir, 'missing.apk')])
      await expect(openInput(f), f).rejects.toMatchObject({ code: 'APK_NOT_A_FILE' });
    const file = path.join(dir, 'big.apk');
    await fs.writeFile(file, Buffer.alloc(2000));
    await expect(openInput(file, 1000)).rejects.toMatchObject({ code: 'APK_TOO_LARGE' });
  });
});

describe('makeStagingDir and copyAndHash', () => {
  it('copies exactly the file into a private folder and hashes it', async () => {
    const file = path.join(dir, 'in.apk');
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await fs.writeFile(file, bytes);
    const staging = await makeStagingDir(path.join(dir, 'root'));
    expect((await fs.stat(staging)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dir, 'root'))).mode & 0o777).toBe(0o700);
    const input = await openInput(file);
    const seen: number[] = [];
    const out = path.join(staging, 'base.apk');
    const sha = await copyAndHash(input, out, { onBytes: (n) => seen.push(n) });
    await input.close();
    expect(sha).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await fs.readFile(out)).toEqual(bytes);
    expect((await fs.stat(out)).mode & 0o777).toBe(0o600);
    expect(seen.at(-1)).toBe(bytes.length);
  });

  it('copies only the size seen at open, even if the file grows', async () => {
    const file = path.join(dir, 'grow.apk');
    await fs.writeFile(file, 'abc');
    const input = await openInput(file);
    await fs.appendFile(file, 'def');
    const staging = await makeStagingDir(path.join(dir, 'root'));
    await copyAndHash(input, path.join(staging, 'x'));
    await input.close();
    expect(await fs.readFile(path.join(staging, 'x'), 'utf8')).toBe('abc');
  });

  it('reports a file that shrank while copying', async () => {
    const file = path.join(dir, 'shrink.apk');
    await fs.writeFile(file, Buffer.alloc(100_000));
    const input = await openInput(file);
    await fs.truncate(file, 10);
    const staging = await makeStagingDir(path.join(dir, 'root'));
    await expect(copyAndHash(input, path.join(staging, 'x'))).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
    });
    await input.close();
  });

  it('stops on abort with CANCELLED', async () => {
    const file = path.join(dir, 'abort.apk');
    await fs.writeFile(file, Buffer.alloc(10_000_000));
    const input = await openInput(file);
    const controller = new AbortController();
    const staging = await makeStagingDir(path.join(dir, 'root'));
    await expect(
      copyAndHash(input, path.join(staging, 'x'), {
        signal: controller.signal,
        onBytes: () => controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    await input.close();
  });

  it('refuses to overwrite an existing staged file', async () => {
    const file = path.join(dir, 'again.apk');
    await fs.writeFile(file, 'x');
    const staging = await makeStagingDir(path.join(dir, 'root'));
    await fs.writeFile(path.join(staging, 'x'), 'old');
    const input = await openInput(file);
    await expect(copyAndHash(input, path.join(staging, 'x'))).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
    });
    await input.close();
  });

  it('reports a staging root it cannot create', async () => {
    const file = path.join(dir, 'plain-file');
    await fs.writeFile(file, '');
    await expect(makeStagingDir(path.join(file, 'root'))).rejects.toMatchObject({
      code: 'STAGING_FAILED',
    });
  });
});
