/**
 * Resource use of a running container from its cgroup: memory charged and tasks, read through
 * the cgroup of its init (`/proc/<pid>/cgroup`), on cgroup v1 (per-controller hierarchies) and
 * v2 (one unified hierarchy).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionResources } from '../../shared/session-view.js';

/** Where the files are; tests point them at fixtures. */
export interface CgroupRoots {
  procRoot?: string;
  cgroupRoot?: string;
}

/** The cgroup paths of one process, from `/proc/<pid>/cgroup`. */
export interface ProcessCgroups {
  /** cgroup v1 controller → path (`memory` → `/lxc.payload.droidway-x`). */
  v1: Map<string, string>;
  /** The v2 path (`0::/…`), or null. */
  v2: string | null;
}

/**
 * Parses `/proc/<pid>/cgroup` (`hierarchy-id:controllers:path` per line). Lines that do not
 * have that shape, or whose path is not absolute or climbs (`..`), are skipped: the text comes
 * from a process inside the container's namespaces and is not trusted further than that.
 */
export function parseProcCgroup(text: string): ProcessCgroups {
  const out: ProcessCgroups = { v1: new Map(), v2: null };
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(\/[^\0]*)$/.exec(line);
    if (match === null) continue;
    const [, id, controllers, path] = match as unknown as [string, string, string, string];
    if (path.split('/').includes('..')) continue;
    if (id === '0' && controllers === '') {
      out.v2 = path;
      continue;
    }
    for (const name of controllers.split(',')) {
      if (/^[a-z_]+$/.test(name)) out.v1.set(name, path);
    }
  }
  return out;
}

/** Reads memory and task counts of `pid`'s cgroup; each is null when its file is not there. */
export async function readCgroupUsage(
  pid: number,
  roots: CgroupRoots = {},
): Promise<SessionResources> {
  const procRoot = roots.procRoot ?? '/proc';
  const cgroupRoot = roots.cgroupRoot ?? '/sys/fs/cgroup';
  let cgroups: ProcessCgroups;
  try {
    cgroups = parseProcCgroup(await readFile(join(procRoot, String(pid), 'cgroup'), 'utf8'));
  } catch {
    return { memoryBytes: null, pids: null };
  }
  const memoryV1 = cgroups.v1.get('memory');
  const pidsV1 = cgroups.v1.get('pids');
  const memoryBytes =
    memoryV1 !== undefined
      ? await readCount(join(cgroupRoot, 'memory', memoryV1, 'memory.usage_in_bytes'))
      : cgroups.v2 !== null
        ? await readCount(join(cgroupRoot, cgroups.v2, 'memory.current'))
        : null;
  const pids =
    pidsV1 !== undefined
      ? await readCount(join(cgroupRoot, 'pids', pidsV1, 'pids.current'))
      : cgroups.v2 !== null
        ? await readCount(join(cgroupRoot, cgroups.v2, 'pids.current'))
        : null;
  return { memoryBytes, pids };
}

/** A file holding one non-negative decimal count, or null when missing or malformed. */
async function readCount(file: string): Promise<number | null> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch {
    return null;
  }
  if (!/^\d{1,18}$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
