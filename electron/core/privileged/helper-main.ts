/**
 * Entry point of Droidway's privileged helper, the only code that runs as root for a desktop
 * user. Started by `pkexec` through the polkit action `org.droidway.helper` (`build/polkit`),
 * whose `exec.path` names the wrapper that runs this script (`build/scripts/droidway-helper`,
 * installed root-owned by setup or by the package):
 *
 *     pkexec /usr/local/libexec/droidway-helper   < one JSON request on stdin
 *                                                  > one JSON answer line on stdout
 *
 * The caller is `PKEXEC_UID` (set by pkexec, which is setuid root and clears the environment);
 * without it the caller is the real uid. Exit status: 0 answered ok, 1 answered with an error,
 * 2 could not answer (not root, files writable by others).
 *
 * A started session is hosted by this same process: it leaves the caller's terminal session
 * first (`setsid`, so neither the caller's terminal nor its process group can signal what it
 * starts), answers, then points its stdio at the session's log, which closes the caller's pipes
 * (the caller stops waiting at the answer's end of file), and stays the session host until the
 * session ends. A root process started by pkexec cannot be signalled or traced by the caller.
 * That saves the second Node start a spawned host would cost (see README: "Benchmarks").
 * When `setsid` is refused (a shell started the helper as its own process group), the session
 * gets a host process of its own as for a root caller.
 */
import { readFileSync } from 'node:fs';
import { newSession, replaceStdio } from '../native/index.js';
import type { HostedHere } from '../runtime/session-host-launcher.js';
import { packageRoot } from '../package-root.js';
import { tamperableHelperPath } from './helper-checks.js';
import {
  MAX_HELPER_REQUEST_BYTES,
  parseHelperRequest,
  type HelperAnswer,
} from './helper-request.js';
import { handleHelperRequest, type HelperCaller } from './helper-service.js';

function answer(a: HelperAnswer): void {
  process.stdout.write(`${JSON.stringify(a)}\n`);
}

function fail(code: string, message: string): number {
  answer({ ok: false, error: { code, message } });
  return 1;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_HELPER_REQUEST_BYTES) throw new Error('request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function callerOf(env: NodeJS.ProcessEnv): HelperCaller | null {
  const raw = env.PKEXEC_UID;
  const uid = raw === undefined ? (process.getuid?.() ?? 0) : Number(raw);
  if (!/^[0-9]{1,10}$/.test(String(uid)) || uid >= 0xffffffff) return null;
  return { uid, gid: passwdGid(uid) ?? uid };
}

/** The primary gid of `uid` in /etc/passwd, or null. */
function passwdGid(uid: number): number | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && Number(f[2]) === uid) return Number(f[3]);
    }
  } catch {
    // Unreadable: the caller's gid is taken to be its uid.
  }
  return null;
}

async function main(): Promise<number> {
  if (process.geteuid?.() !== 0)
    return fail('HELPER_NOT_ROOT', 'the Droidway helper must be started through pkexec');
  const root = packageRoot();
  if (root === null) return fail('HELPER_BROKEN', 'the helper cannot find its own files');
  const tamperable = tamperableHelperPath(root);
  if (tamperable !== null)
    return fail(
      'HELPER_UNSAFE',
      `refusing to run as root: ${tamperable} can be changed by a user other than root (install Droidway root-owned)`,
    );
  const caller = callerOf(process.env);
  if (caller === null) return fail('HELPER_BAD_REQUEST', 'PKEXEC_UID is not a uid');
  let detached = false;
  try {
    newSession();
    detached = true;
  } catch {
    // A process group leader (started by a shell): a started session gets its own host process.
  }
  let text: string;
  try {
    text = await readStdin();
  } catch (e) {
    return fail('HELPER_BAD_REQUEST', (e as Error).message);
  }
  const hosting: { session?: HostedHere } = {};
  try {
    const request = parseHelperRequest(text);
    const value = await handleHelperRequest(
      request,
      caller,
      {},
      { hostHere: detached, onHosted: (h) => (hosting.session = h) },
    );
    answer({ ok: true, value });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return fail(
      typeof code === 'string' ? code : 'HELPER_FAILED',
      e instanceof Error ? e.message : String(e),
    );
  }
  const hosted = hosting.session;
  if (hosted === undefined) return 0;
  replaceStdio(hosted.logFd);
  process.exit(await hosted.untilDone());
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`droidway-helper: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
