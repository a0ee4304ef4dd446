/**
 * Runs the APK reader in a worker thread with a time limit and V8 heap limits, so parsing an
 * untrusted APK never blocks or bloats the main thread. One worker per APK: it is terminated on
 * timeout and always ends when the read does.
 */
import { Worker } from 'node:worker_threads';
import { ApkError, type ApkErrorCode } from './apk-errors.js';
import type { ApkInfo } from './apk-reader.js';

/** Options of `readApkInfoInWorker`. */
export interface WorkerReadOptions {
  /** Wall-clock limit for the whole read (default 10 s). */
  timeoutMs?: number;
  /** V8 old-generation heap limit of the worker in MiB (default 256). */
  maxHeapMb?: number;
  /** The compiled worker entry (default `./apk-worker.js` beside this module). */
  workerUrl?: URL;
}

type Reply = { ok: true; value: ApkInfo } | { ok: false; error: { code: string; message: string } };

/**
 * Reads `file` like `readApkInfo`, in a worker.
 * @throws ApkError the reader's own error, or `APK_TIMEOUT` when the limit passed, or
 *   `APK_READ_FAILED` when the worker died (out of memory, crash)
 */
export function readApkInfoInWorker(
  file: string,
  options: WorkerReadOptions = {},
): Promise<ApkInfo> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxHeapMb = options.maxHeapMb ?? 256;
  return new Promise((resolve, reject) => {
    const worker = new Worker(options.workerUrl ?? new URL('./apk-worker.js', import.meta.url), {
      workerData: { file },
      resourceLimits: {
        maxOldGenerationSizeMb: maxHeapMb,
        maxYoungGenerationSizeMb: 32,
        stackSizeMb: 4,
      },
      stdout: false,
      stderr: false,
    });
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
      void worker.terminate();
    };
    const timer = setTimeout(() => {
      finish(() =>
        reject(new ApkError('APK_TIMEOUT', `reading the APK took longer than ${timeoutMs} ms`)),
      );
    }, timeoutMs);
    worker.once('message', (reply: Reply) => {
      finish(() => {
        if (reply.ok) resolve(reply.value);
        else reject(new ApkError(reply.error.code as ApkErrorCode, reply.error.message));
      });
    });
    worker.once('error', (e: Error) => {
      finish(() =>
        reject(
          new ApkError('APK_READ_FAILED', `the APK reader failed: ${e.message}`, { cause: e }),
        ),
      );
    });
    worker.once('exit', (code) => {
      finish(() =>
        reject(
          new ApkError('APK_READ_FAILED', `the APK reader exited (code ${code}) without a result`),
        ),
      );
    });
  });
}
