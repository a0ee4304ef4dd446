/**
 * Worker entry of the APK reader: reads one APK (`workerData.file`) with `readApkInfo` and posts
 * back `{ ok: true, value }` or `{ ok: false, error: { code, message } }`. Runs under the time
 * and memory limits `readApkInfoInWorker` sets, so a hostile APK cannot stall or exhaust the
 * main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ApkError } from './apk-errors.js';
import { readApkInfo } from './apk-reader.js';

const { file } = workerData as { file: string };
try {
  parentPort?.postMessage({ ok: true, value: await readApkInfo(file) });
} catch (e) {
  const code = e instanceof ApkError ? e.code : 'APK_READ_FAILED';
  const message = e instanceof Error ? e.message : String(e);
  parentPort?.postMessage({ ok: false, error: { code, message } });
}
