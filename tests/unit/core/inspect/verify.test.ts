import { describe, expect, it } from 'vitest';
import type { ProbeExpectations } from '../../../../electron/core/policy/probe-expectations.js';
import {
  MAX_PROBE_OUTPUT_BYTES,
  parseProbeOutput,
  ProbeOutputError,
} from '../../../../electron/core/inspect/probe-output.js';
import {
  renderReportTable,
  reportToJson,
} from '../../../../electron/core/inspect/report-format.js';
import type { HostView } from '../../../../electron/core/inspect/host-view.js';
import {
  compareObservations,
  DEBUG_ATTEMPTS,
  ESCAPE_CLASSES,
  FILL_TEST_MARGIN,
  globMatch,
  PIDS_TEST_MARGIN,
  probeArgv,
  verifyIsolation,
  VerifyError,
  type HostFacts,
  type ProbeRun,
} from '../../../../electron/core/inspect/verify.js';

/** A crafted probe document; tests mutate it freely, as a hostile guest could. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

const RANGE_BASE = 0x7000_0000;
const CAPS = ['chown', 'dac_override', 'fowner', 'kill', 'setgid', 'setuid', 'net_bind_service'];
const MiB = 2 ** 20;

const expectations: ProbeExpectations = {
  hostname: 'droidway',
  namespaces: ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup'],
  capabilities: CAPS,
  noNewPrivs: true,
  seccomp: true,
  deniedSyscalls: [
    { syscall: 'mount', result: 'EPERM' },
    { syscall: 'keyctl', result: 'ENOSYS' },
    { syscall: 'kexec_load', result: 'kill' },
  ],
  maskedPaths: ['/proc/kcore', '/proc/acpi', '/proc/timer_list'],
  readOnlyPaths: ['/proc/sys', '/proc/sysrq-trigger'],
  noDebugfs: true,
  mknodDenied: true,
  allowedDevices: ['null', 'zero', '/dev/full', 'pts/*', 'ptmx'],
  networkInterfaces: ['lo'],
  hostLoopbackUnreachable: true,
  hostAbstractSocketUnreachable: true,
  hostIpcInvisible: true,
  memoryLimitBytes: 64 * MiB,
  pidsLimit: 100,
  noDebugging: true,
  userNamespace: { hostBase: RANGE_BASE, count: 131072 },
  storage: { defaultMaxBytes: 512 * MiB, paths: [{ path: '/data', maxBytes: 2048 * MiB }] },
  consoleMaxBytes: MiB,
};

/** The host's view of a container that keeps every promise above. */
function goodView(): HostView {
  const map = [{ inside: 0, outside: RANGE_BASE, count: 131072 }];
  const closed = { uid: 0, gid: 0, mode: 0o700 };
  return {
    initPid: 31337,
    uidMap: map,
    gidMap: map.map((l) => ({ ...l })),
    mounts: [],
    writableHostMounts: [
      {
        guestPath: '/',
        fstype: 'tmpfs',
        mountOptions: ['rw', 'nosuid', 'nodev', 'relatime'],
        sizeBytes: 512 * MiB,
        hostPath: '/run/droidway/instances/x/rootfs',
        hostMountOptions: ['rw', 'relatime'],
        hostParents: [
          {
            path: '/run/droidway/instances/x/rootfs',
            uid: RANGE_BASE,
            gid: RANGE_BASE,
            mode: 0o755,
          },
          { path: '/run/droidway/instances/x', ...closed },
        ],
      },
      {
        guestPath: '/data',
        fstype: 'ext4',
        mountOptions: ['rw', 'nosuid', 'nodev'],
        sizeBytes: 2000 * MiB,
        hostPath: '/var/lib/droidway/instances/x/data',
        hostMountOptions: ['rw', 'nosuid', 'nodev'],
        hostParents: [],
      },
    ],
    cgroupFiles: [
      {
        controller: 'memory',
        path: '/sys/fs/cgroup/memory/lxc.payload.x/memory.limit_in_bytes',
        uid: 0,
        gid: 0,
        mode: 0o644,
      },
      {
        controller: 'pids',
        path: '/sys/fs/cgroup/pids/lxc.payload.x/pids.max',
        uid: 0,
        gid: 0,
        mode: 0o644,
      },
      {
        controller: 'devices',
        path: '/sys/fs/cgroup/devices/lxc.payload.x/devices.allow',
        uid: 0,
        gid: 0,
        mode: 0o200,
      },
    ],
    initNamespaces: { pid: 200, user: 206 },
    initFds: [{ fd: 0, target: '/dev/null' }],
    initCwd: { path: '/', withinRoot: true },
    consoleBytes: MiB - 100,
    errors: [],
  };
}

const host: HostFacts = {
  namespaces: { pid: 100, mnt: 101, net: 102, ipc: 103, uts: 104, cgroup: 105, user: 106 },
  process: { pid: 4242, comm: 'node', startTime: '123456' },
  tcpPort: 40123,
  abstractSocket: 'droidway-verify-abc',
  ipcKey: 987654,
  view: goodView(),
};

const ESCAPES = ESCAPE_CLASSES.map((c) => c.name);

const none = () => ({ bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] });

/** Wire-format probe output of a container that keeps every promise above. */
function goodOutput(): Doc {
  const ns = {
    pid: 200,
    mnt: 201,
    net: 202,
    ipc: 203,
    uts: 204,
    cgroup: 205,
    user: 206,
    time: 107,
  };
  return {
    format: 'droidway-probe/1',
    pid: { self: 57, parent: 0, init_comm: 'init', errors: [] },
    host_pid: { pid: 4242, visible: false, comm: null, start_time: null, errors: [] },
    namespaces: { self: { ...ns }, init: { ...ns }, errors: [] },
    capabilities: {
      last_cap: 40,
      bounding: [...CAPS],
      effective: [...CAPS],
      permitted: [...CAPS],
      inheritable: [],
      ambient: [],
      init: { ...none(), bounding: [...CAPS], effective: [...CAPS], permitted: [...CAPS] },
      errors: [],
    },
    status: {
      no_new_privs: 1,
      seccomp: 2,
      prctl_no_new_privs: 1,
      init_no_new_privs: 1,
      init_seccomp: 2,
      errors: [],
    },
    syscalls: [
      { name: 'mount', ret: -1, errno: 'EPERM', signal: null, error: null },
      { name: 'keyctl', ret: -1, errno: 'ENOSYS', signal: null, error: null },
      { name: 'kexec_load', ret: null, errno: null, signal: 'SIGSYS', error: null },
    ],
    masked_paths: [
      {
        path: '/proc/kcore',
        exists: true,
        type: 'chr',
        rdev: '1:3',
        read_bytes: 0,
        read_errno: null,
        entries: null,
        write_ok: true,
        write_errno: null,
        errors: [],
      },
      {
        path: '/proc/acpi',
        exists: true,
        type: 'dir',
        rdev: null,
        read_bytes: null,
        read_errno: null,
        entries: 0,
        write_ok: null,
        write_errno: null,
        errors: [],
      },
      {
        path: '/proc/timer_list',
        exists: false,
        type: null,
        rdev: null,
        read_bytes: null,
        read_errno: null,
        entries: null,
        write_ok: null,
        write_errno: null,
        errors: [],
      },
    ],
    readonly_paths: [
      {
        path: '/proc/sys',
        exists: true,
        type: 'dir',
        rdev: null,
        ro_mount: true,
        access_w_errno: 'EROFS',
        write_ok: null,
        write_errno: null,
        errors: [],
      },
      {
        path: '/proc/sysrq-trigger',
        exists: true,
        type: 'file',
        rdev: null,
        ro_mount: false,
        access_w_errno: 'EACCES',
        write_ok: false,
        write_errno: 'EACCES',
        errors: [],
      },
    ],
    debugfs: { mounted_at: [], mount_ok: false, mount_errno: 'EPERM', errors: [] },
    mknod: { created: false, errno: 'EPERM', errors: [] },
    devices: {
      nodes: [
        { path: '/dev/null', type: 'c', major: 1, minor: 3 },
        { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
        { path: '/dev/full', type: 'c', major: 1, minor: 7 },
        { path: '/dev/pts/0', type: 'c', major: 136, minor: 0 },
        { path: '/dev/ptmx', type: 'c', major: 5, minor: 2 },
      ],
      truncated: false,
      errors: [],
    },
    network: { source: '/proc/self/net/dev', interfaces: ['lo'], errors: [] },
    host_tcp: { port: 40123, connected: false, errno: 'ECONNREFUSED', errors: [] },
    host_abstract: {
      name: 'droidway-verify-abc',
      connected: false,
      errno: 'ECONNREFUSED',
      errors: [],
    },
    host_ipc: {
      key: 987654,
      msg_found: false,
      msg_errno: 'ENOENT',
      shm_found: false,
      shm_errno: 'ENOENT',
      sem_found: false,
      sem_errno: 'ENOENT',
      errors: [],
    },
    hostname: { nodename: 'droidway', domainname: '(none)', machine: 'x86_64', errors: [] },
    cwd: {
      self: '/',
      self_within_root: true,
      init: '/',
      init_within_root: true,
      errors: [],
    },
    init_fds: {
      fds: [
        { fd: 0, target: '/dev/null', errno: null },
        { fd: 1, target: '/dev/pts/0', errno: null },
        { fd: 2, target: 'pipe:[1234]', errno: null },
      ],
      errors: [],
    },
    pids_test: {
      requested: true,
      max: 100 + PIDS_TEST_MARGIN,
      forked: 93,
      fork_errno: 'EAGAIN',
      reaped: 93,
      errors: [],
    },
    memory_test: {
      requested: true,
      limit_bytes: 64 * MiB,
      max_bytes: 128 * MiB,
      reached_bytes: 62 * MiB,
      killed: true,
      signal: 'SIGKILL',
      alloc_errno: null,
      cgroup: {
        source: '/sys/fs/cgroup/memory',
        failcnt_before: 0,
        failcnt_after: 12,
        oom_kill_before: 0,
        oom_kill_after: 1,
      },
      errors: [],
    },
    debug: {
      target: 1,
      attempts: DEBUG_ATTEMPTS.map((name) => ({
        name,
        ret: -1,
        errno: name === 'proc_mem' ? 'EACCES' : 'EPERM',
        signal: null,
        error: null,
      })),
      errors: [],
    },
    escapes: {
      requested: true,
      attempts: ESCAPES.map((name) => ({
        name,
        target: `/tmp/droidway-probe-x/${name}`,
        succeeded: false,
        step: 'mount',
        errno: 'EPERM',
        error: null,
      })),
      errors: [],
    },
    fill_test: {
      requested: true,
      dir: '/',
      max_bytes: 512 * MiB + FILL_TEST_MARGIN,
      written_bytes: 500 * MiB,
      errno: 'ENOSPC',
      signal: null,
      errors: [],
    },
    console_flood: { requested: true, written_bytes: 2 * MiB, errno: null, errors: [] },
  };
}

function failedIds(doc: Doc, exp: ProbeExpectations = expectations): string[] {
  const report = compareObservations(exp, parseProbeOutput(JSON.stringify(doc)), host);
  return report.rows.filter((r) => !r.pass).map((r) => r.id);
}

describe('compareObservations', () => {
  it('passes every check for a container that keeps every promise', () => {
    const report = compareObservations(
      expectations,
      parseProbeOutput(JSON.stringify(goodOutput())),
      host,
    );
    expect(report.rows.filter((r) => !r.pass)).toEqual([]);
    expect(report.pass).toBe(true);
    // One row per promise: the syscalls, paths and namespaces each get their own.
    const ids = report.rows.map((r) => r.id);
    for (const id of [
      'pid.init',
      'pid.host-invisible',
      'ns.net',
      'caps.bounding',
      'caps.ambient',
      'status.seccomp',
      'syscall.mount',
      'syscall.kexec_load',
      'masked./proc/kcore',
      'readonly./proc/sys',
      'debugfs',
      'mknod',
      'devices',
      'net.interfaces',
      'net.host-loopback',
      'net.host-abstract',
      'ipc.host-invisible',
      'uts.hostname',
      'memory.limit',
      'pids.limit',
      'init.fds',
      'cwd.inside-rootfs',
    ]) {
      expect(ids).toContain(id);
    }
    expect(report.rows.find((r) => r.id === 'memory.limit')?.seen).toContain('oom_kill 0→1');
  });

  // Each mutation breaks one promise; exactly that check must fail.
  const mutations: Array<[string, string[], (d: Doc) => void]> = [
    [
      'PID 1 is the host init (shared pid namespace)',
      ['pid.init', 'ns.pid'],
      (d) => {
        d.namespaces.self.pid = 100;
        d.namespaces.init.pid = 100;
      },
    ],
    [
      'PID 1 is in another pid namespace',
      ['pid.init'],
      (d) => {
        d.namespaces.init.pid = 999;
      },
    ],
    [
      'the host process is visible',
      ['pid.host-invisible'],
      (d) => {
        Object.assign(d.host_pid, { visible: true, comm: 'node', start_time: '123456' });
      },
    ],
    [
      'the host network namespace is shared',
      ['ns.net'],
      (d) => {
        d.namespaces.self.net = 102;
      },
    ],
    [
      'an extra capability in every set',
      [
        'caps.bounding',
        'caps.effective',
        'caps.permitted',
        'caps.init.bounding',
        'caps.init.effective',
        'caps.init.permitted',
      ],
      (d) => {
        const c = d.capabilities;
        for (const set of [c, c.init]) {
          for (const k of ['bounding', 'effective', 'permitted']) set[k].push('sys_admin');
        }
      },
    ],
    [
      'a capability missing from the bounding set',
      ['caps.bounding'],
      (d) => {
        d.capabilities.bounding.pop();
      },
    ],
    [
      'an ambient capability',
      ['caps.ambient'],
      (d) => {
        d.capabilities.ambient.push('chown');
      },
    ],
    [
      'an inheritable capability in init',
      ['caps.inheritable'],
      (d) => {
        d.capabilities.init.inheritable.push('kill');
      },
    ],
    [
      'no_new_privs off',
      ['status.no-new-privs'],
      (d) => {
        d.status.no_new_privs = 0;
        d.status.prctl_no_new_privs = 0;
      },
    ],
    [
      'no seccomp filter',
      ['status.seccomp'],
      (d) => {
        d.status.seccomp = 0;
      },
    ],
    [
      'a syscall that returned ENOSYS instead of EPERM',
      ['syscall.mount'],
      (d) => {
        d.syscalls[0].errno = 'ENOSYS';
      },
    ],
    [
      'a syscall that was allowed',
      ['syscall.keyctl'],
      (d) => {
        Object.assign(d.syscalls[1], { ret: 0, errno: null });
      },
    ],
    [
      'a kill rule that returned an errno',
      ['syscall.kexec_load'],
      (d) => {
        Object.assign(d.syscalls[2], { ret: -1, errno: 'EPERM', signal: null });
      },
    ],
    [
      'a syscall the probe did not attempt',
      ['syscall.mount'],
      (d) => {
        d.syscalls.shift();
      },
    ],
    [
      'a masked path readable',
      ['masked./proc/kcore'],
      (d) => {
        Object.assign(d.masked_paths[0], {
          type: 'file',
          rdev: null,
          read_bytes: 4096,
          write_ok: false,
          write_errno: 'EACCES',
        });
      },
    ],
    [
      'a masked path writable',
      ['masked./proc/kcore'],
      (d) => {
        Object.assign(d.masked_paths[0], {
          type: 'file',
          rdev: null,
          read_bytes: 0,
          write_ok: true,
        });
      },
    ],
    [
      'a masked directory with entries',
      ['masked./proc/acpi'],
      (d) => {
        d.masked_paths[1].entries = 3;
      },
    ],
    [
      'a read-only path writable',
      ['readonly./proc/sysrq-trigger'],
      (d) => {
        Object.assign(d.readonly_paths[1], {
          access_w_errno: null,
          write_ok: true,
          write_errno: null,
        });
      },
    ],
    [
      'a read-only directory on a read-write mount',
      ['readonly./proc/sys'],
      (d) => {
        Object.assign(d.readonly_paths[0], { ro_mount: false, access_w_errno: null });
      },
    ],
    [
      'debugfs mounted',
      ['debugfs'],
      (d) => {
        d.debugfs.mounted_at = ['/sys/kernel/debug'];
      },
    ],
    [
      'debugfs mountable',
      ['debugfs'],
      (d) => {
        Object.assign(d.debugfs, { mount_ok: true, mount_errno: null });
      },
    ],
    [
      'mknod allowed',
      ['mknod'],
      (d) => {
        Object.assign(d.mknod, { created: true, errno: null });
      },
    ],
    [
      'an extra device node',
      ['devices'],
      (d) => {
        d.devices.nodes.push({ path: '/dev/sda', type: 'b', major: 8, minor: 0 });
      },
    ],
    [
      'a truncated device list',
      ['devices'],
      (d) => {
        d.devices.truncated = true;
      },
    ],
    [
      'an extra interface',
      ['net.interfaces'],
      (d) => {
        d.network.interfaces.push('eth0');
      },
    ],
    [
      'host loopback reachable',
      ['net.host-loopback'],
      (d) => {
        Object.assign(d.host_tcp, { connected: true, errno: null });
      },
    ],
    [
      'host abstract socket reachable',
      ['net.host-abstract'],
      (d) => {
        Object.assign(d.host_abstract, { connected: true, errno: null });
      },
    ],
    [
      'host IPC visible',
      ['ipc.host-invisible'],
      (d) => {
        Object.assign(d.host_ipc, { msg_found: true, msg_errno: null });
      },
    ],
    [
      'the wrong hostname',
      ['uts.hostname'],
      (d) => {
        d.hostname.nodename = 'vm';
      },
    ],
    [
      'no OOM kill',
      ['memory.limit'],
      (d) => {
        Object.assign(d.memory_test, { killed: false, signal: null, reached_bytes: 128 * MiB });
      },
    ],
    [
      'killed by something else than the OOM killer',
      ['memory.limit'],
      (d) => {
        Object.assign(d.memory_test, { killed: false, signal: 'SIGALRM' });
      },
    ],
    [
      'pids limit not hit',
      ['pids.limit'],
      (d) => {
        Object.assign(d.pids_test, { forked: 132, fork_errno: null, reaped: 132 });
      },
    ],
    [
      'children not reaped',
      ['pids.limit'],
      (d) => {
        d.pids_test.reaped = 90;
      },
    ],
    [
      'init holds a host file open',
      ['init.fds'],
      (d) => {
        d.init_fds.fds.push({ fd: 3, target: '/home/user/.ssh/id_ed25519', errno: null });
      },
    ],
    [
      'init cwd outside the rootfs',
      ['cwd.inside-rootfs'],
      (d) => {
        Object.assign(d.cwd, { init: '/home/user', init_within_root: false });
      },
    ],
  ];

  for (const [name, ids, mutate] of mutations) {
    it(`fails only ${ids.join(', ')} when ${name}`, () => {
      const doc = goodOutput();
      mutate(doc);
      expect(failedIds(doc)).toEqual(ids);
    });
  }

  it('fails a check whose value could not be measured, with the probe error in seen', () => {
    const doc = goodOutput();
    doc.capabilities.bounding = null;
    doc.capabilities.errors = ['PR_CAPBSET_READ: EPERM'];
    doc.namespaces.self.uts = null;
    doc.namespaces.errors = ['/proc/self/ns/uts: ENOENT'];
    const report = compareObservations(expectations, parseProbeOutput(JSON.stringify(doc)), host);
    const failed = report.rows.filter((r) => !r.pass);
    expect(failed.map((r) => r.id)).toEqual(['ns.uts', 'caps.bounding']);
    expect(failed[0]?.seen).toContain('ENOENT');
    expect(report.pass).toBe(false);
  });

  it('fails the host reachability checks when the host fixtures are missing', () => {
    const bare: HostFacts = { ...host, tcpPort: null, abstractSocket: null, ipcKey: null };
    const report = compareObservations(
      expectations,
      parseProbeOutput(JSON.stringify(goodOutput())),
      bare,
    );
    const failed = report.rows.filter((r) => !r.pass);
    expect(failed.map((r) => r.id)).toEqual([
      'net.host-loopback',
      'net.host-abstract',
      'ipc.host-invisible',
    ]);
    expect(failed[0]?.seen).toBe('no host fixture given');
  });

  it('lets a policy without a promise pass that row and says so', () => {
    const loose: ProbeExpectations = {
      ...expectations,
      noNewPrivs: false,
      seccomp: false,
      memoryLimitBytes: null,
      pidsLimit: null,
    };
    const doc = goodOutput();
    doc.status.seccomp = 0;
    doc.status.no_new_privs = 0;
    const report = compareObservations(loose, parseProbeOutput(JSON.stringify(doc)), host);
    expect(report.pass).toBe(true);
    expect(report.rows.find((r) => r.id === 'status.seccomp')?.expected).toBe('not required');
    expect(report.rows.find((r) => r.id === 'memory.limit')?.expected).toBe('no limit');
  });

  it('uses initFdTargets when the expectations give them', () => {
    expect(failedIds(goodOutput(), { ...expectations, initFdTargets: ['/dev/null'] })).toEqual([
      'init.fds',
    ]);
  });
});

describe('debugging and escape rows', () => {
  for (const name of DEBUG_ATTEMPTS) {
    it(`fails debug.${name} when the kernel lets it through`, () => {
      const doc = goodOutput();
      const a = doc.debug.attempts.find((x: Doc) => x.name === name);
      Object.assign(
        a,
        name.startsWith('process_vm') ? { ret: -1, errno: 'EFAULT' } : { ret: 0, errno: null },
      );
      expect(failedIds(doc)).toEqual([`debug.${name}`]);
    });
  }

  it('fails a debug row whose attempt was killed or is missing, and reports EFAULT as access', () => {
    const doc = goodOutput();
    Object.assign(doc.debug.attempts[1], { ret: null, errno: null, signal: 'SIGSYS' });
    doc.debug.attempts.splice(3, 1);
    Object.assign(doc.debug.attempts[0], { ret: -1, errno: 'ESRCH' });
    expect(failedIds(doc)).toEqual([
      'debug.proc_mem',
      'debug.process_vm_readv',
      'debug.pidfd_getfd',
    ]);
    const efault = goodOutput();
    Object.assign(efault.debug.attempts[2], { errno: 'EFAULT' });
    const report = compareObservations(
      expectations,
      parseProbeOutput(JSON.stringify(efault)),
      host,
    );
    expect(report.rows.find((r) => r.id === 'debug.process_vm_writev')?.seen).toMatch(
      /access granted/,
    );
  });

  it('does not require the debugging rows of a policy that allows debugging', () => {
    const doc = goodOutput();
    for (const a of doc.debug.attempts) Object.assign(a, { ret: 0, errno: null });
    const report = compareObservations(
      { ...expectations, noDebugging: false },
      parseProbeOutput(JSON.stringify(doc)),
      host,
    );
    expect(report.rows.filter((r) => !r.pass)).toEqual([]);
    expect(report.rows.find((r) => r.id === 'debug.kcmp')?.expected).toMatch(/not required/);
  });

  for (const name of ESCAPES) {
    it(`fails escape.${name} when the attack succeeds`, () => {
      const doc = goodOutput();
      const a = doc.escapes.attempts.find((x: Doc) => x.name === name);
      Object.assign(a, { succeeded: true, step: null, errno: null });
      // A binfmt_misc rule inside the guest's own user namespace never reaches the host.
      doc.namespaces.self.user = host.namespaces.user;
      expect(failedIds(doc)).toEqual([`escape.${name}`]);
    });
  }

  it('passes an accepted binfmt_misc rule only in a user namespace of its own', () => {
    const doc = goodOutput();
    Object.assign(
      doc.escapes.attempts.find((x: Doc) => x.name === 'binfmt-misc'),
      {
        succeeded: true,
        step: null,
        errno: null,
      },
    );
    const own = compareObservations(expectations, parseProbeOutput(JSON.stringify(doc)), host);
    const row = own.rows.find((r) => r.id === 'escape.binfmt-misc');
    expect(row?.pass).toBe(true);
    expect(row?.seen).toMatch(/own user namespace/);
    doc.namespaces.self.user = host.namespaces.user;
    const shared = compareObservations(expectations, parseProbeOutput(JSON.stringify(doc)), host);
    expect(shared.rows.find((r) => r.id === 'escape.binfmt-misc')?.seen).toMatch(
      /HOST would run it/,
    );
  });

  it('fails every escape row when the attempts did not run or one ended without a result', () => {
    const doc = goodOutput();
    doc.escapes.requested = false;
    doc.escapes.attempts = [];
    expect(failedIds(doc)).toEqual(ESCAPES.map((n) => `escape.${n}`));
    const killed = goodOutput();
    Object.assign(killed.escapes.attempts[0], {
      succeeded: null,
      step: null,
      errno: null,
      error: 'attempt ended by SIGSYS',
    });
    killed.escapes.attempts = killed.escapes.attempts.filter((a: Doc) => a.name !== 'cgroup2');
    expect(failedIds(killed)).toEqual([`escape.${ESCAPES[0]}`, 'escape.cgroup2']);
  });
});

describe('storage fill and console flood rows', () => {
  it('passes a fill stopped by ENOSPC within the limit, and fails the other endings', () => {
    const cases: Array<[Partial<Doc>, boolean]> = [
      [{ written_bytes: 500 * MiB, errno: 'EDQUOT' }, true],
      [{ written_bytes: 512 * MiB + FILL_TEST_MARGIN, errno: null }, false],
      [{ written_bytes: 600 * MiB, errno: 'ENOSPC' }, false],
      [{ written_bytes: 10 * MiB, errno: 'EIO' }, false],
      [{ written_bytes: null, errno: null, signal: 'SIGKILL' }, false],
      [{ requested: false }, false],
      [{ dir: '/tmp' }, false],
      [{ max_bytes: 4 * MiB }, false],
    ];
    for (const [change, pass] of cases) {
      const doc = goodOutput();
      Object.assign(doc.fill_test, change);
      expect(failedIds(doc).includes('storage.fill'), JSON.stringify(change)).toBe(!pass);
    }
  });

  it('judges the console by the log size on the host, whatever the guest wrote', () => {
    const doc = goodOutput();
    Object.assign(doc.console_flood, { written_bytes: 0, errno: 'EACCES' });
    const unreachable = compareObservations(
      expectations,
      parseProbeOutput(JSON.stringify(doc)),
      host,
    );
    const row = unreachable.rows.find((r) => r.id === 'console.bounded');
    expect(row?.pass).toBe(true);
    expect(row?.seen).toMatch(/unreachable \(EACCES\)/);
    const view = { ...goodView(), consoleBytes: 3 * MiB };
    const over = compareObservations(expectations, parseProbeOutput(JSON.stringify(goodOutput())), {
      ...host,
      view,
    });
    expect(over.rows.filter((r) => !r.pass).map((r) => r.id)).toEqual(['console.bounded']);
    const noLog = compareObservations(
      { ...expectations, consoleMaxBytes: null },
      parseProbeOutput(JSON.stringify(goodOutput())),
      host,
    );
    expect(noLog.rows.find((r) => r.id === 'console.bounded')?.expected).toMatch(/not required/);
  });

  it('refuses storage and console limits the probe cannot take', () => {
    for (const bad of [
      { storage: { defaultMaxBytes: 1000, paths: [] } },
      { storage: { defaultMaxBytes: 2 ** 41, paths: [] } },
      { consoleMaxBytes: 0 },
      { consoleMaxBytes: 2 ** 30 },
    ]) {
      expect(() => probeArgv({ ...expectations, ...bad }, host)).toThrow(
        expect.objectContaining({ code: 'VERIFY_BAD_EXPECTATIONS' }),
      );
    }
  });
});

describe('host-side rows', () => {
  const HOST_ROWS = [
    'host.idmap',
    'host.mounts-nosuid',
    'host.storage',
    'host.cgroup-files',
    'host.setuid-reach',
  ];
  const withView = (change: (v: HostView) => void, exp: ProbeExpectations = expectations) => {
    const view = goodView();
    change(view);
    return compareObservations(exp, parseProbeOutput(JSON.stringify(goodOutput())), {
      ...host,
      view,
    });
  };
  const failed = (r: ReturnType<typeof withView>) => r.rows.filter((x) => !x.pass).map((x) => x.id);

  it('passes a user-namespaced container with bounded, nosuid storage', () => {
    const report = withView(() => {});
    expect(failed(report)).toEqual([]);
    expect(report.hostEquivalent).toBe(false);
    for (const id of HOST_ROWS) expect(report.rows.map((r) => r.id)).toContain(id);
  });

  it('fails every host row, as not measured, without a host view', () => {
    const report = compareObservations(
      expectations,
      parseProbeOutput(JSON.stringify(goodOutput())),
      {
        ...host,
        view: null,
      },
    );
    // The console's log size is a host fact too.
    expect(failed(report)).toEqual(['console.bounded', ...HOST_ROWS]);
    expect(report.rows.find((r) => r.id === 'host.idmap')?.seen).toMatch(/not measured/);
  });

  it('labels a container without a user namespace host-equivalent and fails it', () => {
    const identity = [{ inside: 0, outside: 0, count: 4294967295 }];
    const report = withView(
      (v) => {
        v.uidMap = identity;
        v.gidMap = identity;
        for (const f of v.cgroupFiles ?? []) f.mode = 0o644;
      },
      { ...expectations, userNamespace: null },
    );
    expect(report.hostEquivalent).toBe(true);
    expect(failed(report)).toEqual(['host.idmap', 'host.cgroup-files', 'host.setuid-reach']);
    expect(report.rows.find((r) => r.id === 'host.idmap')?.seen).toMatch(/guest root is host root/);
    expect(renderReportTable(report)).toMatch(/host-equivalent/);
  });

  it('fails a map that leaves the instance range, or an empty one', () => {
    expect(
      failed(withView((v) => (v.uidMap = [{ inside: 0, outside: RANGE_BASE - 1, count: 10 }]))),
    ).toEqual(['host.idmap']);
    expect(failed(withView((v) => (v.gidMap = [])))).toEqual(['host.idmap']);
    expect(failed(withView((v) => (v.uidMap = null)))).toEqual(['host.idmap']);
  });

  it('fails a writable host-backed mount without nosuid or nodev', () => {
    const report = withView((v) => (v.writableHostMounts![1]!.mountOptions = ['rw', 'nodev']));
    expect(failed(report)).toEqual(['host.mounts-nosuid']);
    expect(report.rows.find((r) => r.id === 'host.mounts-nosuid')?.seen).toContain(
      '/data (rw,nodev)',
    );
  });

  it('fails storage over its limit, of unknown size, or without a limit', () => {
    expect(failed(withView((v) => (v.writableHostMounts![0]!.sizeBytes = 513 * MiB)))).toEqual([
      'host.storage',
    ]);
    expect(failed(withView((v) => (v.writableHostMounts![1]!.sizeBytes = null)))).toEqual([
      'host.storage',
    ]);
    expect(failed(withView(() => {}, { ...expectations, storage: null }))).toEqual([
      'storage.fill',
      'host.storage',
    ]);
  });

  it("fails cgroup limit files the guest's ids can write, or anyone can", () => {
    expect(
      failed(
        withView((v) => Object.assign(v.cgroupFiles![0]!, { uid: RANGE_BASE + 0, mode: 0o644 })),
      ),
    ).toEqual(['host.cgroup-files']);
    expect(
      failed(withView((v) => Object.assign(v.cgroupFiles![1]!, { gid: RANGE_BASE, mode: 0o664 }))),
    ).toEqual(['host.cgroup-files']);
    expect(failed(withView((v) => (v.cgroupFiles![2]!.mode = 0o666)))).toEqual([
      'host.cgroup-files',
    ]);
    expect(failed(withView((v) => (v.cgroupFiles = [])))).toEqual(['host.cgroup-files']);
  });

  it('fails a guest-writable host folder that other host users can reach and run setuid files from', () => {
    const report = withView((v) => {
      v.writableHostMounts![0]!.hostParents = v.writableHostMounts![0]!.hostParents.map((p) => ({
        ...p,
        mode: 0o755,
      }));
    });
    expect(failed(report)).toEqual(['host.setuid-reach']);
    expect(report.rows.find((r) => r.id === 'host.setuid-reach')?.seen).toContain(
      '/run/droidway/instances/x/rootfs',
    );
    // A 0700 parent owned by the guest's root closes the path as well as a root-owned one;
    // owned by another host user it does not.
    const guestOwned = withView((v) => {
      v.writableHostMounts![0]!.hostParents = [
        { path: '/run/droidway/instances/x', uid: RANGE_BASE, gid: RANGE_BASE, mode: 0o700 },
      ];
    });
    expect(failed(guestOwned)).toEqual([]);
    const userOwned = withView((v) => {
      v.writableHostMounts![0]!.hostParents = [
        { path: '/home/someone', uid: 1000, gid: 1000, mode: 0o700 },
      ];
    });
    expect(failed(userOwned)).toEqual(['host.setuid-reach']);
  });

  it("uses the host's view of init where a non-dumpable init hides it from the guest", () => {
    const doc = goodOutput();
    doc.namespaces.init.pid = null;
    doc.init_fds.fds = [{ fd: 0, target: null, errno: 'EACCES' }];
    Object.assign(doc.cwd, { init: null, init_within_root: null, errors: ['/proc/1/cwd: EACCES'] });
    const report = compareObservations(expectations, parseProbeOutput(JSON.stringify(doc)), host);
    expect(report.rows.filter((r) => !r.pass)).toEqual([]);
    expect(report.rows.find((r) => r.id === 'init.fds')?.seen).toMatch(/host view/);
    const blind = compareObservations(expectations, parseProbeOutput(JSON.stringify(doc)), {
      ...host,
      view: null,
    });
    expect(blind.rows.filter((r) => !r.pass).map((r) => r.id)).toEqual(
      expect.arrayContaining(['pid.init', 'init.fds', 'cwd.inside-rootfs']),
    );
  });
});

describe('globMatch', () => {
  it('matches * within one path segment only', () => {
    expect(globMatch('/dev/pts/*', '/dev/pts/0')).toBe(true);
    expect(globMatch('/dev/pts/*', '/dev/pts/x/y')).toBe(false);
    expect(globMatch('pipe:*', 'pipe:[77]')).toBe(true);
    expect(globMatch('/dev/null', '/dev/nullx')).toBe(false);
    expect(globMatch('/dev/tty.*', '/dev/ttyS0')).toBe(false);
  });
});

describe('parseProbeOutput (untrusted input)', () => {
  const rejects = (text: string, message: RegExp) => {
    let thrown: unknown;
    try {
      parseProbeOutput(text);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ProbeOutputError);
    expect((thrown as ProbeOutputError).code).toBe('PROBE_BAD_OUTPUT');
    expect((thrown as Error).message).toMatch(message);
  };

  it('rejects text that is not JSON', () => rejects('Segmentation fault', /not JSON/));
  it('rejects empty output', () => rejects('  \n', /printed nothing/));
  it('rejects output over the size cap without parsing it', () =>
    rejects(`"${'x'.repeat(MAX_PROBE_OUTPUT_BYTES)}"`, /exceeds the 4194304-byte limit/));
  it('rejects a JSON value that is not an object', () =>
    rejects('[1,2]', /\$ must be an object, got array/));
  it('rejects another format', () => {
    rejects(
      JSON.stringify({ ...goodOutput(), format: 'droidway-probe/0' }),
      /format must be "droidway-probe\/1", got "droidway-probe\/0"/,
    );
  });
  it('rejects a missing section', () => {
    const doc = goodOutput();
    delete doc.capabilities;
    rejects(JSON.stringify(doc), /\$\.capabilities is missing/);
  });
  it('rejects a missing field inside a section', () => {
    const doc = goodOutput();
    delete doc.memory_test.cgroup.oom_kill_after;
    rejects(JSON.stringify(doc), /memory_test\.cgroup\.oom_kill_after is missing/);
  });
  it('rejects wrong types, naming the field', () => {
    const cases: Array<[(d: Doc) => void, RegExp]> = [
      [(d) => (d.pid.self = '57'), /pid\.self must be an integer, got string/],
      [(d) => (d.pid.self = 1.5), /pid\.self must be an integer/],
      [
        (d) => (d.capabilities.bounding = [1]),
        /capabilities\.bounding\[0\] must be a string, got number/,
      ],
      [(d) => (d.syscalls[1].signal = 9), /syscalls\[1\]\.signal must be a string/],
      [(d) => (d.devices.nodes[0].type = 'x'), /devices\.nodes\[0\]\.type must be "c" or "b"/],
      [(d) => (d.network.interfaces = 'lo'), /network\.interfaces must be an array, got string/],
      [(d) => (d.host_tcp.connected = 'no'), /host_tcp\.connected must be a boolean/],
      [(d) => (d.status.errors = null), /status\.errors must be an array, got null/],
      [(d) => (d.namespaces.self = []), /namespaces\.self must be an object, got array/],
    ];
    for (const [mutate, message] of cases) {
      const doc = goodOutput();
      mutate(doc);
      rejects(JSON.stringify(doc), message);
    }
  });
  it('rejects oversized strings and arrays inside the document', () => {
    const doc = goodOutput();
    doc.hostname.nodename = 'h'.repeat(10_000);
    rejects(JSON.stringify(doc), /hostname\.nodename is longer than 8192/);
    const doc2 = goodOutput();
    doc2.network.interfaces = Array.from({ length: 9000 }, () => 'x');
    rejects(JSON.stringify(doc2), /network\.interfaces has more than 8192 items/);
  });
  it('rejects malformed debug and escape sections, naming the field', () => {
    const cases: Array<[(d: Doc) => void, RegExp]> = [
      [(d) => delete d.debug, /\$\.debug is missing/],
      [(d) => (d.debug.attempts = {}), /debug\.attempts must be an array/],
      [(d) => (d.debug.target = '1'), /debug\.target must be an integer/],
      [(d) => (d.debug.attempts[0].errno = 13), /debug\.attempts\[0\]\.errno must be a string/],
      [(d) => delete d.escapes.requested, /escapes\.requested is missing/],
      [
        (d) => (d.escapes.attempts[2].succeeded = 'yes'),
        /escapes\.attempts\[2\]\.succeeded must be a boolean/,
      ],
      [(d) => delete d.escapes.attempts[0].step, /escapes\.attempts\[0\]\.step is missing/],
      [
        (d) => (d.escapes.attempts[1].target = 'x'.repeat(9000)),
        /escapes\.attempts\[1\]\.target is longer than 8192/,
      ],
      [
        (d) => (d.escapes.attempts = new Array(8193).fill(d.escapes.attempts[0])),
        /escapes\.attempts has more than 8192 items/,
      ],
      [(d) => (d.escapes.attempts[0] = null), /escapes\.attempts\[0\] must be an object/],
      [(d) => (d.escapes.errors = [1]), /escapes\.errors\[0\] must be a string/],
      [(d) => delete d.fill_test, /\$\.fill_test is missing/],
      [(d) => (d.fill_test.written_bytes = 1.5), /fill_test\.written_bytes must be an integer/],
      [(d) => (d.fill_test.dir = 7), /fill_test\.dir must be a string/],
      [(d) => (d.fill_test.requested = null), /fill_test\.requested must be a boolean/],
      [(d) => delete d.console_flood.errno, /console_flood\.errno is missing/],
      [
        (d) => (d.console_flood.written_bytes = '1'),
        /console_flood\.written_bytes must be an integer/,
      ],
      [(d) => (d.console_flood = []), /console_flood must be an object/],
    ];
    for (const [mutate, message] of cases) {
      const doc = goodOutput();
      mutate(doc);
      rejects(JSON.stringify(doc), message);
    }
  });
  it('rejects integers a double cannot hold exactly, and a requested test without counters', () => {
    const cases: Array<[(d: Doc) => void, RegExp]> = [
      [(d) => (d.pid.self = 2 ** 60), /\$\.pid\.self must be <= 9007199254740991/],
      [(d) => (d.host_ipc.key = -(2 ** 60)), /\$\.host_ipc\.key must be >= -9007199254740991/],
      [(d) => (d.init_fds.fds = [{ fd: 0, target: 3, errno: null }]), /fds\[0\]\.target/],
      [(d) => (d.memory_test.cgroup = null), /\$\.memory_test\.cgroup must be an object, got null/],
      [(d) => delete d.memory_test.cgroup, /\$\.memory_test\.cgroup is missing/],
      [(d) => (d.format = 1), /\$\.format must be a string, got number/],
      [(d) => (d.devices.truncated = null), /\$\.devices\.truncated must be a boolean, got null/],
    ];
    for (const [mutate, message] of cases) {
      const doc = goodOutput();
      mutate(doc);
      rejects(JSON.stringify(doc), message);
    }
  });
  it('takes null for an unmeasured value, and drops the counters of a test not requested', () => {
    const doc = goodOutput();
    doc.pid.init_comm = null;
    doc.network.interfaces = null;
    doc.init_fds.fds = null;
    doc.memory_test.requested = false;
    const parsed = parseProbeOutput(JSON.stringify(doc));
    expect(parsed.pid.init_comm).toBeNull();
    expect(parsed.network.interfaces).toBeNull();
    expect(parsed.init_fds.fds).toBeNull();
    expect(parsed.memory_test).not.toHaveProperty('cgroup');
  });
  it('drops unknown keys instead of passing them on', () => {
    const doc = goodOutput();
    doc.extra = { evil: true };
    doc.status.injected = 'x';
    const parsed = parseProbeOutput(JSON.stringify(doc)) as unknown as Doc;
    expect(parsed.extra).toBeUndefined();
    expect(parsed.status.injected).toBeUndefined();
  });
});

describe('probeArgv', () => {
  it('passes every expectation and host fixture to the probe', () => {
    const argv = probeArgv(expectations, host, { scratchDir: '/run' });
    expect(argv).toEqual([
      '--host-pid',
      '4242',
      '--host-tcp-port',
      '40123',
      '--host-abstract',
      'droidway-verify-abc',
      '--host-ipc-key',
      '987654',
      '--syscall',
      'mount',
      '--syscall',
      'keyctl',
      '--syscall',
      'kexec_load',
      '--masked',
      '/proc/kcore',
      '--masked',
      '/proc/acpi',
      '--masked',
      '/proc/timer_list',
      '--readonly',
      '/proc/sys',
      '--readonly',
      '/proc/sysrq-trigger',
      '--memory-test',
      String(64 * MiB),
      '--pids-test',
      String(100 + PIDS_TEST_MARGIN),
      '--scratch',
      '/run',
      '--escapes',
      '--fill-dir',
      '/',
      '--fill-max',
      String(512 * MiB + FILL_TEST_MARGIN),
      '--console-flood',
      String(2 * MiB),
    ]);
  });
  it('passes syscall names with the argument filter the probe knows', () => {
    const argv = probeArgv(
      { ...expectations, deniedSyscalls: [{ syscall: 'unshare(CLONE_NEWUSER)', result: 'EPERM' }] },
      host,
    );
    expect(argv).toContain('unshare(CLONE_NEWUSER)');
  });
  it('refuses expectations the probe cannot express', () => {
    const bad: Array<Partial<ProbeExpectations>> = [
      { maskedPaths: ['proc/kcore'] },
      { readOnlyPaths: ['/proc/sys\0'] },
      { deniedSyscalls: [{ syscall: 'mount; rm -rf', result: 'EPERM' }] },
      { deniedSyscalls: [{ syscall: 'mount', result: 'eperm' }] },
      { deniedSyscalls: [{ syscall: 'clone(CLONE_NEWNS)', result: 'EPERM' }] },
      { memoryLimitBytes: -1 },
      { pidsLimit: 0 },
    ];
    for (const b of bad) {
      expect(() => probeArgv({ ...expectations, ...b }, host)).toThrow(
        expect.objectContaining({ code: 'VERIFY_BAD_EXPECTATIONS' }),
      );
    }
  });
});

describe('verifyIsolation', () => {
  const runner =
    (result: ProbeRun | Error, seen?: string[][]) =>
    async (argv: string[]): Promise<ProbeRun> => {
      seen?.push(argv);
      if (result instanceof Error) throw result;
      return result;
    };

  it('runs the probe with the derived argv and returns the report', async () => {
    const calls: string[][] = [];
    const report = await verifyIsolation(
      expectations,
      runner({ stdout: JSON.stringify(goodOutput()), stderr: '', exitCode: 0 }, calls),
      host,
    );
    expect(report.pass).toBe(true);
    expect(calls).toEqual([probeArgv(expectations, host)]);
  });

  it('reports a probe that exits non-zero with its stderr', async () => {
    await expect(
      verifyIsolation(
        expectations,
        runner({ stdout: '', stderr: 'droidway-probe: usage', exitCode: 2 }),
        host,
      ),
    ).rejects.toMatchObject({
      code: 'PROBE_FAILED',
      message: expect.stringContaining('status 2: droidway-probe: usage'),
    });
  });

  it('reports a runner that fails', async () => {
    await expect(
      verifyIsolation(expectations, runner(new Error('lxc-attach: container not running')), host),
    ).rejects.toMatchObject({
      code: 'PROBE_FAILED',
      message: expect.stringContaining('container not running'),
    });
  });

  it('reports garbage on stdout as bad output', async () => {
    await expect(
      verifyIsolation(
        expectations,
        runner({ stdout: '{"format":', stderr: '', exitCode: 0 }),
        host,
      ),
    ).rejects.toBeInstanceOf(ProbeOutputError);
  });

  it('gives up on a probe that never finishes', async () => {
    const never = () => new Promise<ProbeRun>(() => {});
    const err = await verifyIsolation(expectations, never, host, { timeoutMs: 20 }).catch((e) => e);
    expect(err).toBeInstanceOf(VerifyError);
    expect(err.code).toBe('PROBE_TIMEOUT');
  });
});

describe('report rendering', () => {
  it('renders a table with every row and a failing summary', () => {
    const doc = goodOutput();
    doc.network.interfaces.push('eth0\u001b[31m');
    const report = compareObservations(expectations, parseProbeOutput(JSON.stringify(doc)), host);
    const table = renderReportTable(report);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^\s+CHECK\s+EXPECTED\s+SEEN$/);
    expect(table).toMatch(/^FAIL {2}only planned network interfaces/m);
    expect(table).toMatch(/^PASS {2}hostname/m);
    // The guest's escape sequence cannot reach the terminal.
    expect(table).not.toContain('\u001b');
    expect(table).toContain('isolation NOT verified: 1 of');
    const json = JSON.parse(reportToJson(report));
    expect(json.pass).toBe(false);
    expect(json.rows.find((r: { id: string }) => r.id === 'net.interfaces').pass).toBe(false);
  });
});
