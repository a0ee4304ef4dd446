/**
 * The APK reader in its worker: the compiled worker entry (built here with tsc, as
 * `npm run build:ts` would) reads an APK off the main thread, reports the reader's own error
 * codes, and is stopped by its time limit.
 */
import { readFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeApkWorkers,
  prestartApkReader,
  readApkIconsInWorker,
  readApkInfoInWorker,
} from '../../electron/core/apk/apk-worker-client.js';
import { encodePng, solidImage } from '../../electron/core/apk/png.js';
import { encodeFrame, FrameReader } from '../../electron/core/apk/apk-worker-wire.js';
import {
  apkToolsMissing,
  buildApkFixtures,
  cleanupApkFixtures,
} from '../fixtures/apk/build-fixtures.js';
import { itNeeds, needRoot } from '../helpers/capability.js';
import { ANDROID_NS, writeAxml } from '../unit/core/apk/axml-writer.js';
import { craftZip } from '../unit/core/apk/zip-writer.js';

const root = path.resolve(import.meta.dirname, '../..');
let out: string;
let workerUrl: URL;

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'apk-worker-'));
  execFileSync(
    path.join(root, 'node_modules/.bin/tsc'),
    [
      '--outDir',
      out,
      '--rootDir',
      root,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2023',
      '--types',
      'node',
      '--skipLibCheck',
      '--strict',
      path.join(root, 'electron/core/apk/apk-worker.ts'),
      path.join(root, 'electron/core/apk/apk-worker-client.ts'),
    ],
    { cwd: root },
  );
  await writeFile(path.join(out, 'package.json'), '{ "type": "module" }\n');
  await symlink(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  workerUrl = pathToFileURL(path.join(out, 'electron/core/apk/apk-worker.js'));
}, 120_000);

afterAll(async () => {
  cleanupApkFixtures();
  await closeApkWorkers();
  await rm(out, { recursive: true, force: true });
});

async function apk(name: string, manifest: Buffer): Promise<string> {
  const file = path.join(out, name);
  await writeFile(file, craftZip([{ name: 'AndroidManifest.xml', data: manifest, method: 8 }]));
  return file;
}

describe('readApkInfoInWorker', () => {
  it('reads an APK in the worker while the main thread keeps running', async () => {
    const file = await apk(
      'ok.apk',
      writeAxml({ name: 'manifest', attrs: [{ name: 'package', value: 'org.example.w' }] }),
    );
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      const info = await readApkInfoInWorker(file, { workerUrl });
      expect(info.packageName).toBe('org.example.w');
    } finally {
      clearInterval(ticker);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('passes the reader’s error code through', async () => {
    const file = await apk('bad.apk', Buffer.from('<?xml version="1.0"?><manifest/>'));
    await expect(readApkInfoInWorker(file, { workerUrl })).rejects.toMatchObject({
      code: 'APK_AXML_INVALID',
      message: expect.stringMatching(/plain-text XML/) as unknown,
    });
  });

  it('stops the worker at the time limit', async () => {
    const file = await apk('slow.apk', Buffer.alloc(0));
    // A fresh reader process: a warm one answers this small APK in less than the limit.
    await closeApkWorkers();
    const started = Date.now();
    await expect(readApkInfoInWorker(file, { workerUrl, timeoutMs: 1 })).rejects.toMatchObject({
      code: 'APK_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reuses its worker, and replaces one stopped by the time limit', async () => {
    const file = await apk(
      'again.apk',
      writeAxml({ name: 'manifest', attrs: [{ name: 'package', value: 'org.example.again' }] }),
    );
    await closeApkWorkers();
    // The same reader process answers every read (its pid), until one passes the time limit.
    const pids = new Set<number>();
    const uids = new Set<string>();
    const onStats = (s: { pid: number }): void => {
      pids.add(s.pid);
      uids.add(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${s.pid}/status`, 'utf8'))?.[1] ?? '?');
    };
    for (let i = 0; i < 10; i++)
      expect((await readApkInfoInWorker(file, { workerUrl, onStats })).packageName).toBe(
        'org.example.again',
      );
    // A root caller never parses as root: each read gets a reader of its own, which opens the APK
    // and drops to nobody before reading it; anyone else reuses one reader.
    const root = process.getuid?.() === 0;
    expect(pids.size).toBe(root ? 10 : 1);
    expect([...uids]).toEqual([root ? '65534' : String(process.getuid?.())]);
    await expect(readApkInfoInWorker(file, { workerUrl, timeoutMs: 0 })).rejects.toMatchObject({
      code: 'APK_TIMEOUT',
    });
    expect((await readApkInfoInWorker(file, { workerUrl, onStats })).packageName).toBe(
      'org.example.again',
    );
    expect(pids.size).toBe(root ? 11 : 2);
  });

  it('returns icon bytes as Buffers, for the info and for every density', async () => {
    const file = path.join(out, 'icons.apk');
    const png = encodePng(solidImage(48, 48, 0xff112233));
    await writeFile(
      file,
      craftZip([
        {
          name: 'AndroidManifest.xml',
          data: writeAxml({
            name: 'manifest',
            attrs: [{ name: 'package', value: 'org.example.icons' }],
            children: [
              {
                name: 'application',
                attrs: [
                  { ns: ANDROID_NS, name: 'icon', resourceId: 0x01010002, value: 'res/icon.png' },
                ],
              },
            ],
          }),
          method: 8,
        },
        { name: 'res/icon.png', data: png },
      ]),
    );
    const info = await readApkInfoInWorker(file, { workerUrl });
    expect(Buffer.isBuffer(info.icon?.png)).toBe(true);
    expect(info.icon!.png.equals(png)).toBe(true);
    const { icons } = await readApkIconsInWorker(file, { workerUrl });
    expect(icons.map((i) => [i.width, Buffer.isBuffer(i.png)])).toEqual([[48, true]]);
  });

  itNeeds(
    'decodes adaptive icon layers with the decoder it loads on demand',
    apkToolsMissing(),
    async () => {
      // A root caller's reader is nobody by then, and the compiled reader's modules here are
      // readable by root alone (a 0700 temporary folder): it loaded the decoder before the drop.
      const composed = (await buildApkFixtures()).get('adaptive-composed')!.file;
      const info = await readApkInfoInWorker(composed, { workerUrl });
      expect(info.icon).toMatchObject({ source: 'adaptive-composed', width: 216 });
    },
    60_000,
  );

  it('stops a reader that announces a reply larger than any it may send', async () => {
    // A reader taken over by a hostile APK: its parent must not buffer what it announces.
    const hostile = path.join(out, 'hostile-reader.mjs');
    await writeFile(
      hostile,
      `import { writeSync } from 'node:fs';
       const header = Buffer.alloc(4);
       header.writeUInt32LE(0xfffffff0);
       writeSync(1, header);
       setInterval(() => writeSync(1, Buffer.alloc(65536)), 1);\n`,
    );
    const file = await apk('any.apk', writeAxml({ name: 'manifest', attrs: [] }));
    await expect(
      readApkInfoInWorker(file, { workerUrl: pathToFileURL(hostile), timeoutMs: 5000 }),
    ).rejects.toMatchObject({
      code: 'APK_READ_FAILED',
      message: expect.stringMatching(/failed: a message of 4294967280 bytes, more than/) as unknown,
    });
  });

  itNeeds(
    'a reader started by root reads one APK as nobody, and no other',
    needRoot(),
    async () => {
      const file = await apk(
        'once.apk',
        writeAxml({ name: 'manifest', attrs: [{ name: 'package', value: 'org.example.once' }] }),
      );
      const child = spawn(process.execPath, [fileURLToPath(workerUrl)], {
        stdio: ['pipe', 'pipe', 'ignore'],
        env: { PATH: process.env.PATH, DROIDWAY_APK_DROP_ROOT: '1' },
      });
      const frames = new FrameReader(1 << 20);
      const replies: Array<{ id: number; ok: boolean; error?: { message: string } }> = [];
      let uidAfterFirst: string | undefined;
      const done = new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          for (const r of frames.push(chunk)) {
            replies.push(r as (typeof replies)[number]);
            if (replies.length === 1) {
              uidAfterFirst = uidOf(child.pid!);
              child.stdin.write(encodeFrame({ id: 2, op: 'info', file }));
            } else resolve();
          }
        });
      });
      child.stdin.write(encodeFrame({ id: 1, op: 'info', file }));
      await done;
      child.stdin.end();
      await gone(child.pid!);
      expect(replies[0]).toMatchObject({ id: 1, ok: true });
      expect(uidAfterFirst).toBe('65534');
      expect(replies[1]).toMatchObject({
        id: 2,
        ok: false,
        error: { message: 'a reader started by root reads one APK' },
      });
    },
  );

  it('reports a worker that cannot start as APK_READ_FAILED', async () => {
    await expect(
      readApkInfoInWorker(await apk('start.apk', writeAxml({ name: 'manifest', attrs: [] })), {
        workerUrl: new URL('file:///nonexistent/w.js'),
      }),
    ).rejects.toMatchObject({ code: 'APK_READ_FAILED' });
  });
});

/** The uid a process runs as, from /proc; undefined once it is gone. */
function uidOf(pid: number): string | undefined {
  try {
    return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Resolves once process `pid` is gone (or a zombie); rejects after `ms`. */
async function gone(pid: number, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  const alive = (): boolean => {
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (alive()) {
    if (Date.now() > end) throw new Error(`process ${pid} still runs after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('prestartApkReader', () => {
  it('starts the reader the next read takes', async () => {
    const file = await apk(
      'early.apk',
      writeAxml({ name: 'manifest', attrs: [{ name: 'package', value: 'org.example.early' }] }),
    );
    await closeApkWorkers();
    const early = prestartApkReader({ workerUrl });
    expect(early).toBeTypeOf('number');
    // Waiting for its read, it has read nothing (a root caller's reader still holds root, to
    // open the APK it will be asked for).
    expect(uidOf(early!)).toBe(String(process.getuid?.()));
    const seen: number[] = [];
    const info = await readApkInfoInWorker(file, { workerUrl, onStats: (s) => seen.push(s.pid) });
    expect(info.packageName).toBe('org.example.early');
    expect(seen).toEqual([early]);
    if (process.getuid?.() === 0) {
      // It read as nobody, and ended with its one read.
      await gone(early!);
    }
  });

  it('gives a read the same error when the early reader failed to start', async () => {
    const file = await apk('nostart.apk', writeAxml({ name: 'manifest', attrs: [] }));
    const broken = new URL('file:///nonexistent/early-w.js');
    await closeApkWorkers();
    const direct = await readApkInfoInWorker(file, { workerUrl: broken }).catch((e: unknown) => e);
    // Taken while it still starts, or gone (and replaced) by the time of the read: either way.
    for (const wait of [0, 10, 30, 60, 100, 500]) {
      const early = prestartApkReader({ workerUrl: broken });
      expect(early).toBeTypeOf('number');
      await new Promise((r) => setTimeout(r, wait));
      const after = await readApkInfoInWorker(file, { workerUrl: broken }).catch((e: unknown) => e);
      expect(after).toMatchObject({ code: 'APK_READ_FAILED', message: (direct as Error).message });
      await gone(early!);
    }
  });

  it('ends an early reader nobody takes: after its keep-alive, or with its parent', async () => {
    await closeApkWorkers();
    const early = prestartApkReader({ workerUrl, keepAliveMs: 100 });
    await gone(early!);
    // A parent that exits without reading (a CLI whose arguments were wrong) leaves nothing.
    const client = pathToFileURL(path.join(out, 'electron/core/apk/apk-worker-client.js'));
    const script = `import { prestartApkReader } from ${JSON.stringify(client.href)};
      const pid = prestartApkReader({
        workerUrl: new URL(${JSON.stringify(workerUrl.href)}),
        keepAliveMs: 60_000,
      });
      process.stdout.write(String(pid));`;
    // Kept alive by its reader, the parent would outlive this timeout.
    const pid = Number(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      }),
    );
    expect(pid).toBeGreaterThan(0);
    await gone(pid);
  });
});
