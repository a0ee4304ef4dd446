/**
 * Child-process entry of the APK reader: answers each `{ id, op, file, iconSize? }` request
 * that arrives on the IPC channel with `{ id, ok: true, value }` (what `readApkInfo` returns,
 * or `readApkIcons` for `op: 'icons'`) or `{ id, ok: false, error: { code, message } }`, one
 * read at a time. It runs in its own `node` process under the address-space, heap and RSS
 * limits `readApkInfoInWorker` sets, so a hostile APK can exhaust or crash only this process,
 * never the app. It exits when its parent disconnects. Started by root, it is handed the one APK
 * it reads as an inherited descriptor (`fd:4`) and drops to nobody before reading it.
 */
import { ApkError } from './apk-errors.js';
import { readApkIcons, readApkInfo } from './apk-reader.js';
import type { WorkerReply, WorkerRequest } from './apk-worker-client.js';

/** Who a reader started by root becomes: nobody/nogroup. */
const NOBODY = 65534;

// Started by a root parent with the APK as an inherited fd: give up root before reading a byte
// of it (the modules above are loaded; the checkout may not be readable by nobody).
if (process.env.DROIDWAY_APK_DROP_ROOT === '1' && process.getuid?.() === 0) {
  process.setgroups?.([]);
  process.setgid?.(NOBODY);
  process.setuid?.(NOBODY);
}

process.on('message', (request: WorkerRequest) => {
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
    process.send?.(reply, () => {
      // A reused reader starts each read from a collected heap, so one read's garbage does
      // not count against the next one's memory limit.
      (globalThis as { gc?: () => void }).gc?.();
    });
  })();
});
process.on('disconnect', () => process.exit(0));
