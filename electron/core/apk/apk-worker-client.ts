/**
 * Runs the APK reader in a worker thread with a time limit and V8 heap limits, so parsing an
 * untrusted APK never blocks or bloats the main thread. Starting a worker costs tens of
 * milliseconds, more than reading a typical APK, so a worker is reused for the next read and
 * kept a few seconds after its last one (unref'd: an idle worker never keeps the process
 * alive). A read that passes its time limit terminates its worker; a worker that dies (heap
 * limit, crash) fails only the read it was doing, and the next read starts a fresh one.
 */
import { Worker } from 'node:worker_threads';
import { ApkError, type ApkErrorCode } from './apk-errors.js';
import type { ApkIcon, ApkInfo } from './apk-reader.js';

/** Options of `readApkInfoInWorker`. */
export interface WorkerReadOptions {
  /** Wall-clock limit for the whole read (default 10 s). */
  timeoutMs?: number;
  /** V8 old-generation heap limit of the worker in MiB (default 256). */
  maxHeapMb?: number;
  /** The compiled worker entry (default `./apk-worker.js` beside this module). */
  workerUrl?: URL;
  /** Icon width wanted in pixels (see `ApkReadOptions.iconSize`). */
  iconSize?: number;
  /** How long an idle worker is kept for the next read (default 5 s; 0: end it at once). */
  keepAliveMs?: number;
}

/** What the worker is asked. */
export interface WorkerRequest {
  id: number;
  /** `info` (default): `readApkInfo`; `icons`: `readApkIcons`. */
  op?: 'info' | 'icons';
  file: string;
  iconSize?: number;
}

/** What the worker answers. */
export type WorkerReply = { id: number } & (
  | { ok: true; value: ApkInfo | IconsResult }
  | { ok: false; error: { code: string; message: string } }
);

interface Pooled {
  worker: Worker;
  idleTimer?: NodeJS.Timeout;
}

/** Idle workers by entry URL and heap limit; at most `MAX_IDLE` of each kind are kept. */
const idle = new Map<string, Pooled[]>();
const MAX_IDLE = 2;
let nextId = 1;

function spawn(url: URL, maxHeapMb: number): Pooled {
  const worker = new Worker(url, {
    resourceLimits: {
      maxOldGenerationSizeMb: maxHeapMb,
      maxYoungGenerationSizeMb: 32,
      stackSizeMb: 4,
    },
    stdout: false,
    stderr: false,
  });
  // An idle pooled worker that dies (it should not) must not be handed out again.
  worker.on('exit', () => {
    for (const [key, list] of idle) {
      const i = list.findIndex((p) => p.worker === worker);
      if (i >= 0) {
        clearTimeout(list[i]!.idleTimer);
        list.splice(i, 1);
        if (list.length === 0) idle.delete(key);
      }
    }
  });
  // Errors are handled per read; this keeps an idle worker's error from becoming uncaught.
  worker.on('error', () => undefined);
  return { worker };
}

function release(key: string, pooled: Pooled, keepAliveMs: number): void {
  const list = idle.get(key) ?? [];
  if (keepAliveMs <= 0 || list.length >= MAX_IDLE) {
    void pooled.worker.terminate();
    return;
  }
  pooled.worker.unref();
  pooled.idleTimer = setTimeout(() => {
    const l = idle.get(key);
    const i = l?.indexOf(pooled) ?? -1;
    if (l !== undefined && i >= 0) l.splice(i, 1);
    void pooled.worker.terminate();
  }, keepAliveMs);
  pooled.idleTimer.unref();
  list.push(pooled);
  idle.set(key, list);
}

/** Ends every idle worker now (for tests and shutdown). */
export async function closeApkWorkers(): Promise<void> {
  const all = [...idle.values()].flat();
  idle.clear();
  await Promise.all(
    all.map((p) => {
      clearTimeout(p.idleTimer);
      return p.worker.terminate();
    }),
  );
}

/** Turns the clone of a worker's reply back into the reader's types (icon bytes as a Buffer). */
function revive(icon: ApkIcon): void {
  if (!Buffer.isBuffer(icon.png)) {
    const u8 = icon.png as Uint8Array;
    icon.png = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  }
}

/** What `readApkIconsInWorker` returns. */
export interface IconsResult {
  /** Every density of the launcher icon with its PNG bytes, ascending. */
  icons: ApkIcon[];
  warnings: string[];
}

/**
 * Reads `file` like `readApkInfo`, in a (reused) worker.
 * @throws ApkError the reader's own error, or `APK_TIMEOUT` when the limit passed, or
 *   `APK_READ_FAILED` when the worker died (out of memory, crash)
 */
export async function readApkInfoInWorker(
  file: string,
  options: WorkerReadOptions = {},
): Promise<ApkInfo> {
  const info = (await run('info', file, options)) as ApkInfo;
  if (info.icon !== null) revive(info.icon);
  return info;
}

/**
 * Reads every density of `file`'s launcher icon like `readApkIcons`, in a (reused) worker.
 * @throws ApkError as `readApkInfoInWorker`
 */
export async function readApkIconsInWorker(
  file: string,
  options: WorkerReadOptions = {},
): Promise<IconsResult> {
  const result = (await run('icons', file, options)) as IconsResult;
  result.icons.forEach(revive);
  return result;
}

function run(
  op: 'info' | 'icons',
  file: string,
  options: WorkerReadOptions,
): Promise<ApkInfo | IconsResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxHeapMb = options.maxHeapMb ?? 256;
  const keepAliveMs = options.keepAliveMs ?? 5_000;
  const url = options.workerUrl ?? new URL('./apk-worker.js', import.meta.url);
  const key = `${maxHeapMb}|${url.href}`;
  return new Promise((resolve, reject) => {
    const pooled = idle.get(key)?.pop() ?? spawn(url, maxHeapMb);
    clearTimeout(pooled.idleTimer);
    const { worker } = pooled;
    worker.ref();
    const id = nextId++;
    let settled = false;
    const finish = (reuse: boolean, f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (reuse) release(key, pooled, keepAliveMs);
      else void worker.terminate();
      f();
    };
    const timer = setTimeout(() => {
      finish(false, () =>
        reject(new ApkError('APK_TIMEOUT', `reading the APK took longer than ${timeoutMs} ms`)),
      );
    }, timeoutMs);
    const onMessage = (reply: WorkerReply): void => {
      if (reply.id !== id) return;
      finish(true, () => {
        if (reply.ok) resolve(reply.value);
        else reject(new ApkError(reply.error.code as ApkErrorCode, reply.error.message));
      });
    };
    const onError = (e: Error): void => {
      finish(false, () =>
        reject(
          new ApkError('APK_READ_FAILED', `the APK reader failed: ${e.message}`, { cause: e }),
        ),
      );
    };
    const onExit = (code: number): void => {
      finish(false, () =>
        reject(
          new ApkError('APK_READ_FAILED', `the APK reader exited (code ${code}) without a result`),
        ),
      );
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    const request: WorkerRequest = { id, op, file };
    if (options.iconSize !== undefined) request.iconSize = options.iconSize;
    worker.postMessage(request);
  });
}
