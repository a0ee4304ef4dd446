/**
 * Runs the APK reader in its own `node` process (not a thread of the app's main process), with
 * limits a hostile APK cannot get around: an address-space limit set by `prlimit` before Node
 * starts (a hard ceiling the kernel enforces, for Buffers as for the V8 heap), a V8 heap limit,
 * a resident-memory limit watched from here (the process is killed past it: V8's heap limit
 * does not count Buffers, and the address-space limit has to leave room for V8's own
 * reservations), and a time limit. Starting a process costs tens of milliseconds, more than
 * reading a typical APK, so one is reused for the next read and kept a few seconds after its
 * last (unref'd: an idle reader never keeps the app alive), and a caller that knows a read is
 * coming (`droidway apk info`) starts one early with `prestartApkReader`, so the reader's start
 * overlaps its own. A read that passes a limit kills its process; the next read starts a fresh one.
 *
 * A root caller's reader never parses as root: it is started holding root only to open the one
 * APK it is asked for (with `openApkFile`'s checks), drops to nobody before reading a byte of it,
 * and ends after that read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApkError, type ApkErrorCode } from './apk-errors.js';
import { encodeFrame, FrameReader } from './apk-worker-wire.js';
import type { ApkIcon, ApkInfo } from './apk-reader.js';

/** Options of `readApkInfoInWorker`. */
export interface WorkerReadOptions {
  /** Wall-clock limit for the whole read (default 10 s). */
  timeoutMs?: number;
  /** V8 old-generation heap limit of the reader process in MiB (default 48). */
  maxHeapMb?: number;
  /** Resident memory limit of the reader process in MiB; it is killed past it (default 64). */
  maxRssMb?: number;
  /** The reader entry (default `defaultWorkerUrl()`). */
  workerUrl?: URL;
  /** Icon width wanted in pixels (see `ApkReadOptions.iconSize`). */
  iconSize?: number;
  /** How long an idle reader process is kept for the next read (default 5 s; 0: end it). */
  keepAliveMs?: number;
  /** Called after each read that got an answer, with what the reader process used. */
  onStats?: (stats: ReaderStats) => void;
}

/** What one read cost the reader process. */
export interface ReaderStats {
  /** Peak resident memory of the reader process during the read (VmHWM), in bytes. */
  peakRssBytes: number;
  /** The reader's process id. */
  pid: number;
}

/** What the reader process is asked. */
export interface WorkerRequest {
  id: number;
  /** `info` (default): `readApkInfo`; `icons`: `readApkIcons`. */
  op?: 'info' | 'icons';
  file: string;
  iconSize?: number;
}

/** What the reader process answers. */
export type WorkerReply = { id: number } & (
  | { ok: true; value: ApkInfo | IconsResult }
  | { ok: false; error: { code: string; message: string } }
);

/**
 * Address-space ceiling of the reader process. V8 reserves about 700 MiB of address space at
 * start (code range, heap cage, thread stacks) without touching it; this leaves room for that
 * and stops any single allocation of hundreds of MiB outright.
 */
const ADDRESS_SPACE_BYTES = 1024 * 1024 * 1024;
/** How often the reader's resident memory is sampled. */
const RSS_POLL_MS = 5;

interface Pooled {
  child: ChildProcess;
  idleTimer?: NodeJS.Timeout;
  /** Who waits for the reader's next reply (the read it serves); none while idle. */
  listener?: { reply: (reply: WorkerReply) => void; fail: (error: Error) => void };
}

/**
 * The largest reply accepted from a reader (its memory limit is lower; a larger announced reply
 * is from a reader taken over, and is not buffered).
 */
const MAX_REPLY_BYTES = 256 * 1024 * 1024;

/** Idle readers by entry URL and limits; at most `MAX_IDLE` of each kind are kept. */
const idle = new Map<string, Pooled[]>();
const MAX_IDLE = 2;
let nextId = 1;

let prlimitPath: string | null | undefined;
/** `prlimit` (util-linux) when installed; without it the RSS watch is the only memory limit. */
function prlimit(): string | null {
  if (prlimitPath !== undefined) return prlimitPath;
  prlimitPath =
    ['/usr/bin/prlimit', '/bin/prlimit', '/usr/local/bin/prlimit'].find((p) => existsSync(p)) ??
    null;
  return prlimitPath;
}

/**
 * The reader entry beside this module: the bundle's self-contained `apk-worker.cjs` (one file,
 * CommonJS: it starts faster than ES modules, and reads no other file once it has started) when
 * `npm run build:cli` wrote it, else the compiled `apk-worker.js`.
 */
export function defaultWorkerUrl(): URL {
  const bundled = new URL('./apk-worker.cjs', import.meta.url);
  return existsSync(bundled) ? bundled : new URL('./apk-worker.js', import.meta.url);
}

/** Whether this process's readers drop root (see the module comment): when it runs as root. */
function asRoot(): boolean {
  return process.getuid?.() === 0;
}

function spawnReader(url: URL, maxHeapMb: number): Pooled {
  const node = process.execPath;
  const args = [
    `--max-old-space-size=${maxHeapMb}`,
    '--max-semi-space-size=1',
    '--v8-pool-size=1',
    // No concurrent GC or compiler threads: several MiB less resident memory per process.
    '--single-threaded',
    '--expose-gc',
    fileURLToPath(url),
  ];
  const limiter = prlimit();
  const child = spawn(
    limiter ?? node,
    limiter === null ? args : [`--as=${ADDRESS_SPACE_BYTES}`, '--', node, ...args],
    {
      // Requests on stdin, replies on stdout (see `apk-worker-wire.ts`).
      stdio: ['pipe', 'pipe', 'ignore'],
      cwd: path.parse(process.cwd()).root,
      // ELECTRON_RUN_AS_NODE: under Electron, execPath is the app binary; this makes it Node.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ELECTRON_RUN_AS_NODE: '1',
        UV_THREADPOOL_SIZE: '2',
        ...(asRoot() ? { DROIDWAY_APK_DROP_ROOT: '1' } : {}),
      },
    },
  );
  const pooled: Pooled = { child };
  const frames = new FrameReader(MAX_REPLY_BYTES);
  child.stdout?.on('data', (chunk: Buffer) => {
    let replies: unknown[];
    try {
      replies = frames.push(chunk);
    } catch (e) {
      child.kill('SIGKILL');
      pooled.listener?.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    for (const reply of replies) pooled.listener?.reply(reply as WorkerReply);
  });
  // Writing to a reader that died fails with EPIPE; its exit reports that.
  child.stdin?.on('error', () => undefined);
  // An idle pooled reader that dies (it should not) must not be handed out again.
  child.on('exit', () => {
    for (const [key, list] of idle) {
      const i = list.indexOf(pooled);
      if (i >= 0) {
        clearTimeout(list[i]!.idleTimer);
        list.splice(i, 1);
        if (list.length === 0) idle.delete(key);
      }
    }
  });
  // Errors are handled per read; this keeps an idle reader's error from becoming uncaught.
  child.on('error', () => undefined);
  return pooled;
}

type Refable = { ref?: () => void; unref?: () => void } | null;

function unrefChild(child: ChildProcess): void {
  child.unref();
  (child.stdin as Refable)?.unref?.();
  (child.stdout as Refable)?.unref?.();
}

function refChild(child: ChildProcess): void {
  child.ref();
  (child.stdin as Refable)?.ref?.();
  (child.stdout as Refable)?.ref?.();
}

function release(key: string, pooled: Pooled, keepAliveMs: number): void {
  const list = idle.get(key) ?? [];
  if (keepAliveMs <= 0 || list.length >= MAX_IDLE) {
    pooled.child.kill('SIGKILL');
    return;
  }
  unrefChild(pooled.child);
  pooled.idleTimer = setTimeout(() => {
    const l = idle.get(key);
    const i = l?.indexOf(pooled) ?? -1;
    if (l !== undefined && i >= 0) l.splice(i, 1);
    pooled.child.kill('SIGKILL');
  }, keepAliveMs);
  pooled.idleTimer.unref();
  list.push(pooled);
  idle.set(key, list);
}

/** Ends every idle reader process now (for tests and shutdown). */
export async function closeApkWorkers(): Promise<void> {
  const all = [...idle.values()].flat();
  idle.clear();
  await Promise.all(
    all.map(
      (p) =>
        new Promise<void>((resolve) => {
          clearTimeout(p.idleTimer);
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          p.child.once('exit', () => resolve());
          p.child.kill('SIGKILL');
        }),
    ),
  );
}

/** Options of `prestartApkReader`: those of the read it is started for. */
export type PrestartOptions = Pick<WorkerReadOptions, 'maxHeapMb' | 'workerUrl' | 'keepAliveMs'>;

/**
 * Starts a reader process now, for a read that is coming with the same `maxHeapMb` and
 * `workerUrl` (the defaults: what `droidway apk info` reads with): that read takes it instead of
 * starting one, so the reader's start runs while the caller is still starting. It waits idle
 * like a reader after a read: unref'd (it never keeps the caller alive), ended after
 * `keepAliveMs` unused, and it exits with its parent. A reader that fails to start is dropped
 * when it exits; a read that took it first reports it as any failed reader.
 * @returns the reader's process id (undefined when it could not be spawned)
 */
export function prestartApkReader(options: PrestartOptions = {}): number | undefined {
  const { url, maxHeapMb, key } = readerKind(options);
  const pooled = spawnReader(url, maxHeapMb);
  if (pooled.child.pid === undefined) return undefined;
  release(key, pooled, options.keepAliveMs ?? 5_000);
  return pooled.child.pid;
}

/** Which reader processes can serve a read with these options, and how to start one. */
function readerKind(options: WorkerReadOptions): { url: URL; maxHeapMb: number; key: string } {
  const maxHeapMb = options.maxHeapMb ?? 48;
  const url = options.workerUrl ?? defaultWorkerUrl();
  return { url, maxHeapMb, key: `${maxHeapMb}|${url.href}` };
}

/** Turns the clone of a reply back into the reader's types (icon bytes as a Buffer). */
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
 * Reads `file` like `readApkInfo`, in a (reused) reader process.
 * @throws ApkError the reader's own error, or `APK_TIMEOUT` when the time limit passed, or
 *   `APK_READ_FAILED` when the reader passed its memory limit or died (crash, address space)
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
 * Reads every density of `file`'s launcher icon like `readApkIcons`, in a reader process.
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

/** Resident and peak resident memory of `pid` in bytes, from /proc; undefined once it is gone. */
function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Resets the peak resident memory of `pid` (so VmHWM is this read's peak); best effort. */
function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // An older kernel: the peak then covers the process's life, an upper bound.
  }
}

function run(
  op: 'info' | 'icons',
  file: string,
  options: WorkerReadOptions,
): Promise<ApkInfo | IconsResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRssBytes = (options.maxRssMb ?? 64) * 1024 * 1024;
  const keepAliveMs = options.keepAliveMs ?? 5_000;
  const { url, maxHeapMb, key } = readerKind(options);
  // A root caller's reader reads one APK, then ends (it is nobody by then); idle ones waiting
  // in the pool (started early) still hold root and have read nothing.
  const once = asRoot();
  return new Promise((resolve, reject) => {
    const pooled = idle.get(key)?.pop() ?? spawnReader(url, maxHeapMb);
    clearTimeout(pooled.idleTimer);
    const { child } = pooled;
    refChild(child);
    const id = nextId++;
    const pid = child.pid;
    let settled = false;
    const finish = (reuse: boolean, f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watch);
      pooled.listener = undefined;
      child.off('error', onError);
      child.off('exit', onExit);
      if (reuse && !once) release(key, pooled, keepAliveMs);
      else child.kill('SIGKILL');
      f();
    };
    const timer = setTimeout(() => {
      finish(false, () =>
        reject(new ApkError('APK_TIMEOUT', `reading the APK took longer than ${timeoutMs} ms`)),
      );
    }, timeoutMs);
    const overLimit = (): void =>
      finish(false, () =>
        reject(
          new ApkError(
            'APK_READ_FAILED',
            `the APK reader passed its memory limit (${maxRssBytes / 1024 / 1024} MiB) and was stopped`,
          ),
        ),
      );
    if (pid !== undefined) resetPeak(pid);
    const watch = setInterval(() => {
      const m = pid === undefined ? undefined : memoryOf(pid);
      if (m !== undefined && m.rss > maxRssBytes) overLimit();
    }, RSS_POLL_MS);
    const onMessage = (reply: WorkerReply): void => {
      if (reply.id !== id) return;
      const m = pid === undefined ? undefined : memoryOf(pid);
      // A peak between two samples is still caught here: VmHWM keeps it.
      if (m !== undefined && m.hwm > maxRssBytes) return overLimit();
      if (m !== undefined && pid !== undefined) options.onStats?.({ peakRssBytes: m.hwm, pid });
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
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish(false, () =>
        reject(
          new ApkError(
            'APK_READ_FAILED',
            `the APK reader exited (${signal ?? `code ${code}`}) without a result`,
          ),
        ),
      );
    };
    pooled.listener = { reply: onMessage, fail: onError };
    child.on('error', onError);
    child.on('exit', onExit);
    // The reader runs in `/`: a relative path must not change meaning on the way.
    const request: WorkerRequest = { id, op, file: path.resolve(file) };
    if (options.iconSize !== undefined) request.iconSize = options.iconSize;
    // A reader that cannot take the request (EPIPE) has died or is dying: its exit reports it,
    // the same way whether it died before or after this write (or else the time limit does).
    child.stdin?.write(encodeFrame(request));
  });
}
