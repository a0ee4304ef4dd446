/**
 * The policy compiler: a validated policy plus the runtime's context (container name, paths,
 * host facts) becomes
 * - a complete LXC 5 configuration,
 * - a seccomp profile in LXC's v2 format,
 * - the display bridge's settings,
 * - what the in-container probe must observe (`ProbeExpectations`), and
 * - notes about what this host cannot enforce.
 *
 * Every value written to the configuration comes from validated data; the writer refuses any
 * key or value with a control character as a last line of defence, so a document can never add
 * a configuration line of its own.
 */
import type { BridgeLimitValues } from './bridge-limits.js';
import type { ProbeExpectations } from './probe-expectations.js';
import { LINUX_CAPABILITIES } from './capabilities.js';
import { DEVICE_CLASSES, type DeviceRule, type HostDeviceClassName } from './devices.js';
import { ERRNO_NAMES } from './errno-names.js';
import { POLICY_BAD_CONTEXT, PolicyError, type PolicyIssue } from './policy-errors.js';
import type {
  ClipboardPolicy,
  PolicyLimits,
  PolicyStorage,
  SeccompAction,
  SeccompRule,
  ValidatedPolicy,
} from './policy-document.js';
import { GLOBAL_PROC_READ_ONLY_PATHS, parseSeccompAction } from './policy-validate.js';

/** A device node the host provides for a host device class (binderfs node, ashmem, render node). */
export interface HostDeviceNode {
  /** Absolute host path of the node, bind-mounted into the guest. */
  hostPath: string;
  /** Absolute guest path, e.g. `/dev/binder`. */
  guestPath: string;
  major: number;
  minor: number;
}

/** An extra bind mount the runtime needs (the bridge socket folder, the guest programs). */
export interface ExtraMount {
  /** Absolute host path. */
  source: string;
  /** Absolute guest path. */
  target: string;
  /** Comma-separated mount options from: bind, rbind, ro, rw, nosuid, nodev, noexec, create=dir, create=file, optional. */
  options: string;
}

/** What the runtime knows and the policy does not: names, paths and host facts. */
export interface CompileContext {
  /** Container name (`lxc.uts.name` comes from the policy; this names log lines and the config). */
  name: string;
  /** Absolute host path of the guest's root directory. */
  rootfsPath: string;
  /**
   * Absolute host path where the runtime writes `seccompProfile`, named by `lxc.seccomp.profile`.
   * Omit it when the runtime is handed the profile text and names the file itself (the session
   * runtime does), so the config never names a profile twice.
   */
  seccompProfilePath?: string;
  /** Absolute host path of LXC's log for this session. */
  logFile: string;
  extraMounts?: ExtraMount[];
  /** Guest init and its arguments; default `['/sbin/init']`. */
  init?: string[];
  /**
   * Guest path of `droidway-nodump` (native/probe), which starts init so that no guest process
   * can debug another (see `promisesNoDebugging`). Used when the policy promises that; without
   * it the promise is noted as not kept for same-uid processes (and `verify` says so).
   */
  nodumpWrapper?: string;
  /** Cgroup hierarchy LXC uses for limits: 1 (v1 or hybrid hosts) or 2 (unified); default 2. */
  cgroupVersion?: 1 | 2;
  /** Limits this host's cgroups cannot enforce (e.g. no `blkio.weight` without BFQ weights); left out and noted. */
  unsupportedLimits?: Array<keyof PolicyLimits>;
  /** Whether AppArmor is enabled on the host; default true. When false nothing is written and a note says so. */
  apparmorAvailable?: boolean;
  /** Nodes of the host device classes, as the runtime found them; a class allowed but absent here is noted. */
  hostDevices?: Partial<Record<HostDeviceClassName, HostDeviceNode[]>>;
  /** Host bridge for `network: 'nat'`; default `lxcbr0`. */
  natBridge?: string;
  /** Empty, read-only host file bound over masked files; default `/dev/null` (which accepts writes, noted). */
  maskFile?: string;
  /**
   * The host ids the instance's guest ids `0 … count-1` map to (see `runtime/id-ranges.ts`);
   * required when the policy asks for a user namespace, ignored otherwise.
   */
  idRange?: { hostBase: number; count: number };
  /**
   * The capability bounding set the runtime itself runs with (names as in `LINUX_CAPABILITIES`);
   * a kept capability outside it cannot reach the guest, so it is left out of the expectations
   * and noted. Default: every capability.
   */
  hostCapabilities?: readonly string[];
}

/** What the display bridge enforces for this session: its globals, clipboard and limits. */
export type BridgeSettings = {
  globals: string[];
  clipboard: ClipboardPolicy;
} & BridgeLimitValues;

/** Something the policy asks for that this host will not enforce, and why. */
export interface CompileNote {
  /** JSON Pointer into the policy (`/limits/ioWeight`), or `''` for the whole policy. */
  field: string;
  message: string;
}

export interface CompiledPolicy {
  lxcConfig: string;
  /** The policy's storage limits, which the runtime applies to the layers it mounts. */
  storage: PolicyStorage;
  /** Host uid and gid of the guest's root: the range's first id, or 0 without a user namespace. */
  rootIds: { uid: number; gid: number };
  seccompProfile: string;
  bridge: BridgeSettings;
  expectations: ProbeExpectations;
  notes: CompileNote[];
}

/** Pseudo-terminals the guest's devpts allows (lxc-attach and shells each take one). */
export const PTY_MAX = 64;

/** The nodes LXC's `autodev` creates whether or not the policy allows opening them. */
const AUTODEV_NODES = [
  '/dev/console',
  '/dev/null',
  '/dev/zero',
  '/dev/full',
  '/dev/random',
  '/dev/urandom',
  '/dev/tty',
  '/dev/ptmx',
  '/dev/pts/ptmx',
];

const CLONE_NEWUSER = 0x10000000;

/** The cgroup v1 hierarchies whose files hold the container's limits and device rules. */
const V1_LIMIT_HIERARCHIES = ['memory', 'pids', 'cpu', 'blkio', 'devices', 'freezer'];

/** The syscalls `policy verify` probes when the seccomp default denies (allowlist policies). */
const PROBED_SYSCALLS = [
  'mount',
  'keyctl',
  'add_key',
  'kexec_load',
  'finit_module',
  'bpf',
  'perf_event_open',
  'userfaultfd',
  'io_uring_setup',
  'open_by_handle_at',
];

const CTX_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const CTX_PATH = /^(\/[A-Za-z0-9._@+,:-]+)+$/;
// eslint-disable-next-line no-control-regex -- the point is to refuse control characters
const CTX_ARG = /^[^\s\u0000-\u001f\u007f]{1,1024}$/;
const MOUNT_OPTIONS = new Set([
  'bind',
  'rbind',
  'ro',
  'rw',
  'nosuid',
  'nodev',
  'noexec',
  'create=dir',
  'create=file',
  'optional',
]);

function checkContext(ctx: CompileContext): void {
  const issues: PolicyIssue[] = [];
  const path = (value: unknown, where: string): void => {
    if (
      typeof value !== 'string' ||
      !CTX_PATH.test(value) ||
      value.split('/').some((s) => s === '.' || s === '..')
    ) {
      issues.push({
        path: where,
        message:
          'must be an absolute path of letters, digits and . _ @ + , : - without . or .. segments',
      });
    }
  };
  if (!CTX_NAME.test(ctx.name))
    issues.push({ path: 'name', message: 'must be 1 to 64 of A-Z a-z 0-9 _ . -' });
  path(ctx.rootfsPath, 'rootfsPath');
  if (ctx.seccompProfilePath !== undefined) path(ctx.seccompProfilePath, 'seccompProfilePath');
  path(ctx.logFile, 'logFile');
  if (ctx.maskFile !== undefined) path(ctx.maskFile, 'maskFile');
  if (ctx.natBridge !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(ctx.natBridge)) {
    issues.push({
      path: 'natBridge',
      message: 'must be a network interface name (1 to 15 of A-Z a-z 0-9 _ . -)',
    });
  }
  const init = ctx.init ?? ['/sbin/init'];
  if (init.length === 0 || init.length > 32)
    issues.push({ path: 'init', message: 'must have 1 to 32 elements' });
  init.forEach((arg, i) => {
    if (!CTX_ARG.test(arg))
      issues.push({
        path: `init/${i}`,
        message: 'must be non-empty without whitespace or control characters',
      });
  });
  if (init[0] !== undefined) path(init[0], 'init/0');
  if (ctx.nodumpWrapper !== undefined) path(ctx.nodumpWrapper, 'nodumpWrapper');
  (ctx.extraMounts ?? []).forEach((m, i) => {
    path(m.source, `extraMounts/${i}/source`);
    path(m.target, `extraMounts/${i}/target`);
    const opts = m.options.split(',');
    if (!opts.includes('bind') && !opts.includes('rbind')) {
      issues.push({ path: `extraMounts/${i}/options`, message: 'must include bind or rbind' });
    }
    for (const o of opts) {
      if (!MOUNT_OPTIONS.has(o))
        issues.push({ path: `extraMounts/${i}/options`, message: `unknown option '${o}'` });
    }
  });
  for (const [cls, nodes] of Object.entries(ctx.hostDevices ?? {})) {
    (nodes ?? []).forEach((n, i) => {
      path(n.hostPath, `hostDevices/${cls}/${i}/hostPath`);
      path(n.guestPath, `hostDevices/${cls}/${i}/guestPath`);
      if (!n.guestPath.startsWith('/dev/'))
        issues.push({ path: `hostDevices/${cls}/${i}/guestPath`, message: 'must be under /dev' });
      for (const k of ['major', 'minor'] as const) {
        if (!Number.isInteger(n[k]) || n[k] < 0 || n[k] > 0xfffff) {
          issues.push({ path: `hostDevices/${cls}/${i}/${k}`, message: 'must be a device number' });
        }
      }
    });
  }
  if (ctx.idRange !== undefined) {
    const { hostBase, count } = ctx.idRange;
    if (
      !Number.isInteger(hostBase) ||
      !Number.isInteger(count) ||
      hostBase < 1 ||
      count < 65_536 ||
      hostBase + count > 4_294_967_295
    )
      issues.push({
        path: 'idRange',
        message: 'must be a host range above id 0 of at least 65536 ids that ends below 4294967295',
      });
  }
  (ctx.extraMounts ?? []).forEach((m, i) => {
    const opts = m.options.split(',');
    if (!opts.includes('ro') && !(opts.includes('nosuid') && opts.includes('nodev')))
      issues.push({
        path: `extraMounts/${i}/options`,
        message: 'a writable mount must be nosuid and nodev',
      });
  });
  if (issues.length > 0) throw new PolicyError(POLICY_BAD_CONTEXT, issues);
}

/** Accumulates `key = value` lines, refusing anything that could start a line of its own. */
class ConfigWriter {
  private readonly lines: string[] = [];

  comment(text: string): void {
    this.assertSafe(text);
    this.lines.push(`# ${text}`);
  }

  blank(): void {
    this.lines.push('');
  }

  set(key: string, value: string | number): void {
    if (!/^lxc\.[a-z0-9_.]+$/.test(key))
      throw new PolicyError(POLICY_BAD_CONTEXT, [
        { path: '', message: `bad config key ${JSON.stringify(key)}` },
      ]);
    const text = String(value);
    this.assertSafe(text);
    if (text !== text.trim() || text === '') {
      throw new PolicyError(POLICY_BAD_CONTEXT, [
        { path: '', message: `empty or padded value for ${key}` },
      ]);
    }
    this.lines.push(`${key} = ${text}`);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }

  private assertSafe(text: string): void {
    // eslint-disable-next-line no-control-regex -- the point is to refuse control characters
    if (/[\u0000-\u001f\u007f]/.test(text)) {
      throw new PolicyError(POLICY_BAD_CONTEXT, [
        { path: '', message: 'a configuration value contains a control character' },
      ]);
    }
  }
}

/** Escapes a path for an fstab-style field (`lxc.mount.entry`), as getmntent decodes it. */
function fstabField(path: string): string {
  return path.replace(/[\\ ]/g, (c) => (c === ' ' ? '\\040' : '\\134'));
}

/** A guest path as an `lxc.mount.entry` target: relative to the rootfs. */
function guestTarget(path: string): string {
  return fstabField(path.replace(/^\/+/, ''));
}

function mountEntry(
  w: ConfigWriter,
  source: string,
  target: string,
  fstype: string,
  options: string[],
): void {
  w.set(
    'lxc.mount.entry',
    `${fstabField(source)} ${guestTarget(target)} ${fstype} ${options.join(',')} 0 0`,
  );
}

function errnoResult(action: SeccompAction): string {
  const a = parseSeccompAction(action);
  if (a.kind !== 'errno') return a.kind;
  return ERRNO_NAMES.get(a.errno) ?? `E${a.errno}`;
}

function isNewUserFilter(rule: SeccompRule): boolean {
  const args = rule.args ?? [];
  return (
    args.length === 1 &&
    args[0]![0] === 0 &&
    args[0]![2] === 'SCMP_CMP_MASKED_EQ' &&
    args[0]![1] === CLONE_NEWUSER &&
    args[0]![3] === CLONE_NEWUSER
  );
}

/**
 * Whether a policy promises "no debugging of other processes": ptrace(2) is denied outright and
 * CAP_SYS_PTRACE is not kept. The promise then covers every other way into another process's
 * memory or fds too (/proc/PID/mem, process_vm_readv/writev, pidfd_getfd, kcmp): the seccomp
 * rules deny the syscalls, and init runs through `droidway-nodump`, whose non-dumpable process
 * tree the kernel guards even against a same-uid /proc/PID/mem open (seccomp cannot see paths).
 */
export function promisesNoDebugging(policy: ValidatedPolicy, capabilities: string[]): boolean {
  if (capabilities.includes('sys_ptrace')) return false;
  const rule = policy.seccomp.rules.find(
    (r) => r.syscall === 'ptrace' && (r.args ?? []).length === 0,
  );
  return (rule?.action ?? policy.seccomp.defaultAction) !== 'allow';
}

/** Renders the seccomp profile in LXC's v2 format (see lxc.container.conf(5), "seccomp"). */
function compileSeccomp(policy: ValidatedPolicy): string {
  const { defaultAction, rules } = policy.seccomp;
  const lines = ['2', defaultAction === 'allow' ? 'denylist' : `allowlist ${defaultAction}`];
  lines.push(
    `# droidway policy ${policy.name}: one rule per line, "syscall action [index,value,op(,mask)]..."`,
  );
  lines.push('[all]');
  for (const rule of rules) {
    const args = (rule.args ?? []).map((f) => `[${f.join(',')}]`).join('');
    lines.push(
      args === '' ? `${rule.syscall} ${rule.action}` : `${rule.syscall} ${rule.action} ${args}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function deniedSyscalls(policy: ValidatedPolicy): ProbeExpectations['deniedSyscalls'] {
  const { defaultAction, rules } = policy.seccomp;
  const out: ProbeExpectations['deniedSyscalls'] = [];
  const add = (syscall: string, action: SeccompAction): void => {
    if (action !== 'allow' && !out.some((d) => d.syscall === syscall))
      out.push({ syscall, result: errnoResult(action) });
  };
  if (defaultAction === 'allow') {
    for (const rule of rules) {
      if ((rule.args ?? []).length === 0) add(rule.syscall, rule.action);
    }
    for (const call of ['unshare', 'clone'] as const) {
      const full = rules.find((r) => r.syscall === call && (r.args ?? []).length === 0);
      const masked = rules.find((r) => r.syscall === call && isNewUserFilter(r));
      const rule = full ?? masked;
      if (rule !== undefined) add(`${call}(CLONE_NEWUSER)`, rule.action);
    }
  } else {
    const allowed = new Set(
      rules
        .filter((r) => r.action === 'allow' && (r.args ?? []).length === 0)
        .map((r) => r.syscall),
    );
    for (const call of PROBED_SYSCALLS) {
      const own = rules.find(
        (r) => r.syscall === call && (r.args ?? []).length === 0 && r.action !== 'allow',
      );
      if (own !== undefined) add(call, own.action);
      else if (!allowed.has(call)) add(call, defaultAction);
    }
    if (!allowed.has('unshare')) add('unshare(CLONE_NEWUSER)', defaultAction);
  }
  return out;
}

function limitLines(
  w: ConfigWriter,
  limits: PolicyLimits,
  version: 1 | 2,
  unsupported: ReadonlySet<keyof PolicyLimits>,
  notes: CompileNote[],
): void {
  const has = (k: keyof PolicyLimits): boolean => {
    if (limits[k] === undefined) return false;
    if (unsupported.has(k)) {
      notes.push({
        field: `/limits/${k}`,
        message: "this host's cgroups cannot enforce it; it is not applied",
      });
      return false;
    }
    return true;
  };
  const v1 = version === 1;
  const key = (v1Key: string, v2Key: string): string =>
    v1 ? `lxc.cgroup.${v1Key}` : `lxc.cgroup2.${v2Key}`;
  // v1 needs memory.limit_in_bytes written before memsw (memsw must stay >= the memory limit).
  if (has('memoryMax')) w.set(key('memory.limit_in_bytes', 'memory.max'), limits.memoryMax!);
  if (has('swapMax') && limits.memoryMax !== undefined && !unsupported.has('memoryMax')) {
    if (v1) w.set('lxc.cgroup.memory.memsw.limit_in_bytes', limits.memoryMax + limits.swapMax!);
    else w.set('lxc.cgroup2.memory.swap.max', limits.swapMax!);
  }
  if (has('cpuQuota') && has('cpuPeriod')) {
    if (v1) {
      w.set('lxc.cgroup.cpu.cfs_period_us', limits.cpuPeriod!);
      w.set('lxc.cgroup.cpu.cfs_quota_us', limits.cpuQuota!);
    } else {
      w.set('lxc.cgroup2.cpu.max', `${limits.cpuQuota!} ${limits.cpuPeriod!}`);
    }
  }
  if (has('cpuWeight')) {
    // cgroup v2 weight 100 is v1's 1024 shares (the kernel's own default for both).
    const shares = Math.min(262_144, Math.max(2, Math.round((limits.cpuWeight! * 1024) / 100)));
    w.set(key('cpu.shares', 'cpu.weight'), v1 ? shares : limits.cpuWeight!);
  }
  if (has('pidsMax')) w.set(key('pids.max', 'pids.max'), limits.pidsMax!);
  if (has('ioWeight')) {
    // blkio.weight is 10..1000 with 500 the default; io.weight 100 maps to it.
    const weight = Math.min(1000, Math.max(10, Math.round(limits.ioWeight! * 5)));
    w.set(key('blkio.weight', 'io.weight'), v1 ? weight : limits.ioWeight!);
  }
}

function deviceRule(w: ConfigWriter, version: 1 | 2, rule: DeviceRule): void {
  w.set(
    version === 1 ? 'lxc.cgroup.devices.allow' : 'lxc.cgroup2.devices.allow',
    `c ${rule.major}:${rule.minor} rwm`,
  );
}

/**
 * Compiles a validated policy for one session. Throws a `PolicyError` with code
 * `POLICY_BAD_CONTEXT` when `ctx` holds an unsafe name or path. Pure: writes no file.
 */
export function compilePolicy(policy: ValidatedPolicy, ctx: CompileContext): CompiledPolicy {
  checkContext(ctx);
  const notes: CompileNote[] = [];
  const version = ctx.cgroupVersion ?? 2;
  const unsupported = new Set(ctx.unsupportedLimits ?? []);
  const apparmorAvailable = ctx.apparmorAvailable ?? true;
  const maskFile = ctx.maskFile ?? '/dev/null';
  const caps = LINUX_CAPABILITIES.filter((c) => policy.capabilities.includes(c));
  // A new user namespace starts with a full bounding set of its own: the runtime's own set limits
  // a privileged guest only.
  const hostCaps = policy.namespaces.user ? undefined : ctx.hostCapabilities;
  const grantable = hostCaps === undefined ? caps : caps.filter((c) => hostCaps.includes(c));
  if (grantable.length < caps.length) {
    notes.push({
      field: '/capabilities',
      message: `the runtime lacks ${caps.filter((c) => !grantable.includes(c)).join(', ')} in its own bounding set; the guest cannot get what the runtime does not have`,
    });
  }
  const w = new ConfigWriter();

  w.comment(
    `Generated by droidway from isolation policy "${policy.name}" for container ${ctx.name}.`,
  );
  w.comment('Do not edit: change the policy and compile again.');
  w.blank();
  w.comment('Guest');
  w.set('lxc.uts.name', policy.hostname);
  w.set('lxc.rootfs.path', `dir:${ctx.rootfsPath}`);
  const noDebugging = promisesNoDebugging(policy, grantable);
  const init = ctx.init ?? ['/sbin/init'];
  if (noDebugging && ctx.nodumpWrapper === undefined) {
    notes.push({
      field: '/seccomp/rules',
      message:
        'init is not started through droidway-nodump: guest processes with the same uid can still read each other through /proc/PID/mem',
    });
  }
  w.set(
    'lxc.init.cmd',
    (noDebugging && ctx.nodumpWrapper !== undefined ? [ctx.nodumpWrapper, ...init] : init).join(
      ' ',
    ),
  );
  w.set('lxc.log.file', ctx.logFile);
  w.set('lxc.log.level', 'NOTICE');
  w.set('lxc.console.path', 'none');
  w.set('lxc.tty.max', 0);
  w.set('lxc.pty.max', PTY_MAX);
  w.set('lxc.autodev', 1);
  const auto = [`proc:${policy.mountAuto.proc}`, `sys:${policy.mountAuto.sys}`];
  if (policy.mountAuto.cgroup !== 'none') auto.push(`cgroup:${policy.mountAuto.cgroup}`);
  w.set('lxc.mount.auto', auto.join(' '));

  w.blank();
  w.comment('Namespaces (all private unless listed in lxc.namespace.keep)');
  const shared = (['ipc', 'cgroup'] as const).filter((n) => !policy.namespaces[n]);
  if (shared.length > 0) w.set('lxc.namespace.keep', shared.join(' '));
  const user = policy.namespaces.user;
  let rootIds = { uid: 0, gid: 0 };
  if (user) {
    if (ctx.idRange === undefined)
      throw new PolicyError(POLICY_BAD_CONTEXT, [
        { path: 'idRange', message: 'the policy asks for a user namespace: an id range is needed' },
      ]);
    const { hostBase, count } = ctx.idRange;
    w.set('lxc.idmap', `u 0 ${hostBase} ${count}`);
    w.set('lxc.idmap', `g 0 ${hostBase} ${count}`);
    rootIds = { uid: hostBase, gid: hostBase };
  } else {
    notes.push({
      field: '/namespaces/user',
      message:
        'no user namespace: guest root is host root. This container is host-equivalent: anything that escapes it owns the host',
    });
  }

  w.blank();
  w.comment('Privileges');
  w.set('lxc.cap.keep', caps.length > 0 ? caps.join(' ') : 'none');
  w.set('lxc.no_new_privs', policy.noNewPrivs ? 1 : 0);
  if (ctx.seccompProfilePath !== undefined) w.set('lxc.seccomp.profile', ctx.seccompProfilePath);
  const { profile, mode } = policy.lsm.apparmor;
  if (!apparmorAvailable) {
    notes.push({
      field: '/lsm/apparmor',
      message: `AppArmor is not enabled on this host: profile ${profile} (${mode}) is not applied`,
    });
  } else if (mode === 'unconfined') {
    w.set('lxc.apparmor.profile', 'unconfined');
  } else {
    w.set('lxc.apparmor.profile', profile);
    if (mode === 'complain') {
      notes.push({
        field: '/lsm/apparmor/mode',
        message: `profile ${profile} only logs denials when it is loaded in complain mode`,
      });
    }
  }

  w.blank();
  w.comment('Resource limits');
  limitLines(w, policy.limits, version, unsupported, notes);

  w.blank();
  w.comment('Devices: everything denied, then the allow-list');
  w.set(version === 1 ? 'lxc.cgroup.devices.deny' : 'lxc.cgroup2.devices.deny', 'a');
  const deviceNodes = new Set(AUTODEV_NODES);
  const deviceMounts: Array<{ host: string; guest: string }> = [];
  for (const name of policy.devices) {
    const cls = DEVICE_CLASSES.get(name)!;
    if (cls.host) {
      const nodes = ctx.hostDevices?.[name as HostDeviceClassName] ?? [];
      if (nodes.length === 0) {
        notes.push({
          field: '/devices',
          message: `${name} is allowed but this host has no such device; nothing is exposed`,
        });
      }
      for (const n of nodes) {
        deviceRule(w, version, { major: n.major, minor: n.minor });
        deviceMounts.push({ host: n.hostPath, guest: n.guestPath });
        deviceNodes.add(n.guestPath);
      }
      continue;
    }
    for (const rule of cls.rules) deviceRule(w, version, rule);
    for (const node of cls.nodes) {
      deviceNodes.add(node);
      if (!cls.autodev) deviceMounts.push({ host: node, guest: node });
    }
  }

  w.blank();
  w.comment('Mounts: device nodes, masked and read-only paths, shared folders');
  for (const m of deviceMounts)
    mountEntry(w, m.host, m.guest, 'none', ['bind', 'create=file', 'optional']);
  if (policy.maskedPaths.some((m) => m.kind === 'file') && maskFile === '/dev/null') {
    notes.push({
      field: '/maskedPaths',
      message: 'masked files are covered by /dev/null, which reads empty but accepts writes',
    });
  }
  for (const m of policy.maskedPaths) {
    if (m.kind === 'file') mountEntry(w, maskFile, m.path, 'none', ['bind', 'ro', 'optional']);
    else
      mountEntry(w, 'tmpfs', m.path, 'tmpfs', [
        'ro',
        'nosuid',
        'nodev',
        'noexec',
        'size=4k',
        'mode=0555',
        'optional',
      ]);
  }
  for (const p of policy.readOnlyPaths) {
    // /proc/bus, /proc/fs and /proc/irq are the same in every PID namespace: the host's are the guest's.
    const source = GLOBAL_PROC_READ_ONLY_PATHS.includes(p) ? p : `${ctx.rootfsPath}${p}`;
    mountEntry(w, source, p, 'none', ['bind', 'ro', 'optional']);
  }
  for (const f of policy.sharedFolders) {
    const opts = ['bind', 'create=dir', 'nosuid', 'nodev'];
    if (f.mode === 'ro') opts.push('ro');
    mountEntry(w, f.host, f.guest, 'none', opts);
  }
  for (const m of ctx.extraMounts ?? [])
    mountEntry(w, m.source, m.target, 'none', m.options.split(','));
  // A private, sized /tmp: writes there never reach a host disk and stop at the limit.
  mountEntry(w, 'tmpfs', '/tmp', 'tmpfs', [
    'rw',
    'nosuid',
    'nodev',
    'mode=1777',
    `size=${policy.storage.tmpMaxBytes}`,
    'create=dir',
  ]);

  w.blank();
  w.comment(`Network: ${policy.network}`);
  if (policy.network === 'none') {
    w.set('lxc.net.0.type', 'empty');
  } else {
    w.set('lxc.net.0.type', 'veth');
    w.set('lxc.net.0.link', ctx.natBridge ?? 'lxcbr0');
    w.set('lxc.net.0.name', 'eth0');
    w.set('lxc.net.0.flags', 'up');
  }

  const readOnly: string[] = [];
  if (policy.mountAuto.proc === 'mixed') readOnly.push('/proc/sys', '/proc/sysrq-trigger');
  if (policy.mountAuto.sys === 'ro') readOnly.push('/sys');
  if (policy.mountAuto.cgroup === 'ro') {
    if (version === 2) {
      readOnly.push('/sys/fs/cgroup');
    } else {
      // LXC mounts the v1 hierarchies read-only on a tmpfs it leaves writable (after every
      // mount entry, so the config cannot remount it): the promise is about the hierarchies.
      readOnly.push(...V1_LIMIT_HIERARCHIES.map((h) => `/sys/fs/cgroup/${h}`));
      notes.push({
        field: '/mountAuto/cgroup',
        message:
          'on this cgroup v1 host the tmpfs LXC mounts at /sys/fs/cgroup stays writable; the cgroup hierarchies in it are read-only',
      });
    }
  }
  readOnly.push(...policy.readOnlyPaths);
  readOnly.push(...policy.sharedFolders.filter((f) => f.mode === 'ro').map((f) => f.guest));

  const nsNames: ProbeExpectations['namespaces'] = ['pid', 'mnt', 'net', 'uts'];
  if (policy.namespaces.ipc) nsNames.push('ipc');
  if (policy.namespaces.cgroup) nsNames.push('cgroup');
  if (user) nsNames.push('user');

  const denied = deniedSyscalls(policy);
  // Both mount(2) and the new mount API (fsopen) must be denied for debugfs to stay unmountable.
  const mountDenied = ['mount', 'fsopen'].every((call) => denied.some((d) => d.syscall === call));
  const lxcDefaultProfile =
    apparmorAvailable && mode === 'enforce' && profile.startsWith('lxc-container-default');

  const expectations: ProbeExpectations = {
    hostname: policy.hostname,
    namespaces: nsNames,
    capabilities: grantable,
    noNewPrivs: policy.noNewPrivs,
    seccomp: true,
    deniedSyscalls: denied,
    maskedPaths: policy.maskedPaths.map((m) => m.path),
    readOnlyPaths: readOnly,
    // LXC never mounts debugfs; the guest cannot either without CAP_SYS_ADMIN, with the mount
    // syscalls denied, or under LXC's AppArmor profile (which denies fstype=debugfs).
    noDebugfs: mountDenied || !grantable.includes('sys_admin') || lxcDefaultProfile,
    mknodDenied: !grantable.includes('mknod'),
    allowedDevices: [...deviceNodes],
    networkInterfaces: policy.network === 'none' ? ['lo'] : ['lo', 'eth0'],
    hostLoopbackUnreachable: true,
    hostAbstractSocketUnreachable: true,
    hostIpcInvisible: policy.namespaces.ipc,
    memoryLimitBytes:
      policy.limits.memoryMax !== undefined && !unsupported.has('memoryMax')
        ? policy.limits.memoryMax
        : null,
    pidsLimit:
      policy.limits.pidsMax !== undefined && !unsupported.has('pidsMax')
        ? policy.limits.pidsMax
        : null,
    noDebugging,
    userNamespace:
      user && ctx.idRange !== undefined
        ? { hostBase: ctx.idRange.hostBase, count: ctx.idRange.count }
        : null,
    // The root layer is the guest's `/` (a sized tmpfs); /data, where a guest has one, is its
    // own image. Any other writable host-backed folder is held to the root layer's size.
    storage: {
      defaultMaxBytes: policy.storage.maxBytes,
      paths: [{ path: '/data', maxBytes: policy.storage.dataMaxBytes }],
    },
    consoleMaxBytes: policy.storage.consoleMaxBytes,
  };

  return {
    lxcConfig: w.toString(),
    storage: { ...policy.storage },
    rootIds,
    seccompProfile: compileSeccomp(policy),
    bridge: {
      globals: [...policy.bridge.globals],
      clipboard: { ...policy.bridge.clipboard, mimeTypes: [...policy.bridge.clipboard.mimeTypes] },
      ...policy.bridge.limits,
    },
    expectations,
    notes,
  };
}
