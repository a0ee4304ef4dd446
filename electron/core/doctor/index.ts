/**
 * `droidway doctor`: can this machine run the demo guest, and a real Android image, and what
 * needs fixing. `runDoctor()` runs every check against the real host (or an injected
 * `HostProbe`) and derives the two verdicts from the failed checks' impact.
 */
import type { DoctorCheck, DoctorReport, DoctorVerdict } from '../../shared/doctor.js';
import { checkBinder, checkLoopDevices, checkOverlayfs } from '../host/android-kernel.js';
import { checkAndroidImages } from './check-android.js';
import { checkRenderNodes, checkWayland } from './check-display.js';
import { checkCgroups, checkNamespaces, checkSeccomp } from './check-kernel.js';
import { failed, type CheckIdentity } from '../host/check-result.js';
import { checkBusybox, checkLxc, checkPrivileges, checkSharedMemory } from './check-runtime.js';
import { createHostProbe, type HostProbe } from '../host/host-probe.js';
import { readTextOrNull } from '../host/host-lookup.js';

export type { HostProbe, HostStat, ExecResult, ShmProbeResult } from '../host/host-probe.js';
export { createHostProbe } from '../host/host-probe.js';

interface CheckGroup {
  /** Stands in for the group's checks if it throws, so one broken check never hides the rest. */
  fallback: CheckIdentity;
  run: (host: HostProbe) => Promise<DoctorCheck | DoctorCheck[]>;
}

/** Every check, in the order the report lists them. */
const CHECK_GROUPS: readonly CheckGroup[] = [
  {
    fallback: { id: 'kernel.namespaces', title: 'Namespaces', impact: 'demo' },
    run: checkNamespaces,
  },
  { fallback: { id: 'cgroup', title: 'Cgroups', impact: 'demo' }, run: checkCgroups },
  {
    fallback: { id: 'kernel.seccomp', title: 'Seccomp filters', impact: 'demo' },
    run: checkSeccomp,
  },
  {
    fallback: { id: 'shm', title: 'Shared memory (ashmem / sealed memfd)', impact: 'demo' },
    run: checkSharedMemory,
  },
  { fallback: { id: 'lxc', title: 'LXC', impact: 'demo' }, run: checkLxc },
  { fallback: { id: 'privileges', title: 'Privileges', impact: 'demo' }, run: checkPrivileges },
  { fallback: { id: 'busybox', title: 'Static busybox', impact: 'demo' }, run: checkBusybox },
  { fallback: { id: 'binder', title: 'Binder IPC', impact: 'android' }, run: checkBinder },
  {
    fallback: { id: 'kernel.overlayfs', title: 'OverlayFS', impact: 'android' },
    run: checkOverlayfs,
  },
  {
    fallback: { id: 'kernel.loop', title: 'Loop devices', impact: 'android' },
    run: checkLoopDevices,
  },
  {
    fallback: { id: 'android.images', title: 'Android images', impact: 'android' },
    run: checkAndroidImages,
  },
  {
    fallback: { id: 'display.wayland', title: 'Wayland display', impact: 'optional' },
    run: checkWayland,
  },
  {
    fallback: { id: 'display.drm', title: 'DRM render nodes', impact: 'optional' },
    run: checkRenderNodes,
  },
];

async function runGroup(group: CheckGroup, host: HostProbe): Promise<DoctorCheck[]> {
  try {
    const result = await group.run(host);
    return Array.isArray(result) ? result : [result];
  } catch (error) {
    return [
      failed(
        group.fallback,
        `the check itself failed: ${error instanceof Error ? error.message : String(error)}`,
        'this is a bug in droidway doctor; please report it with the output of DROIDWAY_DEBUG=1 droidway doctor --json',
      ),
    ];
  }
}

/**
 * A verdict over `checks`: can run when no failed check has one of `blocking` impacts; the
 * summary names the blockers.
 */
export function verdictOf(
  checks: readonly DoctorCheck[],
  blocking: readonly DoctorCheck['impact'][],
  what: string,
): DoctorVerdict {
  const failing = checks.filter((c) => !c.ok && blocking.includes(c.impact));
  const blockers = failing.map((c) => c.id);
  // The summary names the checks as a person reads them (their titles), not by internal id.
  const titles = failing.map((c) => c.title);
  return {
    canRun: blockers.length === 0,
    blockers,
    summary:
      blockers.length === 0 ? `${what} can run` : `${what} cannot run: fix ${titles.join(', ')}`,
  };
}

/** `PRETTY_NAME` from os-release(5) text, or null. */
export function prettyDistroName(osRelease: string | null): string | null {
  const match = osRelease?.match(/^PRETTY_NAME=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))\s*$/m);
  if (match === null || match === undefined) return null;
  return (match[1]?.replace(/\\(.)/g, '$1') ?? match[2] ?? match[3] ?? '') || null;
}

/**
 * Runs every check and returns the report. The demo guest can run when no `demo` check failed;
 * Android when no `demo` or `android` check failed. A check that throws is reported as a failed
 * check, so this only rejects if the host probe itself cannot be made.
 */
export async function runDoctor(options: { host?: HostProbe } = {}): Promise<DoctorReport> {
  const host = options.host ?? createHostProbe();
  const [groups, osRelease] = await Promise.all([
    Promise.all(CHECK_GROUPS.map((group) => runGroup(group, host))),
    readTextOrNull(host, '/etc/os-release', 64 * 1024).then(
      async (text) => text ?? (await readTextOrNull(host, '/usr/lib/os-release', 64 * 1024)),
    ),
  ]);
  const checks = groups.flat();
  return {
    generatedAt: new Date().toISOString(),
    host: {
      kernel: host.kernelRelease,
      arch: host.arch,
      distro: prettyDistroName(osRelease) ?? 'unknown Linux',
      uid: host.uid,
    },
    checks,
    demoGuest: verdictOf(checks, ['demo'], 'The demo guest'),
    android: verdictOf(checks, ['demo', 'android'], 'Android'),
  };
}
