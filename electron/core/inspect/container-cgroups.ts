/**
 * Where a container's cgroups are on this host: LXC's `lxc.payload.NAME` and `lxc.monitor.NAME`
 * folders, found by reading the cgroup mounts. Read by the host cleanup (to kill and remove them)
 * and by the shared-memory view (to list the container's processes).
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Where cgroup hierarchies are mounted. */
export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The cgroup folders of container `containerName`: `lxc.payload.NAME`, `lxc.monitor.NAME` and
 * LXC's collision variants (`…NAME-1`), at the root of a cgroup v2 mount and at the root of
 * each hierarchy below `cgroupRoot` (v1 and hybrid hosts).
 */
export async function findContainerCgroups(
  containerName: string,
  cgroupRoot = DEFAULT_CGROUP_ROOT,
): Promise<string[]> {
  const pattern = new RegExp(
    `^lxc\\.(payload|monitor)\\.${escapeRegExp(containerName)}(-[0-9]+)?$`,
  );
  const found: string[] = [];
  const scan = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const full = path.join(dir, entry.name);
      if (pattern.test(entry.name)) found.push(full);
      else if (depth > 0 && !entry.name.startsWith('lxc.')) await scan(full, depth - 1);
    }
  };
  await scan(cgroupRoot, 1);
  return found.sort();
}
