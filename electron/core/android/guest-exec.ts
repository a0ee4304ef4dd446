/**
 * Runs programs inside a running session's container: `lxc-attach -P <lxcpath> -n <name>
 * --clear-env --set-var PATH=… -- argv` (argv only, never a shell), with stdin streamed from a
 * `Readable` (an APK of any size goes through without being buffered), both outputs capped, a
 * timeout and an abort signal that kills the attach.
 *
 * `lxc-attach` needs root. A desktop user's commands go through the session host's fd channel
 * (`runtime/fd-channel.ts`): this process hands three socket ends over `SCM_RIGHTS`, the root host
 * runs `lxc-attach` with them as the program's stdio, and the bytes (an APK in, Android's answer
 * out) flow between the guest and this process without the host reading them. The host accepts
 * only Droidway's own verbs from a user (`runtime/guest-verbs.ts`).
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { GUEST_COMMAND_PATH } from '../runtime/lxc.js';
import { sessionPaths, sessionStatus, type SessionRef } from '../runtime/session-client.js';
import { closeFd } from '../native/fd.js';
import { fdChannelCall, fdChannelPath, streamPair } from '../runtime/fd-channel.js';
import { AndroidError } from './android-errors.js';

/** `PATH` inside the guest: Android's tool folders first, then the demo guest's. */
export const ANDROID_GUEST_PATH = GUEST_COMMAND_PATH;

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
  /** The session host's fd channel, used when this process is not root. */
  channel?: string;
}

/**
 * The running session of `ref`'s instance. Rejects with `GUEST_NEEDS_ROOT` when this process is
 * not root, `GUEST_NOT_RUNNING` when no session runs (or it is frozen), or the runtime's errors.
 */
export async function findRunningGuest(ref: SessionRef = {}): Promise<GuestContainer> {
  const paths = sessionPaths(ref.instance, ref);
  const status = await sessionStatus(ref);
  if (status.state.name !== 'running') {
    throw new AndroidError(
      'GUEST_NOT_RUNNING',
      status.state.name === 'stopped'
        ? `no session is running for instance ${paths.name}; start one with droidway session start${paths.name === 'default' ? '' : ` --instance ${paths.name}`}`
        : `the session of instance ${paths.name} is ${status.state.name}, not running`,
    );
  }
  return {
    instance: paths.name,
    containerName: paths.containerName,
    lxcPath: paths.lxcPath,
    channel: fdChannelPath(paths.controlDir),
  };
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
  if (process.getuid?.() !== 0 && container.channel !== undefined)
    return channelGuestExecutor(container.channel);
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

/**
 * An executor through the session host's fd channel at `socketPath` (see the module doc): same
 * results, caps, timeout and cancellation as `lxcGuestExecutor`. Cancelling closes this side of
 * the program's stdio (an install then fails on a short read) and stops waiting.
 */
export function channelGuestExecutor(socketPath: string): GuestExecutor {
  return async (argv, options = {}) => {
    checkArgv(argv);
    const cap = options.maxOutputBytes ?? DEFAULT_GUEST_OUTPUT_BYTES;
    const timeoutMs = options.timeoutMs ?? DEFAULT_GUEST_TIMEOUT_MS;
    const input = options.stdin;
    if (options.signal?.aborted) {
      input?.destroy();
      throw new AndroidError('CANCELLED', 'cancelled');
    }
    const pairs = [streamPair(), streamPair(), streamPair()] as const;
    const [stdin, stdout, stderr] = pairs;
    const out = collector(cap);
    const errOut = collector(cap);
    const ended = [stdout, stderr].map(
      (p, i) =>
        new Promise<void>((resolve) => {
          p.local.on('data', i === 0 ? out.push : errOut.push);
          p.local.once('close', () => resolve());
          p.local.once('error', () => resolve());
        }),
    );
    stdin.local.on('error', () => {});
    // Closed once: a second close could hit an fd number reused meanwhile.
    let remoteClosed = false;
    const closeRemote = (): void => {
      if (remoteClosed) return;
      remoteClosed = true;
      for (const p of pairs) closeFd(p.remoteFd);
    };
    let cancelled = false;
    const onAbort = (): void => {
      cancelled = true;
      input?.unpipe(stdin.local);
      for (const p of pairs) p.local.destroy();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (input !== undefined) {
      input.on('error', () => stdin.local.destroy());
      input.pipe(stdin.local);
    } else {
      stdin.local.end();
    }
    try {
      const answer = await fdChannelCall(
        socketPath,
        { op: 'exec', argv: [...argv], timeoutMs },
        pairs.map((p) => p.remoteFd),
        timeoutMs + 15_000,
        closeRemote,
      ).catch((e: unknown) => {
        if (cancelled) throw new AndroidError('CANCELLED', 'cancelled');
        throw new AndroidError(
          'GUEST_EXEC_FAILED',
          `the session host did not run ${argv.slice(0, 2).join(' ')}: ${(e as Error).message}`,
          { cause: e },
        );
      });
      await Promise.all(ended);
      if (cancelled) throw new AndroidError('CANCELLED', 'cancelled');
      const value = answer.value as { exitCode?: unknown; signal?: unknown };
      const exitCode = typeof value.exitCode === 'number' ? value.exitCode : null;
      const signal = typeof value.signal === 'string' ? (value.signal as NodeJS.Signals) : null;
      if (exitCode === null && signal === 'SIGKILL')
        throw new AndroidError(
          'GUEST_EXEC_TIMEOUT',
          `${argv.slice(0, 2).join(' ')} did not finish within ${timeoutMs} ms and was killed`,
        );
      return {
        exitCode,
        signal,
        stdout: out.text(),
        stderr: errOut.text(),
        stdoutTruncated: out.truncated(),
        stderrTruncated: errOut.truncated(),
      };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      closeRemote();
      if (input !== undefined) {
        input.unpipe(stdin.local);
        input.destroy();
      }
      for (const p of pairs) p.local.destroy();
    }
  };
}

function argv0(args: readonly string[]): string {
  const i = args.indexOf('--');
  return (i >= 0 ? args.slice(i + 1, i + 3) : args.slice(0, 1)).join(' ');
}
