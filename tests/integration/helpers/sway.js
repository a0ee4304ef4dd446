// sway in headless mode for the input, clipboard and window tests and the input bench: it
// refuses root, so it runs as `uid` (nobody) in a private folder that is also its
// XDG_RUNTIME_DIR, with a config of the caller's own. Plain JavaScript (typed by sway.d.ts) so
// that the benchmarks, which node runs without a TypeScript step, start it the same way.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A tiled window fills the 800×600 output exactly: no bar, no borders. */
export const SWAY_800x600 =
  'output HEADLESS-1 resolution 800x600\ndefault_border none\ndefault_floating_border none\n';

const SOCKET_TIMEOUT_MS = 10_000;

/**
 * Starts sway as `uid` in `dir` with `config`; resolves once its Wayland socket exists, rejects
 * when sway exits first or the socket does not appear within 10 s (sway is killed then).
 */
export async function startHeadlessSway(dir, config, uid) {
  writeFileSync(join(dir, 'config'), config);
  chownSync(dir, uid, uid);
  chownSync(join(dir, 'config'), uid, uid);
  chmodSync(dir, 0o700);
  const sway = spawn('sway', ['-c', join(dir, 'config')], {
    cwd: dir,
    uid,
    gid: uid,
    env: {
      PATH: '/usr/bin:/bin',
      HOME: dir,
      XDG_RUNTIME_DIR: dir,
      WLR_BACKENDS: 'headless',
      WLR_RENDERER: 'pixman',
      WLR_LIBINPUT_NO_DEVICES: '1',
    },
    stdio: 'ignore',
  });
  const socket = join(dir, 'wayland-1');
  const deadline = Date.now() + SOCKET_TIMEOUT_MS;
  while (!existsSync(socket)) {
    if (sway.exitCode !== null || sway.signalCode !== null)
      throw new Error(`sway exited (${sway.exitCode ?? sway.signalCode}) before serving`);
    if (Date.now() > deadline) {
      sway.kill();
      throw new Error('timed out waiting for sway socket');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { sway, socket };
}

/** Stops a sway started by `startHeadlessSway` and waits until it has exited. */
export async function stopHeadlessSway(sway) {
  if (sway.exitCode !== null || sway.signalCode !== null) return;
  const gone = new Promise((resolve) => sway.once('exit', resolve));
  sway.kill();
  await gone;
}
