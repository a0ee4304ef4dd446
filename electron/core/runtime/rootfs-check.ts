/**
 * The check every rootfs passes before LXC sees it. LXC mounts procfs, sysfs and the device
 * tmpfs onto `proc`, `sys` and `dev` of the rootfs; if one of them were a symlink, a crafted
 * image could point the mount (and what the runtime later writes there) at a host path, the
 * shape of CVE-2015-1335. So they must be real directories, not symlinks, as must the rootfs.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { RuntimeError, isErrno } from './runtime-errors.js';

/** Entries of a rootfs that must be real directories. */
export const REQUIRED_ROOTFS_DIRS = ['proc', 'sys', 'dev'] as const;

/**
 * Resolves to the rootfs path once it is an absolute path to a real directory whose `proc`,
 * `sys` and `dev` are real directories. Throws `RuntimeError` (`ROOTFS_UNSAFE`) naming the
 * offending entry otherwise (missing, a symlink, not a directory).
 */
export async function checkRootfs(rootfs: string): Promise<string> {
  if (!path.isAbsolute(rootfs)) {
    throw new RuntimeError(
      'ROOTFS_UNSAFE',
      `rootfs ${JSON.stringify(rootfs)} is not an absolute path`,
    );
  }
  await expectRealDir(rootfs, 'the rootfs');
  for (const entry of REQUIRED_ROOTFS_DIRS) {
    await expectRealDir(path.join(rootfs, entry), `/${entry} of the rootfs`);
  }
  return rootfs;
}

async function expectRealDir(p: string, what: string): Promise<void> {
  let st;
  try {
    st = await fs.lstat(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT'))
      throw new RuntimeError('ROOTFS_UNSAFE', `${what} (${p}) does not exist`);
    throw new RuntimeError(
      'ROOTFS_UNSAFE',
      `${what} (${p}) cannot be examined: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  if (st.isSymbolicLink()) {
    throw new RuntimeError(
      'ROOTFS_UNSAFE',
      `${what} (${p}) is a symlink; refusing to mount onto it`,
    );
  }
  if (!st.isDirectory()) {
    throw new RuntimeError('ROOTFS_UNSAFE', `${what} (${p}) is not a directory`);
  }
}
