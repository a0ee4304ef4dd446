/**
 * The client side of a session host's control socket, used by the CLI and by an app that finds
 * a session already running: one connection per request, a timeout on each, and typed helpers
 * per method.
 */
import net from 'node:net';
import type { HostView } from '../inspect/host-view.js';
import type { BridgeStats } from '../../../native/index.js';
import {
  MAX_RESPONSE_BYTES,
  parseControlResponse,
  type AttachExecWireResult,
  type ControlMethod,
} from './control-protocol.js';
import { RuntimeError, isErrno } from './runtime-errors.js';
import type { SessionStatus } from './session.js';

/** Default wait for an answer. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** An error answered by the host, with its code (`SESSION_BAD_STATE`, …). */
export class ControlRemoteError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ControlRemoteError';
    this.code = code;
  }
}

let nextId = 1;

/**
 * Sends one request and resolves with the answer's value. Rejects with `RuntimeError`
 * `SESSION_NOT_RUNNING` when nothing listens on `socketPath`, `CONTROL_UNAVAILABLE` on a timeout,
 * a closed connection or a malformed answer, and `ControlRemoteError` with the host's code when
 * the host refused the request.
 */
export function controlRequest(
  socketPath: string,
  method: ControlMethod,
  params: Record<string, unknown> = {},
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffered = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new RuntimeError(
              'CONTROL_UNAVAILABLE',
              `no answer to ${method} within ${timeoutMs} ms`,
            ),
          ),
        ),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify({ id, method, params }) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_RESPONSE_BYTES) {
        finish(() =>
          reject(
            new RuntimeError('CONTROL_UNAVAILABLE', 'answer from the session host is too long'),
          ),
        );
        return;
      }
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      finish(() => {
        try {
          const response = parseControlResponse(buffered.slice(0, nl));
          if (response.ok) resolve(response.value);
          else reject(new ControlRemoteError(response.error.code, response.error.message));
        } catch (e) {
          reject(e);
        }
      });
    });
    socket.on('error', (e) => {
      const absent = isErrno(e, 'ENOENT') || isErrno(e, 'ECONNREFUSED');
      finish(() =>
        reject(
          absent
            ? new RuntimeError('SESSION_NOT_RUNNING', `no session host listens on ${socketPath}`, {
                cause: e,
              })
            : new RuntimeError('CONTROL_UNAVAILABLE', `control connection failed: ${e.message}`, {
                cause: e,
              }),
        ),
      );
    });
    socket.on('close', () =>
      finish(() =>
        reject(
          new RuntimeError(
            'CONTROL_UNAVAILABLE',
            `the session host closed the connection before answering ${method}`,
          ),
        ),
      ),
    );
  });
}

/** The session's status. */
export async function requestStatus(
  socketPath: string,
  timeoutMs?: number,
): Promise<SessionStatus> {
  return (await controlRequest(socketPath, 'status', {}, timeoutMs)) as SessionStatus;
}

/** Stops the session; resolves with the final status once it is stopped and cleaned. */
export async function requestStop(
  socketPath: string,
  timeoutSeconds?: number,
): Promise<SessionStatus> {
  const params = timeoutSeconds === undefined ? {} : { timeoutSeconds };
  // The host waits up to timeoutSeconds for init, then kills; leave room for that and cleanup.
  return (await controlRequest(
    socketPath,
    'stop',
    params,
    ((timeoutSeconds ?? 10) + 30) * 1000,
  )) as SessionStatus;
}

/** Freezes the session. */
export async function requestFreeze(socketPath: string): Promise<SessionStatus> {
  return (await controlRequest(socketPath, 'freeze')) as SessionStatus;
}

/** Thaws the session. */
export async function requestUnfreeze(socketPath: string): Promise<SessionStatus> {
  return (await controlRequest(socketPath, 'unfreeze')) as SessionStatus;
}

/** The display bridge's per-client counters; `BRIDGE_OFF` when the session has no bridge. */
export async function requestBridgeStats(socketPath: string): Promise<BridgeStats> {
  const value = await controlRequest(socketPath, 'bridge-stats');
  const { parseBridgeStatsValue } = await import('./bridge-stats-answer.js');
  return parseBridgeStatsValue(value);
}

/**
 * The session record (what the policy promised) as the host reads it from the instance's
 * root-owned data folder, for an owner who cannot read that folder; the caller validates it.
 */
export async function requestRecord(socketPath: string): Promise<unknown> {
  return controlRequest(socketPath, 'record');
}

/**
 * The container as the host sees it (`collectHostView` of its init: id maps, mounts, cgroup
 * files, init's fds and cwd, console size), collected by the root session host for an owner
 * who cannot read another uid's /proc entries.
 */
export async function requestHostView(socketPath: string): Promise<HostView | null> {
  return (await controlRequest(socketPath, 'host-view', {}, 30_000)) as HostView | null;
}

/** Result of `requestAttachExec`, outputs decoded. */
export interface AttachExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

/** Runs `argv` in the container through the host (`lxc-attach`, cleared environment plus `env`). */
export async function requestAttachExec(
  socketPath: string,
  argv: string[],
  options: { env?: Record<string, string>; stdin?: Buffer; timeoutMs?: number } = {},
): Promise<AttachExecResult> {
  const params: Record<string, unknown> = { argv };
  if (options.env) params.env = options.env;
  if (options.stdin) params.stdin = options.stdin.toString('base64');
  if (options.timeoutMs) params.timeoutMs = options.timeoutMs;
  const wire = (await controlRequest(
    socketPath,
    'attach-exec',
    params,
    (options.timeoutMs ?? 60_000) + 10_000,
  )) as AttachExecWireResult;
  return {
    exitCode: wire.exitCode,
    signal: wire.signal,
    stdout: Buffer.from(wire.stdout, 'base64'),
    stderr: Buffer.from(wire.stderr, 'base64'),
    stdoutTruncated: wire.stdoutTruncated,
    stderrTruncated: wire.stderrTruncated,
  };
}
