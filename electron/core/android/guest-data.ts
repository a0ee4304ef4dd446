/**
 * The guest's `/data` seen from the host. The demo guest (with stand-in Android tools) and
 * Android images both mount the instance's `guestDataDir` at `/data`, so a guest path under
 * `/data` has a host twin. The guest owns everything in there and may plant symlinks, so the
 * mapping refuses `..`, anything outside `/data`, and any existing component that is a symlink
 * (checked with `lstat`, from the data folder down). A guest may still swap a folder for a
 * symlink after the check: open the result with `O_NOFOLLOW` and check what was opened.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sessionPaths } from '../runtime/session-service.js';
import type { InstanceRoots } from '../runtime/instance-paths.js';
import { AndroidError } from './android-errors.js';

/** Where the guest's data lives in the guest. */
export const GUEST_DATA_DIR = '/data';

/**
 * The host path of `guestPath` (absolute, under `/data`) in `instance`'s guest data folder.
 * Rejects with `GUEST_PATH_UNSAFE` for a relative path, a `..` or `.` component, a NUL or
 * control character, a path outside `/data`, or an existing component that is a symlink (or
 * not a folder, where one is needed). The last component need not exist.
 */
export async function guestDataPathToHost(
  instance: string,
  guestPath: string,
  roots: InstanceRoots = {},
): Promise<string> {
  const refuse = (why: string): never => {
    throw new AndroidError(
      'GUEST_PATH_UNSAFE',
      `guest path ${JSON.stringify(String(guestPath).slice(0, 200))} ${why}`,
    );
  };
  if (typeof guestPath !== 'string' || guestPath.length > 4096) refuse('is not a usable path');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(guestPath)) refuse('holds a control character');
  if (!guestPath.startsWith('/')) refuse('is not absolute');
  const parts = guestPath.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.')) refuse('has a . or .. component');
  if (parts[0] !== 'data') refuse(`is not under ${GUEST_DATA_DIR}`);
  const base = sessionPaths(instance, roots).guestDataDir;
  let host = base;
  for (const [i, part] of parts.slice(1).entries()) {
    host = path.join(host, part);
    const st = await fs.lstat(host).catch(() => null);
    if (st === null) continue;
    if (st.isSymbolicLink()) refuse('reaches through a symbolic link');
    if (i < parts.length - 2 && !st.isDirectory()) refuse('goes through something not a folder');
  }
  return host;
}
