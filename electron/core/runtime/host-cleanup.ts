/**
 * Removing what a container leaves on the host when it ends, or when its host process crashed:
 * cgroups (`lxc.payload.NAME`, `lxc.monitor.NAME` in every hierarchy; LXC usually removes them,
 * a crash can leave them), mounts under the instance's folders, and the per-session files.
 * Each step reports what it removed and what it could not, so a caller can tell "clean" from
 * "cleaned with problems" instead of guessing.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseMountInfo } from '../host/mountinfo.js';
import { isErrno } from './runtime-errors.js';

const execFileAsync = promisify(execFile);

// Finding a container's cgroups is a read of the host, shared with the shared-memory view.
export { DEFAULT_CGROUP_ROOT, findContainerCgroups } from '../inspect/container-cgroups.js';

/** What a cleanup did. */
export interface CleanupReport {
  cgroupsRemoved: string[];
  unmounted: string[];
  filesRemoved: string[];
  /** Things that could not be cleaned, each a sentence; empty when all went well. */
  problems: string[];
}

/** An empty report, to merge step reports into. */
export function emptyReport(): CleanupReport {
  return { cgroupsRemoved: [], unmounted: [], filesRemoved: [], problems: [] };
}

async function readPids(cgroupDir: string): Promise<number[]> {
  try {
    const text = await fs.readFile(path.join(cgroupDir, 'cgroup.procs'), 'utf8');
    return text
      .split('\n')
      .filter((l) => /^[0-9]+$/.test(l))
      .map(Number);
  } catch {
    return [];
  }
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

async function thaw(dir: string): Promise<void> {
  // Frozen tasks do not act on SIGKILL until thawed (v1 freezer.state, v2 cgroup.freeze).
  await fs.writeFile(path.join(dir, 'freezer.state'), 'THAWED').catch(() => {});
  await fs.writeFile(path.join(dir, 'cgroup.freeze'), '0').catch(() => {});
}

/**
 * Kills every process in the cgroup tree at `dir` (SIGKILL, after thawing it) and removes the
 * tree bottom-up. Waits up to `waitMs` for the processes to exit. Adds what it did to `report`.
 */
export async function removeCgroupTree(
  dir: string,
  report: CleanupReport,
  waitMs = 2000,
): Promise<void> {
  const tree: string[] = [];
  const walk = async (d: string): Promise<void> => {
    tree.push(d);
    for (const child of await subdirs(d)) await walk(child);
  };
  await walk(dir);
  for (const d of tree) await thaw(d);
  const deadline = Date.now() + waitMs;
  for (;;) {
    let alive = 0;
    for (const d of tree) {
      for (const pid of await readPids(d)) {
        alive++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    if (alive === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const d of tree.reverse()) {
    try {
      await fs.rmdir(d);
      if (d === dir) report.cgroupsRemoved.push(d);
    } catch (e) {
      if (!isErrno(e, 'ENOENT'))
        report.problems.push(`cgroup ${d} could not be removed: ${(e as Error).message}`);
    }
  }
}

/** Mount points of the calling process at or below any of `dirs`, deepest first. */
export async function mountsUnder(dirs: readonly string[]): Promise<string[]> {
  const entries = parseMountInfo(await fs.readFile('/proc/self/mountinfo', 'utf8'));
  const hits = entries
    .map((e) => e.mountPoint)
    .filter((mp) => dirs.some((d) => mp === d || mp.startsWith(d.endsWith('/') ? d : `${d}/`)));
  return [...new Set(hits)].sort((a, b) => b.length - a.length);
}

/** Detaches (`umount -l`) every mount at or below `dirs`. Adds what it did to `report`. */
export async function unmountUnder(dirs: readonly string[], report: CleanupReport): Promise<void> {
  const mounts = await mountsUnder(dirs);
  if (mounts.length === 0) return;
  // One umount for all, deepest first (a process start costs more than the detaches); on a
  // failure each is tried alone, so the report names exactly what stayed.
  try {
    await execFileAsync('umount', ['-l', '--', ...mounts], { timeout: 10_000 });
    report.unmounted.push(...mounts);
    return;
  } catch {
    // Some were detached, some not: sorted out below.
  }
  const left = new Set(await mountsUnder(dirs));
  for (const mp of mounts) {
    if (!left.has(mp)) {
      report.unmounted.push(mp);
      continue;
    }
    try {
      await execFileAsync('umount', ['-l', '--', mp], { timeout: 10_000 });
      report.unmounted.push(mp);
    } catch (e) {
      report.problems.push(`${mp} could not be unmounted: ${(e as Error).message.trim()}`);
    }
  }
}

/**
 * Removes `target` recursively, but only once no mount remains below it: a recursive delete
 * through a forgotten bind mount would delete host files. Adds what it did to `report`.
 */
export async function removeTree(target: string, report: CleanupReport): Promise<void> {
  const remaining = await mountsUnder([target]);
  if (remaining.length > 0) {
    report.problems.push(`${target} was kept: still mounted below it: ${remaining.join(', ')}`);
    return;
  }
  try {
    await fs.lstat(target);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return;
  }
  try {
    await fs.rm(target, { recursive: true, force: true });
    report.filesRemoved.push(target);
  } catch (e) {
    report.problems.push(`${target} could not be removed: ${(e as Error).message}`);
  }
}

/**
 * Pids of every process whose PID namespace is `pidNamespace` (as `readlink /proc/PID/ns/pid`
 * shows it, `pid:[4026532…]`). Used to prove that no process of a container survived it.
 */
export async function processesInPidNamespace(pidNamespace: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if ((await fs.readlink(`/proc/${entry}/ns/pid`)) === pidNamespace) pids.push(Number(entry));
    } catch {
      // Exited meanwhile, or a kernel thread.
    }
  }
  return pids;
}
