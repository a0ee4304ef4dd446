/**
 * The desktop user's side of the privileged helper: sends one request and returns the helper's
 * answer. A root caller (CI, a root shell) runs the same validated request in-process; anyone
 * else goes through `pkexec` and the polkit action `org.droidway.helper`, so the desktop's
 * authentication agent (or pkexec's text agent on a terminal) asks once and polkit keeps the
 * authorization for a while (`auth_admin_keep`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseHelperAnswer, parseHelperRequest, type HelperRequest } from './helper-request.js';
import { handleHelperRequest } from './helper-service.js';

/** Where setup and the packages install the helper wrapper that polkit's action names. */
export const HELPER_PATHS = [
  '/usr/local/libexec/droidway-helper',
  '/usr/libexec/droidway-helper',
  '/opt/Droidway/resources/droidway-helper',
] as const;

/** The polkit action the helper runs under. */
export const HELPER_ACTION = 'org.droidway.helper';

/** A failure to reach the helper, or its refusal, in plain words. */
export class PrivilegedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'PrivilegedError';
    this.code = code;
  }
}

/** The installed helper, or null. `DROIDWAY_HELPER` overrides the search (tests, packagers). */
export function findHelper(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env.DROIDWAY_HELPER;
  if (override !== undefined && override !== '') return existsSync(override) ? override : null;
  return HELPER_PATHS.find((p) => existsSync(p)) ?? null;
}

/** Options of `privilegedRequest`. */
export interface PrivilegedOptions {
  env?: NodeJS.ProcessEnv;
  /** The pkexec binary; default `pkexec` on PATH. */
  pkexec?: string;
  /** Longest wait for the answer (authentication included); default 180 s. */
  timeoutMs?: number;
}

/**
 * Sends `request` to the privileged helper and resolves with its value. Rejects with the
 * helper's own error code and message (a `PolicyError`'s `POLICY_INVALID`, the runtime's
 * `SESSION_ALREADY_RUNNING`…), or `HELPER_MISSING` / `HELPER_REFUSED` (polkit said no) /
 * `HELPER_FAILED` as a `PrivilegedError`.
 */
export async function privilegedRequest(
  request: HelperRequest,
  options: PrivilegedOptions = {},
): Promise<unknown> {
  // The same validation the helper makes, so a bad request fails here with the same words.
  const validated = parseHelperRequest(JSON.stringify(request));
  if (process.getuid?.() === 0) return handleHelperRequest(validated, { uid: 0, gid: 0 });
  const env = options.env ?? process.env;
  const helper = findHelper(env);
  if (helper === null)
    throw new PrivilegedError(
      'HELPER_MISSING',
      "Droidway's privileged helper is not installed, so a session cannot start for a desktop user; run `sudo bash build/scripts/setup.sh` (or install the Droidway package)",
    );
  const pkexec = options.pkexec ?? 'pkexec';
  const { code, stdout, stderr } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn(pkexec, [helper], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...env },
    });
    let out = '';
    let err = '';
    let settled = false;
    const settle = (code: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, stdout: out, stderr: err });
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 8 * 1024 * 1024) out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 64 * 1024) err += d;
    });
    // A helper that started a session goes on as its host: its answer ends with its stdout, not
    // with its exit, and this process does not wait for (nor keep running for) the host.
    child.stdout.on('end', () => {
      if (parseHelperAnswer(out) === null) return;
      child.unref();
      child.stderr.destroy();
      settle(null);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 180_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      settled = true;
      reject(
        new PrivilegedError(
          'HELPER_MISSING',
          `pkexec could not be run (${e.message}); install the pkexec and polkitd packages`,
        ),
      );
    });
    child.on('close', (c) => settle(c));
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(validated));
  });
  const answer = parseHelperAnswer(stdout);
  if (answer !== null) {
    if (answer.ok) return answer.value;
    const e = new PrivilegedError(answer.error.code, answer.error.message);
    throw e;
  }
  // pkexec's own statuses: 126 = not authorized or the dialog was dismissed, 127 = failed to
  // authenticate or the program could not be run.
  if (code === 126 || code === 127)
    throw new PrivilegedError(
      'HELPER_REFUSED',
      `you are not allowed to start Droidway sessions: polkit refused the action ${HELPER_ACTION}${
        /dismissed/i.test(stderr) ? ' (the authentication was dismissed)' : ''
      }. An administrator can allow it (see README: "Running as a desktop user").`,
    );
  throw new PrivilegedError(
    'HELPER_FAILED',
    `the privileged helper ended without an answer (status ${code ?? 'killed'}): ${stderr.trim().split('\n').pop() ?? ''}`,
  );
}
