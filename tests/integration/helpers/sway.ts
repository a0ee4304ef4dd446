/**
 * sway in headless mode for the input, clipboard and window tests: it refuses root, so it runs
 * as `uid` (nobody) in a private folder that is also its XDG_RUNTIME_DIR, with a config of
 * the test's own; returns the process and the path of its Wayland socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './weston.js';

/** A tiled window fills the 800×600 output exactly: no bar, no borders. */
export const SWAY_800x600 =
  'output HEADLESS-1 resolution 800x600\ndefault_border none\ndefault_floating_border none\n';

export async function startHeadlessSway(
  dir: string,
  config: string,
  uid: number,
): Promise<{ sway: ChildProcess; socket: string }> {
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
  await waitFor('sway socket', () => (existsSync(socket) ? true : undefined));
  return { sway, socket };
}
