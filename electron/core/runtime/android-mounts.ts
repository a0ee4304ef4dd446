/**
 * Where an Android session's host mounts live, and how they are released.
 *
 * `session start --image` mounts the image layout (`mountAndroidImage`) and binderfs before the
 * session host starts, because the policy can only be compiled once binderfs has given the
 * devices their numbers. Those mounts therefore sit beside the instance's runtime folder, in
 * `<runtime>.android`, not inside it: the host's claim of the instance and the session's
 * pre-start cleanup detach everything under the runtime folder, and would take the fresh rootfs
 * with them. Instance names cannot hold a `.`, so the folder never collides with an instance.
 *
 * The session releases the folder after every end of its container (stop, crash, failed start);
 * the next `session start --image` releases what a crashed host left.
 */
import fs from 'node:fs/promises';
import { cleanupImageMounts } from '../images/image-mount.js';
import { removeTree, unmountUnder, type CleanupReport } from './host-cleanup.js';
import type { InstancePaths } from './instance-paths.js';

/** The folder holding the instance's image mounts, binderfs and properties file. */
export function androidMountDir(paths: InstancePaths): string {
  return `${paths.runtimeDir}.android`;
}

/**
 * Releases everything under `androidMountDir(paths)`: the image mounts in reverse order with
 * their loop devices (per the mount record), then anything else mounted there (binderfs), then
 * the folder itself. A no-op when the folder does not exist. Never rejects: what it did and
 * what it could not do are added to `report`. Call it only once the container has ended.
 */
export async function releaseAndroidMounts(
  paths: InstancePaths,
  report: CleanupReport,
): Promise<void> {
  const dir = androidMountDir(paths);
  const present = await fs.lstat(dir).then(
    () => true,
    () => false,
  );
  if (!present) return;
  const images = await cleanupImageMounts(dir, paths.dataDir);
  report.unmounted.push(...images.unmounted);
  report.problems.push(...images.problems);
  await unmountUnder([dir], report);
  // removeTree keeps the folder when a mount survived, so no delete reaches through it.
  await removeTree(dir, report);
}
