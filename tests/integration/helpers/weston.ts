import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodePng, type PngImage } from '../../fixtures/bridge/png.js';

const run = promisify(execFile);

/**
 * Polls `probe` every 20 ms until it returns (or resolves to) a value; throws naming `what` after
 * `timeoutMs`. An async probe is awaited: its promise is not the value.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A weston 10 headless compositor in a private runtime directory. */
export interface HeadlessWeston {
  /** The private `XDG_RUNTIME_DIR` (0700); removed by `stop()`. */
  dir: string;
  /** Absolute path of weston's socket. */
  socket: string;
  /** Takes a screenshot of the output (`weston-screenshooter`) and decodes it. */
  screenshot(): Promise<PngImage>;
  /** Kills weston and removes its runtime directory. */
  stop(): void;
}

/**
 * Starts `weston --backend=headless-backend.so --use-pixman --debug` (the screenshooter only
 * answers with `--debug`, and only with pixman) at 1024×768 and returns once it serves: its
 * socket exists and a first screenshot came back (desktop-shell starts its helpers
 * asynchronously).
 */
export async function startHeadlessWeston(
  prefix: string,
  /** Run weston (and the screenshooter) as this account instead of the test's own. */
  user?: { uid: number; gid: number; home: string },
): Promise<HeadlessWeston> {
  // mkdtemp creates the directory 0700, as libwayland wants a runtime directory.
  const dir = mkdtempSync(`/tmp/${prefix}`);
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const as =
    user === undefined ? {} : { uid: user.uid, gid: user.gid, env: { HOME: user.home } as const };
  const weston: ChildProcess = spawn(
    'weston',
    [
      '--backend=headless-backend.so',
      '--use-pixman',
      '--socket=host-0',
      '--idle-time=0',
      '--width=1024',
      '--height=768',
      '--debug',
    ],
    {
      env: { ...process.env, ...as.env, XDG_RUNTIME_DIR: dir },
      stdio: 'ignore',
      ...(user !== undefined ? { uid: user.uid, gid: user.gid } : {}),
    },
  );
  const socket = join(dir, 'host-0');
  const screenshot = async (): Promise<PngImage> => {
    const shotDir = mkdtempSync(join(dir, 'shot-'));
    if (user !== undefined) chownSync(shotDir, user.uid, user.gid);
    await run('weston-screenshooter', [], {
      cwd: shotDir,
      env: { ...process.env, ...as.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: 'host-0' },
      timeout: 10_000,
      ...(user !== undefined ? { uid: user.uid, gid: user.gid } : {}),
    });
    const file = readdirSync(shotDir).find((name) => name.endsWith('.png'));
    if (file === undefined) throw new Error('weston-screenshooter wrote no PNG');
    return decodePng(readFileSync(join(shotDir, file)));
  };
  const stop = (): void => {
    weston.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('weston socket', () => (existsSync(socket) ? true : undefined));
    await screenshot();
  } catch (e) {
    stop();
    throw e;
  }
  return { dir, socket, screenshot, stop };
}
