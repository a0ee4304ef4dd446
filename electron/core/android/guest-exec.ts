/**
 * Runs programs inside a running session's container: `lxc-attach -P <lxcpath> -n <name>
 * --clear-env --set-var PATH=… -- argv` (argv only, never a shell), with stdin streamed from a
 * `Readable` (an APK of any size goes through without being buffered), both outputs capped, a
 * timeout and an abort signal that kills the attach.
 *
 * `lxc-attach` needs root. The session host's control socket has an `attach-exec` request any
 * owner may send, but it buffers stdin and caps it at 512 KiB, so it cannot carry an APK; the
 * proper unprivileged path is handing the APK's fd to the host over that socket
 * (`SCM_RIGHTS`, the native module's sendMessage) so the host streams it. Until that exists, a
 * caller that is not root gets `GUEST_NEEDS_ROOT`.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { GUEST_PATH } from '../runtime/lxc.js';
import { sessionPaths, sessionStatus, type SessionRef } from '../runtime/session-service.js';
import { AndroidError } from './android-errors.js';

/** `PATH` inside the guest: Android's tool folders first, then the demo guest's. */
export const ANDROID_GUEST_PATH = `/system/bin:/system/xbin:/vendor/bin:${GUEST_PATH}`;

/** Default output kept per stream. */
export const DEFAULT_GUEST_OUTPUT_BYTES = 1024 * 1024;

/** Default wall-clock limit of one guest command. */
export const DEFAULT_GUEST_TIMEOUT_MS = 120_000;

/** Options of one guest command. */
export interface GuestExecOptions {
  /** Piped into the program's stdin and consumed (destroyed when the program ends); else empty. */
  stdin?: Readable;
  timeoutMs?: number;
  /** Bytes kept per output stream; the rest is counted as truncated. */
  maxOutputBytes?: number;
  /** Aborting kills the attach (SIGKILL) and rejects with `CANCELLED`. */
  signal?: AbortSignal;
}

/** What a finished guest command left. A non-zero exit is the program's answer, not an error. */
export interface GuestExecResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

/** Runs `argv` in the guest; the install pipeline and the `pm`/`am` wrappers take one of these. */
export type GuestExecutor = (
  argv: readonly string[],
  options?: GuestExecOptions,
) => Promise<GuestExecResult>;

/** The container a session runs in. */
export interface GuestContainer {
  instance: string;
  containerName: string;
  lxcPath: string;
}

/**
 * The running session of `ref`'s instance. Rejects with `GUEST_NEEDS_ROOT` when this process is
 * not root, `GUEST_NOT_RUNNING` when no session runs (or it is frozen), or the runtime's errors.
 */
export async function findRunningGuest(ref: SessionRef = {}): Promise<GuestContainer> {
  if (process.getuid?.() !== 0) {
    throw new AndroidError(
      'GUEST_NEEDS_ROOT',
      "running commands in the guest needs root (lxc-attach); run as root, or through the app's privileged helper",
    );
  }
  const paths = sessionPaths(ref.instance, ref);
  const status = await sessionStatus(ref);
  if (status.state.name !== 'running') {
    throw new AndroidError(
      'GUEST_NOT_RUNNING',
      status.state.name === 'stopped'
        ? `no session is running for instance ${paths.name}; start one with droidway session start`
        : `the session of instance ${paths.name} is ${status.state.name}, not running`,
    );
  }
  return { instance: paths.name, containerName: paths.containerName, lxcPath: paths.lxcPath };
}

/** Rejects argv that `lxc-attach` would misread or that is empty. */
function checkArgv(argv: readonly string[]): void {
  if (argv.length === 0 || argv.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    throw new AndroidError(
      'GUEST_EXEC_FAILED',
      'a guest command needs a non-empty argv without NUL',
    );
  }
}

/** Collects at most `cap` bytes, counting what it drops. */
function collector(cap: number): {
  push: (b: Buffer) => void;
  text: () => string;
  truncated: () => boolean;
} {
  const parts: Buffer[] = [];
  let kept = 0;
  let dropped = false;
  return {
    push: (b) => {
      if (kept >= cap) {
        dropped = true;
        return;
      }
      const take = b.subarray(0, cap - kept);
      if (take.length < b.length) dropped = true;
      parts.push(take);
      kept += take.length;
    },
    text: () => Buffer.concat(parts).toString('utf8'),
    truncated: () => dropped,
  };
}

/**
 * An executor for `container` through `lxc-attach` (see the module doc). The attached program
 * runs with a cleared environment and `PATH=ANDROID_GUEST_PATH`. Rejects with `CANCELLED`
 * (aborted), `GUEST_EXEC_TIMEOUT` (killed after `timeoutMs`) or `GUEST_EXEC_FAILED`
 * (`lxc-attach` could not be run).
 */
export function lxcGuestExecutor(container: GuestContainer): GuestExecutor {
  return (argv, options = {}) => {
    checkArgv(argv);
    const args = [
      '-P',
      container.lxcPath,
      '-n',
      container.containerName,
      '--clear-env',
      '--set-var',
      `PATH=${ANDROID_GUEST_PATH}`,
      '--',
      ...argv,
    ];
    return runAttach('lxc-attach', args, options);
  };
}

/** Spawns `command` with stdin streamed, outputs capped, timeout and abort (exported for tests). */
export function runAttach(
  command: string,
  args: readonly string[],
  options: GuestExecOptions = {},
): Promise<GuestExecResult> {
  const cap = options.maxOutputBytes ?? DEFAULT_GUEST_OUTPUT_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_GUEST_TIMEOUT_MS;
  const input = options.stdin;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      input?.destroy();
      reject(new AndroidError('CANCELLED', 'cancelled'));
      return;
    }
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
    });
    const out = collector(cap);
    const errOut = collector(cap);
    child.stdout.on('data', out.push);
    child.stderr.on('data', errOut.push);
    let ended: 'timeout' | 'abort' | null = null;
    const kill = (why: 'timeout' | 'abort'): void => {
      ended ??= why;
      input?.unpipe(child.stdin);
      child.stdin.destroy();
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), timeoutMs);
    const onAbort = (): void => kill('abort');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // The program may stop reading early (a refusal before the end of an APK): EPIPE is its answer.
    child.stdin.on('error', () => {});
    if (input !== undefined) {
      input.on('error', () => child.stdin.destroy());
      input.pipe(child.stdin);
    } else {
      child.stdin.end();
    }
    const cleanup = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (input !== undefined) {
        input.unpipe(child.stdin);
        input.destroy();
      }
    };
    child.on('error', (e) => {
      cleanup();
      reject(
        new AndroidError('GUEST_EXEC_FAILED', `${command} could not be run: ${e.message}`, {
          cause: e,
        }),
      );
    });
    child.on('close', (exitCode, signal) => {
      cleanup();
      if (ended === 'abort') {
        reject(new AndroidError('CANCELLED', 'cancelled'));
        return;
      }
      if (ended === 'timeout') {
        reject(
          new AndroidError(
            'GUEST_EXEC_TIMEOUT',
            `${argv0(args)} did not finish within ${timeoutMs} ms and was killed`,
          ),
        );
        return;
      }
      resolve({
        exitCode,
        signal,
        stdout: out.text(),
        stderr: errOut.text(),
        stdoutTruncated: out.truncated(),
        stderrTruncated: errOut.truncated(),
      });
    });
  });
}

function argv0(args: readonly string[]): string {
  const i = args.indexOf('--');
  return (i >= 0 ? args.slice(i + 1, i + 3) : args.slice(0, 1)).join(' ');
}
