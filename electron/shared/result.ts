/**
 * The shape every IPC result has when it crosses the process boundary: a value, or an error with
 * a stable `code` the renderer can branch on and a `message` a person can read. Thrown errors do
 * not survive `contextBridge` intact (only their message does), so handlers never throw across it.
 */

/** An error that crossed a process boundary: plain data, no stack. */
export interface ResultError {
  /** Stable, machine-readable code, e.g. `'IPC_BAD_ARGS'`, `'ENOENT'`, `'INTERNAL'`. */
  code: string;
  /** What went wrong, for a person. */
  message: string;
}

/** A value or an error; check `ok` before touching either. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ResultError };

/** Wraps a value as a successful result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** Makes a failed result with `code` and `message`. */
export function err<T = never>(code: string, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

/** Code used for thrown values that carry no `code` of their own. */
export const INTERNAL_ERROR_CODE = 'INTERNAL';

/**
 * Turns anything thrown into a `ResultError`: keeps a string `code` when the error has one (Node
 * system errors, `ValidationError`, the native module's errors), else uses `'INTERNAL'`. Only the
 * code and message are kept, so no stack or path-bearing property leaks to the renderer.
 */
export function toResultError(thrown: unknown): ResultError {
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code;
    return {
      code: typeof code === 'string' && code.length > 0 ? code : INTERNAL_ERROR_CODE,
      message: thrown.message || thrown.name,
    };
  }
  return { code: INTERNAL_ERROR_CODE, message: String(thrown) };
}

/**
 * Runs `fn` and returns its value as a `Result`; a throw or rejection becomes an error result
 * (see `toResultError`). Never rejects.
 */
export async function settle<T>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return ok(await fn());
  } catch (thrown) {
    return { ok: false, error: toResultError(thrown) };
  }
}

/** Whether `value` has the structural shape of a `Result` (used where a result arrives untyped). */
export function isResult(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r.ok === true) return 'value' in r;
  if (r.ok !== false || typeof r.error !== 'object' || r.error === null) return false;
  const e = r.error as Record<string, unknown>;
  return typeof e.code === 'string' && typeof e.message === 'string';
}
