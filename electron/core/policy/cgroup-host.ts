/**
 * What this host's cgroups can enforce, for `CompileContext.cgroupVersion` and
 * `unsupportedLimits`. LXC uses the v1 controllers wherever they are mounted (v1 and hybrid
 * hosts) and the unified hierarchy otherwise; a limit key whose file does not exist makes
 * `lxc-start` fail, so such limits are left out and reported instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyLimits } from './policy-document.js';

export interface CgroupSupport {
  version: 1 | 2;
  unsupportedLimits: Array<keyof PolicyLimits>;
}

/** Inspects the cgroup mounts under `root` (default `/sys/fs/cgroup`). */
export function detectCgroupSupport(root = '/sys/fs/cgroup'): CgroupSupport {
  const missing: Array<keyof PolicyLimits> = [];
  const need = (ok: boolean, ...keys: Array<keyof PolicyLimits>): void => {
    if (!ok) missing.push(...keys);
  };
  if (existsSync(join(root, 'memory')) || existsSync(join(root, 'pids'))) {
    const has = (p: string): boolean => existsSync(join(root, p));
    need(has('memory/memory.limit_in_bytes'), 'memoryMax');
    need(has('memory/memory.memsw.limit_in_bytes'), 'swapMax');
    need(has('cpu/cpu.cfs_quota_us'), 'cpuQuota', 'cpuPeriod');
    need(has('cpu/cpu.shares'), 'cpuWeight');
    need(has('pids'), 'pidsMax');
    need(has('blkio/blkio.weight'), 'ioWeight');
    return { version: 1, unsupportedLimits: missing };
  }
  let controllers: string[] = [];
  try {
    controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    // No readable unified hierarchy: every limit is unsupported.
  }
  need(controllers.includes('memory'), 'memoryMax', 'swapMax');
  need(controllers.includes('cpu'), 'cpuQuota', 'cpuPeriod', 'cpuWeight');
  need(controllers.includes('pids'), 'pidsMax');
  need(controllers.includes('io'), 'ioWeight');
  return { version: 2, unsupportedLimits: missing };
}

/** Whether AppArmor is enabled on this host (LXC applies profiles only then). */
export function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}
