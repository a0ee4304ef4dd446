/**
 * The privileged helper's requests: a closed set, each checked against a JSON schema before the
 * helper acts on it. A request arrives from a desktop user's process (through `pkexec`) and is
 * treated as hostile: no unknown keys, bounded strings and numbers, instance names by their own
 * grammar, the policy as a document the helper validates and compiles itself.
 *
 * The answer is one JSON line: `{"ok":true,"value":…}` or `{"ok":false,"error":{"code","message"}}`.
 */
import type { ValidateFunction } from 'ajv';
import { validateHelperRequest as validateGenerated } from '../../generated/helper-request.js';

/** Longest request (bytes). */
export const MAX_HELPER_REQUEST_BYTES = 1024 * 1024;

/** Where a session's policy comes from: a preset by name, or a whole policy document. */
export type HelperPolicySource = { preset: string } | { document: unknown };

/** Start the instance's session as the caller's. */
export interface SessionStartRequest {
  op: 'session-start';
  instance: string;
  /** `demo`, or the name of an image in Droidway's store or Waydroid's folders. */
  image: string;
  policy: HelperPolicySource;
  /** Demo guest only: a folder of stand-in Android tools, which the caller must be able to read. */
  androidTools?: string;
  readyTimeoutMs?: number;
  /** The display settings (`StartSessionOptions`): host scale, density override, multi-window. */
  scale?: number;
  density?: number;
  multiWindows?: boolean;
}

/** Stop the caller's session of the instance (also one whose host no longer answers). */
export interface SessionStopRequest {
  op: 'session-stop';
  instance: string;
  timeoutSeconds?: number;
}

/** A validated request. */
export type HelperRequest = SessionStartRequest | SessionStopRequest;

/** The answer line. */
export type HelperAnswer =
  { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

/** Why a request was refused before anything ran. */
export class HelperRequestError extends Error {
  readonly code = 'HELPER_BAD_REQUEST';
  constructor(message: string) {
    super(message);
    this.name = 'HelperRequestError';
  }
}

/**
 * Parses and validates one request's text. Throws `HelperRequestError` naming the first problem.
 * @param text the request as it arrived (at most `MAX_HELPER_REQUEST_BYTES`)
 */
export function parseHelperRequest(text: string): HelperRequest {
  if (Buffer.byteLength(text) > MAX_HELPER_REQUEST_BYTES)
    throw new HelperRequestError(`the request is larger than ${MAX_HELPER_REQUEST_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HelperRequestError('the request is not JSON');
  }
  const validate = validateGenerated as ValidateFunction<HelperRequest>;
  if (!validate(value)) {
    const e = validate.errors?.find((x) => x.keyword !== 'oneOf') ?? validate.errors?.[0];
    throw new HelperRequestError(
      `the request is invalid${e ? `: ${e.instancePath || '/'} ${e.message ?? ''}` : ''}`,
    );
  }
  return value;
}

/**
 * Reads the answer line the helper printed. Anything that is not an answer is reported as such
 * (the helper may have died before writing one).
 */
export function parseHelperAnswer(text: string): HelperAnswer | null {
  const line = text.trim().split('\n').pop() ?? '';
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const a = value as {
    ok?: unknown;
    value?: unknown;
    error?: { code?: unknown; message?: unknown };
  };
  if (a?.ok === true) return { ok: true, value: a.value };
  if (a?.ok === false && typeof a.error?.code === 'string' && typeof a.error.message === 'string')
    return { ok: false, error: { code: a.error.code, message: a.error.message } };
  return null;
}
