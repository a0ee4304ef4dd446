/**
 * Cleaning an instance: after its container ended (every stop, crash or failed start), and at
 * the next start when a host crashed and left a stale session behind.
 */
import fs from 'node:fs/promises';
import {
  DEFAULT_CGROUP_ROOT,
  emptyReport,
  findContainerCgroups,
  removeCgroupTree,
  removeTree,
  unmountUnder,
  type CleanupReport,
} from './host-cleanup.js';
import { isHostAlive, readHostRecord, type HostRecord } from './host-record.js';
import type { InstancePaths } from './instance-paths.js';
import { lxcInfo, lxcKill, lxcWait, type LxcTarget } from './lxc.js';
import { RuntimeError } from './runtime-errors.js';

/** The LXC target of an instance. */
export function lxcTargetOf(paths: InstancePaths): LxcTarget {
  return { name: paths.containerName, lxcPath: paths.lxcPath, logFile: paths.lxcLog };
}

/** Options of the cleanup functions. */
export interface CleanupOptions {
  cgroupRoot?: string;
  /** Also ask LXC to kill a container still running under the instance's LXC path. */
  stopLiveContainer?: boolean;
}

/**
 * Removes what the instance's container left: a still-running container (when
 * `stopLiveContainer`), its cgroups, mounts under the runtime and data folders, the LXC folder
 * and the guest run dir, then the runtime folder when nothing else is in it. The control folder
 * and host record stay: they belong to the host.
 */
export async function cleanupContainer(
  paths: InstancePaths,
  options: CleanupOptions = {},
): Promise<CleanupReport> {
  const report = emptyReport();
  // Every container of ours is started from a config under `lxcPath`, and a crashed host leaves
  // that folder behind; without it there is nothing LXC could still run, and the lxc-info call
  // (a process spawn on every session start) is skipped.
  if (options.stopLiveContainer && (await exists(paths.lxcPath))) {
    const target = lxcTargetOf(paths);
    const info = await lxcInfo(target).catch(() => null);
    if (info !== null && info.state !== 'STOPPED') {
      await lxcKill(target).catch((e: unknown) => {
        report.problems.push(
          `lxc-stop -k of ${paths.containerName} failed: ${(e as Error).message}`,
        );
      });
      // The orphaned lxc-start tears down after the kill; a new start under the same name must wait.
      await lxcWait(target, ['STOPPED'], 5).catch((e: unknown) => {
        report.problems.push(
          `${paths.containerName} did not stop after lxc-stop -k: ${(e as Error).message}`,
        );
      });
    }
  }
  for (const dir of await findContainerCgroups(
    paths.containerName,
    options.cgroupRoot ?? DEFAULT_CGROUP_ROOT,
  )) {
    await removeCgroupTree(dir, report);
  }
  await unmountUnder([paths.runtimeDir, paths.dataDir], report);
  await removeTree(paths.lxcPath, report);
  await removeTree(paths.guestRunDir, report);
  await removeTree(paths.rootfsDir, report);
  await removeTree(paths.guestDataMount, report);
  await fs.rm(paths.maskFile, { force: true }).catch(() => {});
  // The runtime folder goes once empty; while a host runs, its control folder keeps it.
  await fs.rmdir(paths.runtimeDir).catch(() => {});
  return report;
}

/** What `reclaimInstance` found. */
export type ReclaimResult =
  | { kind: 'free' }
  | { kind: 'stale'; record: HostRecord | 'corrupt' | null; report: CleanupReport };

/**
 * Makes the instance free for a new host. A live host (its record's pid runs with the same
 * start time) makes this throw `SESSION_ALREADY_RUNNING`. Runtime files without a live host are
 * a stale session from a crashed host: its container is killed, cgroups, mounts and the runtime
 * folder are removed, and what was cleaned is returned.
 */
export async function reclaimInstance(
  paths: InstancePaths,
  options: CleanupOptions = {},
): Promise<ReclaimResult> {
  const record = await readHostRecord(paths.hostRecord);
  if (
    record !== null &&
    record !== 'corrupt' &&
    record.pid !== process.pid &&
    (await isHostAlive(record))
  ) {
    throw new RuntimeError(
      'SESSION_ALREADY_RUNNING',
      `instance ${paths.name} is owned by a running session host (pid ${record.pid})`,
    );
  }
  const exists = await fs
    .lstat(paths.runtimeDir)
    .then(() => true)
    .catch(() => false);
  const cgroups = await findContainerCgroups(
    paths.containerName,
    options.cgroupRoot ?? DEFAULT_CGROUP_ROOT,
  );
  if (!exists && cgroups.length === 0) return { kind: 'free' };
  const report = await cleanupContainer(paths, { ...options, stopLiveContainer: exists });
  await removeTree(paths.runtimeDir, report);
  return { kind: 'stale', record, report };
}

async function exists(path: string): Promise<boolean> {
  return fs.lstat(path).then(
    () => true,
    () => false,
  );
}
