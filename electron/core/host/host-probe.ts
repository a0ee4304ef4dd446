/**
 * `HostProbe`: everything the doctor checks and the image code read from the machine, behind one
 * interface, so each check is a small function over it and unit tests can run every branch
 * against fixture data.
 * `createHostProbe()` is the real one: bounded file reads, argv-array process spawns with a
 * timeout (never a shell), the native module's shared-memory test, a Wayland round trip.
 */
import { spawn } from 'node:child_process';
import { open, readdir, readlink, stat } from 'node:fs/promises';
import { machine, release } from 'node:os';
import { fetchWaylandGlobals, type WaylandGlobal } from './wayland-registry.js';

/** File types `HostProbe.stat` reports (after following symlinks). */
export type HostFileType =
  'file' | 'directory' | 'socket' | 'char-device' | 'block-device' | 'fifo' | 'other';

export interface HostStat {
  type: HostFileType;
  /** Permission bits (`st_mode & 0o7777`). */
  mode: number;
  size: number;
}

export interface ExecResult {
  /** Exit status, or null when the process was killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  /** The process outlived the timeout and was killed. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** What the native shared-memory test found. */
export type ShmProbeResult =
  | { native: 'missing'; message: string }
  | {
      native: 'loaded';
      /** `/dev/ashmem` exists and opens. */
      ashmemDevice: boolean;
      /** A memfd region created, sealed read-only and inspected; or the step that failed. */
      memfd:
        | { ok: true; seals: string[] }
        | {
            ok: false;
            step: 'create' | 'seal-read-only' | 'inspect';
            code: string;
            message: string;
          };
    };

/** Read-only view of the host for the doctor checks. */
export interface HostProbe {
  /**
   * Whole file (symlinks followed). Rejects with the filesystem error (`ENOENT`, `EACCES` …), or
   * `EFBIG` when it holds more than `maxBytes` (default 8 MiB).
   */
  readFile(path: string, maxBytes?: number): Promise<Buffer>;
  /** At most the first `length` bytes of a file; rejects like `readFile`. */
  readHead(path: string, length: number): Promise<Buffer>;
  /** Whether `path` exists (symlinks followed). */
  exists(path: string): Promise<boolean>;
  /** Type, mode and size of `path` (symlinks followed), or null when it does not exist or cannot be read. */
  stat(path: string): Promise<HostStat | null>;
  /** Names in a directory; rejects with the filesystem error. */
  readdir(path: string): Promise<string[]>;
  /** Target of a symlink; rejects with the filesystem error. */
  readlink(path: string): Promise<string>;
  /**
   * Runs `argv[0]` with `argv[1..]` (no shell), stdin closed, killed after `timeoutMs`. Resolves
   * with how it ended; rejects only when it could not be started (`ENOENT`, `EACCES`).
   */
  exec(argv: readonly string[], options: { timeoutMs: number }): Promise<ExecResult>;
  /** The process environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly uid: number;
  /** `uname -r` */
  readonly kernelRelease: string;
  /** `uname -m` */
  readonly arch: string;
  /** Loads the native module and creates, seals and inspects a memfd region. Never rejects. */
  shmProbe(): Promise<ShmProbeResult>;
  /** One Wayland registry round trip (see `fetchWaylandGlobals`); rejects with a coded error. */
  waylandGlobals(socketPath: string, timeoutMs: number): Promise<WaylandGlobal[]>;
}

const DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024;
const MAX_EXEC_OUTPUT_BYTES = 1024 * 1024;

function codedError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

async function readBounded(path: string, limit: number, failWhenLonger: boolean): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    // /proc files report size 0, so read until EOF rather than trusting fstat.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, limit + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) {
        if (failWhenLonger) throw codedError('EFBIG', `${path} is larger than ${limit} bytes`);
        return Buffer.concat(chunks).subarray(0, limit);
      }
    }
    return Buffer.concat(chunks);
  } finally {
    await handle.close();
  }
}

function fileType(s: Awaited<ReturnType<typeof stat>>): HostFileType {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'directory';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'char-device';
  if (s.isBlockDevice()) return 'block-device';
  if (s.isFIFO()) return 'fifo';
  return 'other';
}

function execArgv(argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(codedError('EINVAL', 'exec needs a program'));
  return new Promise((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    const child = spawn(file, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      if (outBytes + chunk.length > MAX_EXEC_OUTPUT_BYTES) return;
      outBytes += chunk.length;
      into.push(chunk);
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Size of the test region: one page. */
const SHM_TEST_SIZE = 4096;

async function probeSharedMemory(): Promise<ShmProbeResult> {
  let native;
  try {
    // Loaded lazily so that doctor still runs, and says what to do, before the addon is built.
    const facade = await import('../native/index.js');
    native = facade.loadNative();
  } catch (error) {
    const code = errorCode(error);
    // ENATIVE without a cause: the .node file is not there; with one, it is there but did not load.
    const notBuilt =
      code === 'ERR_MODULE_NOT_FOUND' ||
      (code === 'ENATIVE' && (error as { cause?: unknown }).cause === undefined);
    return {
      native: 'missing',
      message: notBuilt
        ? 'native module not built — run npm run build:native'
        : `native module failed to load: ${errorMessage(error)}`,
    };
  }
  let ashmemDevice = false;
  try {
    ashmemDevice = native.ashmemDeviceAvailable();
  } catch {
    ashmemDevice = false;
  }
  let fd: number;
  try {
    fd = native.ashmemCreate('droidway-doctor', SHM_TEST_SIZE, 'memfd').fd;
  } catch (error) {
    return {
      native: 'loaded',
      ashmemDevice,
      memfd: { ok: false, step: 'create', code: errorCode(error), message: errorMessage(error) },
    };
  }
  try {
    try {
      native.ashmemSetReadOnly(fd);
    } catch (error) {
      return {
        native: 'loaded',
        ashmemDevice,
        memfd: {
          ok: false,
          step: 'seal-read-only',
          code: errorCode(error),
          message: errorMessage(error),
        },
      };
    }
    try {
      const seals = native.inspectFd(fd).seals ?? [];
      return { native: 'loaded', ashmemDevice, memfd: { ok: true, seals: [...seals] } };
    } catch (error) {
      return {
        native: 'loaded',
        ashmemDevice,
        memfd: { ok: false, step: 'inspect', code: errorCode(error), message: errorMessage(error) },
      };
    }
  } finally {
    try {
      native.closeFd(fd);
    } catch {
      // Only EBADF can happen here, and then there is nothing left to release.
    }
  }
}

/** The real `HostProbe` of the machine this process runs on. */
export function createHostProbe(): HostProbe {
  return {
    readFile: (path, maxBytes = DEFAULT_MAX_FILE_BYTES) => readBounded(path, maxBytes, true),
    readHead: (path, length) => readBounded(path, length, false),
    async exists(path) {
      return (await this.stat(path)) !== null;
    },
    async stat(path) {
      try {
        const s = await stat(path);
        return { type: fileType(s), mode: s.mode & 0o7777, size: s.size };
      } catch {
        return null;
      }
    },
    readdir: (path) => readdir(path),
    readlink: (path) => readlink(path),
    exec: (argv, { timeoutMs }) => execArgv(argv, timeoutMs),
    env: { ...process.env },
    uid: process.getuid?.() ?? -1,
    kernelRelease: release(),
    arch: machine(),
    shmProbe: probeSharedMemory,
    waylandGlobals: (socketPath, timeoutMs) => fetchWaylandGlobals(socketPath, { timeoutMs }),
  };
}
