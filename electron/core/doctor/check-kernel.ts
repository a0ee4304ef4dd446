/**
 * Kernel features the container runtime needs: namespaces, the cgroup layout and its memory and
 * pids controllers, and seccomp filters.
 */
import type { DoctorCheck } from '../../shared/doctor.js';
import { failed, passed, verdict, type CheckIdentity } from '../host/check-result.js';
import type { HostProbe } from '../host/host-probe.js';
import { readTextOrNull } from '../host/host-lookup.js';
import {
  cgroupLayout,
  parseMountInfo,
  parseProcCgroups,
  type CgroupLayout,
} from '../host/mountinfo.js';

const DEMO_NAMESPACES = [
  { ns: 'pid', title: 'PID namespace', config: 'CONFIG_PID_NS' },
  { ns: 'mnt', title: 'Mount namespace', config: 'CONFIG_NAMESPACES' },
  { ns: 'net', title: 'Network namespace', config: 'CONFIG_NET_NS' },
  { ns: 'ipc', title: 'IPC namespace', config: 'CONFIG_IPC_NS' },
  { ns: 'uts', title: 'UTS namespace', config: 'CONFIG_UTS_NS' },
  { ns: 'cgroup', title: 'Cgroup namespace', config: 'CONFIG_CGROUPS' },
] as const;

async function namespaceLink(host: HostProbe, ns: string): Promise<string | null> {
  try {
    return await host.readlink(`/proc/self/ns/${ns}`);
  } catch {
    return null;
  }
}

/**
 * One check per namespace the guest runs in (pid, mnt, net, ipc, uts, cgroup: `demo`), from
 * `/proc/self/ns/*`, plus user namespaces (`optional`), which also reports
 * `user.max_user_namespaces` and, where the kernel has them, Debian's
 * `kernel.unprivileged_userns_clone` and Ubuntu's `kernel.apparmor_restrict_unprivileged_userns`.
 */
export async function checkNamespaces(host: HostProbe): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const { ns, title, config } of DEMO_NAMESPACES) {
    const identity: CheckIdentity = { id: `kernel.namespaces.${ns}`, title, impact: 'demo' };
    const link = await namespaceLink(host, ns);
    checks.push(
      link !== null
        ? passed(identity, `/proc/self/ns/${ns} → ${link}`)
        : failed(
            identity,
            `no /proc/self/ns/${ns}`,
            `use a kernel built with ${config}=y (and CONFIG_NAMESPACES=y)`,
          ),
    );
  }
  checks.push(await checkUserNamespaces(host));
  return checks;
}

async function readSysctl(host: HostProbe, path: string): Promise<number | null> {
  const text = await readTextOrNull(host, path, 64);
  if (text === null || !/^-?\d+\s*$/.test(text)) return null;
  return Number(text.trim());
}

async function checkUserNamespaces(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = {
    id: 'kernel.namespaces.user',
    title: 'User namespace',
    impact: 'optional',
  };
  const link = await namespaceLink(host, 'user');
  const max = await readSysctl(host, '/proc/sys/user/max_user_namespaces');
  const clone = await readSysctl(host, '/proc/sys/kernel/unprivileged_userns_clone');
  const apparmor = await readSysctl(host, '/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  const seen = [
    link !== null ? `/proc/self/ns/user → ${link}` : 'no /proc/self/ns/user',
    `user.max_user_namespaces = ${max ?? 'absent'}`,
    ...(clone !== null ? [`kernel.unprivileged_userns_clone = ${clone}`] : []),
    ...(apparmor !== null ? [`kernel.apparmor_restrict_unprivileged_userns = ${apparmor}`] : []),
  ].join('; ');
  if (link === null) return failed(identity, seen, 'use a kernel built with CONFIG_USER_NS=y');
  if (max === 0)
    return failed(
      identity,
      seen,
      'allow user namespaces: sysctl -w user.max_user_namespaces=15000',
    );
  return passed(identity, seen);
}

function describeLayout(layout: CgroupLayout): string {
  const v1 = layout.v1.flatMap((h) => h.controllers);
  const v1Text = `cgroup v1 (${v1.length > 0 ? v1.join(', ') : 'no controllers'})`;
  const v2Text = `cgroup v2 at ${layout.v2MountPoint}`;
  switch (layout.kind) {
    case 'v1':
      return `v1: ${v1Text}`;
    case 'v2':
      return `v2: ${v2Text}`;
    case 'hybrid':
      return `hybrid: ${v1Text} + ${v2Text}`;
    case 'none':
      return 'no cgroup filesystem mounted';
  }
}

const CONTROLLER_CONFIG: Record<string, string> = {
  memory: 'CONFIG_MEMCG',
  pids: 'CONFIG_CGROUP_PIDS',
};

/**
 * The cgroup layout (v1, hybrid or v2) from `/proc/self/mountinfo`, and whether the memory and
 * pids controllers, which enforce the guest's limits, are enabled (`/proc/cgroups`) and mounted
 * (a v1 hierarchy, or the v2 root's `cgroup.controllers`). Both `demo`.
 */
export async function checkCgroups(host: HostProbe): Promise<DoctorCheck[]> {
  const layoutId: CheckIdentity = { id: 'cgroup.layout', title: 'Cgroup layout', impact: 'demo' };
  const controllersId: CheckIdentity = {
    id: 'cgroup.controllers',
    title: 'Cgroup controllers (memory, pids)',
    impact: 'demo',
  };
  let layout: CgroupLayout;
  try {
    layout = cgroupLayout(
      parseMountInfo((await host.readFile('/proc/self/mountinfo')).toString('utf8')),
    );
  } catch (error) {
    const seen = `cannot read /proc/self/mountinfo: ${error instanceof Error ? error.message : String(error)}`;
    const fix = 'make /proc available (mount -t proc proc /proc)';
    return [failed(layoutId, seen, fix), failed(controllersId, seen, fix)];
  }
  const layoutCheck = verdict(
    layoutId,
    layout.kind !== 'none',
    describeLayout(layout),
    'mount the cgroup filesystem (systemd does at boot): mount -t cgroup2 none /sys/fs/cgroup',
  );

  const procText = await readTextOrNull(host, '/proc/cgroups');
  let rows: ReturnType<typeof parseProcCgroups> = [];
  try {
    rows = procText === null ? [] : parseProcCgroups(procText);
  } catch {
    rows = [];
  }
  const v2Controllers =
    layout.v2MountPoint === null
      ? []
      : ((await readTextOrNull(host, `${layout.v2MountPoint}/cgroup.controllers`, 4096)) ?? '')
          .trim()
          .split(/\s+/);

  const seen: string[] = [];
  const fixes: string[] = [];
  for (const name of ['memory', 'pids']) {
    const row = rows.find((r) => r.name === name);
    const v1 = layout.v1.find((h) => h.controllers.includes(name));
    if (row !== undefined && !row.enabled) {
      seen.push(`${name}: disabled`);
      fixes.push(
        `remove cgroup_disable=${name} from the kernel command line (or add cgroup_enable=${name}) and reboot`,
      );
    } else if (v1 !== undefined) {
      seen.push(`${name}: v1 at ${v1.mountPoint}`);
    } else if (v2Controllers.includes(name)) {
      seen.push(`${name}: v2 at ${layout.v2MountPoint}`);
    } else if (row === undefined && procText !== null) {
      seen.push(`${name}: not in the kernel`);
      fixes.push(`use a kernel built with ${CONTROLLER_CONFIG[name]}=y`);
    } else {
      seen.push(`${name}: not mounted`);
      fixes.push(
        layout.v2MountPoint !== null
          ? `free the ${name} controller for cgroup v2 (unmount its v1 hierarchy) or mount it: mount -t cgroup -o ${name} cgroup /sys/fs/cgroup/${name}`
          : `mount it: mount -t cgroup -o ${name} cgroup /sys/fs/cgroup/${name}`,
      );
    }
  }
  return [
    layoutCheck,
    verdict(controllersId, fixes.length === 0, seen.join('; '), fixes.join('; ')),
  ];
}

/**
 * Seccomp filter support (`demo`): the `Seccomp:` field of `/proc/self/status` shows
 * CONFIG_SECCOMP, `/proc/sys/kernel/seccomp/actions_avail` shows CONFIG_SECCOMP_FILTER and the
 * actions the guest's profile uses (`errno`, `allow`).
 */
export async function checkSeccomp(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = {
    id: 'kernel.seccomp',
    title: 'Seccomp filters',
    impact: 'demo',
  };
  const fix = 'use a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y';
  const status = await readTextOrNull(host, '/proc/self/status');
  const mode = status?.match(/^Seccomp:\s*(\d+)\s*$/m)?.[1];
  if (mode === undefined) return failed(identity, 'no Seccomp field in /proc/self/status', fix);
  const modeText = `this process: mode ${mode}${mode === '2' ? ' (already filtered)' : ''}`;
  const actionsText = await readTextOrNull(host, '/proc/sys/kernel/seccomp/actions_avail', 4096);
  if (actionsText === null)
    return failed(identity, `no filter actions (actions_avail missing); ${modeText}`, fix);
  const actions = actionsText.trim().split(/\s+/);
  const missing = ['errno', 'allow'].filter((a) => !actions.includes(a));
  return verdict(
    identity,
    missing.length === 0,
    `filter actions: ${actions.join(' ')}; ${modeText}`,
    `the kernel lacks seccomp actions ${missing.join(', ')}: use a newer kernel with CONFIG_SECCOMP_FILTER=y`,
  );
}
