/**
 * Worker entry of the APK reader: answers each `{ id, op, file, iconSize? }` request with
 * `{ id, ok: true, value }` (what `readApkInfo` returns, or `readApkIcons` for `op: 'icons'`)
 * or `{ id, ok: false, error: { code, message } }`, one read at a time. Runs under the time and
 * memory limits `readApkInfoInWorker` sets, so a hostile APK cannot stall or exhaust the main
 * thread.
 */
import { parentPort } from 'node:worker_threads';
import { ApkError } from './apk-errors.js';
import { readApkIcons, readApkInfo } from './apk-reader.js';
import type { WorkerReply, WorkerRequest } from './apk-worker-client.js';

parentPort?.on('message', (request: WorkerRequest) => {
  void (async () => {
    let reply: WorkerReply;
    try {
      const options = request.iconSize === undefined ? {} : { iconSize: request.iconSize };
      const value =
        request.op === 'icons'
          ? await readApkIcons(request.file, options)
          : await readApkInfo(request.file, options);
      reply = { id: request.id, ok: true, value };
    } catch (e) {
      const code = e instanceof ApkError ? e.code : 'APK_READ_FAILED';
      const message = e instanceof Error ? e.message : String(e);
      reply = { id: request.id, ok: false, error: { code, message } };
    }
    parentPort?.postMessage(reply);
  })();
});
