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
import { sessionPaths } from '../runtime/session-client.js';
import type { InstanceRoots } from '../runtime/instance-paths.js';
import { createReadStream, createWriteStream, existsSync, fstatSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { closeFd } from '../native/fd.js';
import { fdChannelCall, fdChannelPath } from '../runtime/fd-channel.js';
import { AndroidError } from './android-errors.js';

/** Where the guest's data lives in the guest. */
export const GUEST_DATA_DIR = '/data';

/**
 * A desktop user cannot read the guest's `/data` (root-owned, inside the instance's folder): the
 * session host opens the file with the same checks (`open-data`) and passes the fd. The bytes
 * are copied into this user's cache (`$XDG_CACHE_HOME/droidway/guest-files/`, 0700), named by
 * the original's device, inode, size and change time, so an unchanged file is copied once and
 * readers (which open paths with `O_NOFOLLOW`) get a plain private file.
 */
async function openThroughHost(controlDir: string, guestPath: string): Promise<string> {
  let answer: { fds: number[] };
  try {
    answer = await fdChannelCall(
      fdChannelPath(controlDir),
      { op: 'open-data', path: guestPath },
      [],
      10_000,
    );
  } catch (e) {
    throw new AndroidError(
      'GUEST_PATH_UNSAFE',
      `guest path ${JSON.stringify(guestPath.slice(0, 200))} cannot be read: ${(e as Error).message}`,
    );
  }
  const fd = answer.fds[0];
  if (fd === undefined)
    throw new AndroidError('GUEST_PATH_UNSAFE', `the session host passed no file for ${guestPath}`);
  // Once a read stream owns the fd, it closes it (autoClose); until then, this function does.
  let streamOwnsFd = false;
  try {
    const st = fstatSync(fd, { bigint: true });
    const dir = path.join(
      process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME)
        ? process.env.XDG_CACHE_HOME
        : path.join(os.homedir(), '.cache'),
      'droidway',
      'guest-files',
    );
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${st.dev}-${st.ino}-${st.size}-${st.ctimeNs}`);
    if (existsSync(file)) return file;
    // Unique per call: two readers of the same file at once (the grid and the install's own
    // refresh) must not write one temporary file and lose it to each other's rename.
    const tmp = `${file}.tmp-${process.pid}-${randomUUID()}`;
    const source = createReadStream('', { fd, autoClose: true });
    streamOwnsFd = true;
    try {
      await pipeline(source, createWriteStream(tmp, { mode: 0o600 }));
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
    return file;
  } finally {
    if (!streamOwnsFd) closeFd(fd);
  }
}

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
  const paths = sessionPaths(instance, roots);
  if (process.getuid?.() !== 0) return openThroughHost(paths.controlDir, guestPath);
  const base = paths.guestDataDir;
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
