/**
 * The control socket's wire format: newline-delimited JSON, one request per line, one response
 * line per request.
 *
 *     → {"id": 1, "method": "status", "params": {}}
 *     ← {"id": 1, "ok": true, "value": {...}}
 *     ← {"id": 1, "ok": false, "error": {"code": "SESSION_BAD_STATE", "message": "..."}}
 *
 * Requests come from another process, so each is validated strictly before anything acts on
 * it: a size cap per line, a closed set of methods, no unknown keys, exact types and ranges.
 * Pure functions; the socket code is in `control-socket.ts`.
 */
import { ENV_NAME_PATTERN } from './lxc.js';
import { ATTACH_LIMITS, MAX_BRIDGE_STATS_CLIENTS } from './control-protocol-schema.js';
import { RuntimeError } from './runtime-errors.js';

export { ATTACH_LIMITS, MAX_BRIDGE_STATS_CLIENTS };

/** Longest request line (bytes, newline excluded). */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** Longest response line a client accepts. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** Longest stop timeout a client may ask for. */
export const MAX_STOP_TIMEOUT_SECONDS = 300;

/** Methods the host answers. */
export const CONTROL_METHODS = [
  'status',
  'stop',
  'freeze',
  'unfreeze',
  'attach-exec',
  'bridge-stats',
  'record',
  'host-view',
] as const;
export type ControlMethod = (typeof CONTROL_METHODS)[number];

/** A request id: a non-negative safe integer or a short token. */
export type RequestId = number | string;

/** Parameters of `attach-exec`. */
export interface AttachExecParams {
  argv: string[];
  env?: Record<string, string>;
  /** Base64 of the bytes fed to the program's stdin. */
  stdin?: string;
  timeoutMs?: number;
}

/** A validated request. */
export type ControlRequest =
  | {
      id: RequestId;
      method: 'status' | 'freeze' | 'unfreeze' | 'bridge-stats' | 'record' | 'host-view';
      params: Record<string, never>;
    }
  | { id: RequestId; method: 'stop'; params: { timeoutSeconds?: number } }
  | { id: RequestId; method: 'attach-exec'; params: AttachExecParams };

/** What the host answers. */
export type ControlResponse =
  | { id: RequestId | null; ok: true; value: unknown }
  | { id: RequestId | null; ok: false; error: { code: string; message: string } };

/** Result of `attach-exec`, as it crosses the socket (outputs in base64). */
export interface AttachExecWireResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

/** A refused request; `requestId` is the request's id when it could be read, for the answer. */
export class ControlRequestError extends RuntimeError {
  readonly requestId: RequestId | null;
  constructor(message: string, requestId: RequestId | null) {
    super('CONTROL_BAD_REQUEST', message);
    this.name = 'ControlRequestError';
    this.requestId = requestId;
  }
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isRequestId(v: unknown): v is RequestId {
  return (
    (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ||
    (typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v))
  );
}

/**
 * Parses and validates one request line. Throws `ControlRequestError` (`CONTROL_BAD_REQUEST`)
 * naming the problem: oversize line, malformed JSON, not an object, a bad or missing id, an
 * unknown method, unknown keys, or a parameter of the wrong type or out of range.
 */
export function parseControlRequest(line: string): ControlRequest {
  if (Buffer.byteLength(line, 'utf8') > MAX_REQUEST_BYTES) {
    throw new ControlRequestError(`request is longer than ${MAX_REQUEST_BYTES} bytes`, null);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new ControlRequestError(`request is not valid JSON: ${(e as Error).message}`, null);
  }
  if (!isPlainObject(raw))
    throw new ControlRequestError(`request must be a JSON object, got ${kind(raw)}`, null);
  const id = isRequestId(raw.id) ? raw.id : null;
  const fail = (message: string): never => {
    throw new ControlRequestError(message, id);
  };
  if (id === null) fail('id must be a non-negative integer or 1-64 characters of [A-Za-z0-9_-]');
  for (const key of Object.keys(raw)) {
    if (key !== 'id' && key !== 'method' && key !== 'params')
      fail(`unknown request key ${JSON.stringify(key.slice(0, 40))}`);
  }
  const method = raw.method;
  if (typeof method !== 'string' || !(CONTROL_METHODS as readonly string[]).includes(method)) {
    fail(
      typeof method === 'string'
        ? `unknown method ${JSON.stringify(method.slice(0, 40))}; known: ${CONTROL_METHODS.join(', ')}`
        : `method must be a string, got ${kind(method)}`,
    );
  }
  const params = raw.params ?? {};
  if (!isPlainObject(params)) fail(`params must be an object, got ${kind(params)}`);
  const p = params as Record<string, unknown>;
  const onlyKeys = (allowed: readonly string[]): void => {
    for (const key of Object.keys(p)) {
      if (!allowed.includes(key))
        fail(`unknown parameter ${JSON.stringify(key.slice(0, 40))} for ${method}`);
    }
  };
  const rid = id as RequestId;
  switch (method as ControlMethod) {
    case 'status':
    case 'freeze':
    case 'unfreeze':
    case 'bridge-stats':
    case 'record':
    case 'host-view':
      onlyKeys([]);
      return {
        id: rid,
        method: method as
          'status' | 'freeze' | 'unfreeze' | 'bridge-stats' | 'record' | 'host-view',
        params: {},
      };
    case 'stop': {
      onlyKeys(['timeoutSeconds']);
      if (p.timeoutSeconds === undefined) return { id: rid, method: 'stop', params: {} };
      const t = p.timeoutSeconds;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > MAX_STOP_TIMEOUT_SECONDS) {
        fail(`params.timeoutSeconds must be an integer from 0 to ${MAX_STOP_TIMEOUT_SECONDS}`);
      }
      return { id: rid, method: 'stop', params: { timeoutSeconds: t as number } };
    }
    case 'attach-exec':
      onlyKeys(['argv', 'env', 'stdin', 'timeoutMs']);
      return { id: rid, method: 'attach-exec', params: attachParams(p, fail) };
  }
}

function attachParams(
  p: Record<string, unknown>,
  fail: (message: string) => never,
): AttachExecParams {
  const L = ATTACH_LIMITS;
  const argv = p.argv;
  if (!Array.isArray(argv) || argv.length === 0 || argv.length > L.maxArgs) {
    fail(`params.argv must be an array of 1 to ${L.maxArgs} strings`);
  }
  (argv as unknown[]).forEach((a, i) => {
    if (typeof a !== 'string') fail(`params.argv[${i}] must be a string, got ${kind(a)}`);
    if ((a as string).length > L.maxArgLength)
      fail(`params.argv[${i}] is longer than ${L.maxArgLength} characters`);
    if ((a as string).includes('\0')) fail(`params.argv[${i}] contains a NUL character`);
  });
  if ((argv as string[])[0] === '') fail('params.argv[0] must not be empty');
  const out: AttachExecParams = { argv: argv as string[] };
  if (p.env !== undefined) {
    if (!isPlainObject(p.env)) fail(`params.env must be an object, got ${kind(p.env)}`);
    const entries = Object.entries(p.env as Record<string, unknown>);
    if (entries.length > L.maxEnv) fail(`params.env has more than ${L.maxEnv} variables`);
    const env: Record<string, string> = {};
    for (const [k, v] of entries) {
      if (!ENV_NAME_PATTERN.test(k))
        fail(`params.env name ${JSON.stringify(k.slice(0, 40))} is not a valid variable name`);
      if (typeof v !== 'string') fail(`params.env.${k} must be a string, got ${kind(v)}`);
      if ((v as string).length > L.maxEnvValueLength || (v as string).includes('\0')) {
        fail(`params.env.${k} is longer than ${L.maxEnvValueLength} characters or contains NUL`);
      }
      env[k] = v as string;
    }
    out.env = env;
  }
  if (p.stdin !== undefined) {
    if (
      typeof p.stdin !== 'string' ||
      !/^[A-Za-z0-9+/]*={0,2}$/.test(p.stdin) ||
      p.stdin.length % 4 !== 0
    ) {
      fail('params.stdin must be a base64 string');
    }
    if (((p.stdin as string).length / 4) * 3 > L.maxStdinBytes + 2) {
      fail(`params.stdin is larger than ${L.maxStdinBytes} bytes`);
    }
    out.stdin = p.stdin as string;
  }
  if (p.timeoutMs !== undefined) {
    const t = p.timeoutMs;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > L.maxTimeoutMs) {
      fail(`params.timeoutMs must be an integer from 1 to ${L.maxTimeoutMs}`);
    }
    out.timeoutMs = t as number;
  }
  return out;
}

/** One response line, newline included. */
export function encodeResponse(response: ControlResponse): string {
  return JSON.stringify(response) + '\n';
}

/**
 * Parses one response line (client side). Throws `RuntimeError` (`CONTROL_UNAVAILABLE`) when
 * it is oversize, not JSON, or not a response.
 */
export function parseControlResponse(line: string): ControlResponse {
  const bad = (what: string): never => {
    throw new RuntimeError(
      'CONTROL_UNAVAILABLE',
      `malformed answer from the session host: ${what}`,
    );
  };
  if (Buffer.byteLength(line, 'utf8') > MAX_RESPONSE_BYTES)
    bad(`longer than ${MAX_RESPONSE_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return bad('not JSON');
  }
  if (!isPlainObject(raw)) return bad('not an object');
  const id = raw.id === null || isRequestId(raw.id) ? (raw.id as RequestId | null) : bad('bad id');
  if (raw.ok === true && 'value' in raw) return { id, ok: true, value: raw.value };
  if (raw.ok === false && isPlainObject(raw.error)) {
    const { code, message } = raw.error;
    if (typeof code === 'string' && typeof message === 'string')
      return { id, ok: false, error: { code, message } };
  }
  return bad('neither a value nor an error');
}
