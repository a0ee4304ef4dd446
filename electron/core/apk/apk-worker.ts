/**
 * Child-process entry of the APK reader: answers each `{ id, op, file, iconSize? }` request
 * that arrives on its stdin with `{ id, ok: true, value }` on its stdout (what `readApkInfo`
 * returns, or `readApkIcons` for `op: 'icons'`) or `{ id, ok: false, error: { code, message } }`,
 * one read at a time (the frames of `apk-worker-wire.ts`). It runs in its own `node` process
 * under the address-space, heap and RSS limits `readApkInfoInWorker` sets, so a hostile APK can
 * exhaust or crash only this process, never the app. It exits when its parent closes its stdin.
 *
 * Started by root (`DROIDWAY_APK_DROP_ROOT=1`), it reads one APK: it opens the file it is asked
 * for as root, with `openApkFile`'s checks (the file may be readable by root only), then drops to
 * nobody before reading a byte of it, and refuses any further request.
 */
import { read, writeSync } from 'node:fs';
import path from 'node:path';
import { ApkError } from './apk-errors.js';
import { openApkFile } from './apk-file.js';
import { loadPngDecoder } from './apk-icons.js';
import { readApkIcons, readApkInfo } from './apk-reader.js';
import type { WorkerReply, WorkerRequest } from './apk-worker-client.js';
import { encodeFrame, FrameReader } from './apk-worker-wire.js';

/** Who a reader started by root becomes: nobody/nogroup. */
const NOBODY = 65534;

/**
 * Whether every module this reader may load is in its own file already (the bundle's
 * `apk-worker.cjs`, built with `__DROIDWAY_SELF_CONTAINED__` defined): then what it loads on
 * demand needs no file read after the drop to nobody.
 */
declare const __DROIDWAY_SELF_CONTAINED__: boolean | undefined;
const selfContained = typeof __DROIDWAY_SELF_CONTAINED__ !== 'undefined';

const dropsRoot = process.env.DROIDWAY_APK_DROP_ROOT === '1' && process.getuid?.() === 0;
let readOne = false;

/** The file to read for `request`: its path, or (started by root) the descriptor opened for it. */
async function fileFor(request: WorkerRequest): Promise<{ file: string; name?: string }> {
  if (!dropsRoot) return { file: request.file };
  if (readOne) throw new ApkError('APK_READ_FAILED', 'a reader started by root reads one APK');
  readOne = true;
  const held = await openApkFile(request.file);
  // The checkout (node_modules included) may be readable by root alone: what this reader loads
  // on demand is loaded now, unless it is in this file already.
  if (!selfContained) await loadPngDecoder();
  process.setgroups?.([]);
  process.setgid?.(NOBODY);
  process.setuid?.(NOBODY);
  return { file: `fd:${held.fd}`, name: path.basename(request.file) };
}

/** Largest request accepted (a path and a few numbers). */
const MAX_REQUEST_BYTES = 64 * 1024;

async function answer(request: WorkerRequest): Promise<WorkerReply> {
  let target: { file: string; name?: string } | undefined;
  try {
    target = await fileFor(request);
    const options = request.iconSize === undefined ? {} : { iconSize: request.iconSize };
    const value =
      request.op === 'icons'
        ? await readApkIcons(target.file, options)
        : await readApkInfo(target.file, options);
    return { id: request.id, ok: true, value };
  } catch (e) {
    const code = e instanceof ApkError ? e.code : 'APK_READ_FAILED';
    let message = e instanceof Error ? e.message : String(e);
    // Messages name the file read: the APK's own name, not the descriptor it came through.
    if (target?.name !== undefined) message = message.split(target.file).join(target.name);
    return { id: request.id, ok: false, error: { code, message } };
  }
}

/** Writes all of `frame` to stdout (a blocking pipe: the parent reads as it comes). */
function send(frame: Buffer): void {
  for (let at = 0; at < frame.length;) {
    try {
      at += writeSync(1, frame, at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') process.exit(0);
    }
  }
}

const requests = new FrameReader(MAX_REQUEST_BYTES);
const chunk = Buffer.alloc(64 * 1024);

/**
 * Reads stdin until requests arrive and answers them in turn, then reads on; stdin is read only
 * while idle (not during a read, so the thread pool is the read's). At its end (the parent
 * closed it, or died) the reader exits.
 */
function serve(): void {
  read(0, chunk, 0, chunk.length, null, (err, n) => {
    if (err !== null || n === 0) process.exit(0);
    let batch: unknown[];
    try {
      batch = requests.push(chunk.subarray(0, n));
    } catch {
      process.exit(2);
    }
    void (async () => {
      for (const request of batch) {
        send(encodeFrame(await answer(request as WorkerRequest)));
        // A reused reader starts each read from a collected heap, so one read's garbage does
        // not count against the next one's memory limit.
        (globalThis as { gc?: () => void }).gc?.();
      }
      serve();
    })();
  });
}
serve();
