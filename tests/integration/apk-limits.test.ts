/**
 * The APK reader in its own process, measured: it is a separate `node` process with an
 * address-space limit; its peak resident memory (VmHWM) stays within 64 MiB for a small APK,
 * for a generated 200 MB APK of 20,000 entries, for framework-res.apk and for the hostile cases (4096² adaptive
 * layers, a reference fan-out, 40 MB of entry names), each answered within 2 s; and a reader
 * that passes its memory limit is stopped.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApkEntry } from '../../electron/core/apk/apk-reader.js';
import {
  closeApkWorkers,
  readApkInfoInWorker,
  type ReaderStats,
} from '../../electron/core/apk/apk-worker-client.js';
import { makeBigApk } from '../bench/apk.bench.js';
import {
  apkToolsMissing,
  buildApkFixtures,
  FRAMEWORK_RES,
} from '../fixtures/apk/build-fixtures.js';
import { writeHostileApks, type HostileApk } from '../fixtures/apk/hostile-apks.js';
import { itNeeds, missingTool } from '../helpers/capability.js';
import { writeAxml } from '../unit/core/apk/axml-writer.js';
import { craftZip } from '../unit/core/apk/zip-writer.js';

const root = path.resolve(import.meta.dirname, '../..');
const MiB = 1024 * 1024;
let out: string;
let workerUrl: URL;
let hostile: HostileApk[];

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'apk-limits-'));
  execFileSync(
    path.join(root, 'node_modules/.bin/tsc'),
    [
      '--outDir', out, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2023', '--types', 'node', '--skipLibCheck', '--strict',
      path.join(root, 'electron/core/apk/apk-worker.ts'),
    ],
    { cwd: root },
  ); // prettier-ignore
  await writeFile(path.join(out, 'package.json'), '{ "type": "module" }\n');
  await symlink(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  workerUrl = pathToFileURL(path.join(out, 'electron/core/apk/apk-worker.js'));
  hostile = await writeHostileApks(out);
}, 180_000);

afterAll(async () => {
  await closeApkWorkers();
  await rm(out, { recursive: true, force: true });
});

/** Reads `file` in a fresh reader process; returns the outcome, its stats and wall time. */
async function measured(
  file: string,
): Promise<{ result: unknown; stats: ReaderStats | undefined; ms: number }> {
  await closeApkWorkers();
  let stats: ReaderStats | undefined;
  const started = performance.now();
  const result = await readApkInfoInWorker(file, {
    workerUrl,
    timeoutMs: 30_000,
    keepAliveMs: 0,
    onStats: (s) => (stats = s),
  }).catch((e: unknown) => e);
  const ms = performance.now() - started;
  process.stderr.write(
    `apk-limits: ${path.basename(file)}: peak RSS ${stats === undefined ? '?' : (stats.peakRssBytes / MiB).toFixed(1)} MiB, ${ms.toFixed(0)} ms\n`,
  );
  return { result, stats, ms };
}

describe('the APK reader process', () => {
  itNeeds(
    'runs as its own process with an address-space limit',
    missingTool(['prlimit']),
    async () => {
      const file = path.join(out, 'small.apk');
      await writeFile(
        file,
        craftZip([
          {
            name: 'AndroidManifest.xml',
            data: writeAxml({
              name: 'manifest',
              attrs: [{ name: 'package', value: 'org.example.s' }],
            }),
            method: 8,
          },
        ]),
      );
      let pid = 0;
      let limits = '';
      const info = await readApkInfoInWorker(file, {
        workerUrl,
        onStats: (s) => {
          pid = s.pid;
          limits = execFileSync('cat', [`/proc/${s.pid}/limits`], { encoding: 'utf8' });
        },
      });
      expect(info.packageName).toBe('org.example.s');
      expect(pid).not.toBe(process.pid);
      expect(limits).toMatch(/^Max address space\s+1073741824\s+1073741824\s+bytes/m);
      const { stats } = await measured(file);
      expect(stats!.peakRssBytes).toBeLessThanOrEqual(64 * MiB);
    },
  );

  it('answers every hostile APK within 2 s and 64 MiB', async () => {
    for (const h of hostile) {
      const { result, stats, ms } = await measured(h.file);
      expect(ms, h.name).toBeLessThan(2000);
      if ('code' in h.expect) {
        expect(result, h.name).toMatchObject({ code: h.expect.code });
        expect((result as Error).message, h.name).toMatch(h.expect.reason);
      } else {
        expect((result as { warnings: string[] }).warnings.join('\n'), h.name).toMatch(
          h.expect.warning,
        );
      }
      expect(stats!.peakRssBytes, h.name).toBeLessThanOrEqual(64 * MiB);
    }
  }, 60_000);

  itNeeds(
    'reads a 200 MB APK of 20,000 entries within 64 MiB',
    apkToolsMissing(),
    async () => {
      const fixtures = await buildApkFixtures();
      const big = path.join(out, 'big.apk');
      await makeBigApk(big, fixtures.get('hello')!.file, readApkEntry, 20_000);
      expect((await readFile(big)).length).toBeGreaterThan(200_000_000);
      const { result, stats } = await measured(big);
      expect(result).toMatchObject({ packageName: 'org.example.hello', entryCount: 20_005 });
      expect(stats!.peakRssBytes).toBeLessThanOrEqual(64 * MiB);
      await rm(big);
    },
    180_000,
  );

  itNeeds(
    'reads framework-res.apk (31 MB resources table) within 64 MiB',
    apkToolsMissing(),
    async () => {
      const { result, stats } = await measured(FRAMEWORK_RES);
      expect(result).toMatchObject({ packageName: 'android', labels: { '': 'Android System' } });
      expect(stats!.peakRssBytes).toBeLessThanOrEqual(64 * MiB);
    },
  );

  it('stops a reader that passes its memory limit', async () => {
    await closeApkWorkers();
    const file = hostile[0]!.file;
    await expect(
      readApkInfoInWorker(file, { workerUrl, maxRssMb: 8, keepAliveMs: 0 }),
    ).rejects.toMatchObject({
      code: 'APK_READ_FAILED',
      message: expect.stringMatching(/memory limit \(8 MiB\)/) as unknown,
    });
  });
});
