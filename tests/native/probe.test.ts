/**
 * The isolation probe run ON THE HOST (not in a container): its observations must be plausible
 * for the host, and the verifier must fail every isolation promise the host does not keep.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeExpectations } from '../../electron/core/policy/probe-expectations.js';
import {
  collectHostFacts,
  prepareHostFixtures,
  type HostFixtures,
} from '../../electron/core/inspect/host-fixtures.js';
import {
  parseProbeOutput,
  type ProbeObservations,
} from '../../electron/core/inspect/probe-output.js';
import { renderReportTable } from '../../electron/core/inspect/report-format.js';
import {
  probeArgv,
  verifyIsolation,
  type HostFacts,
  type ProbeRun,
} from '../../electron/core/inspect/verify.js';
import { LINUX_CAPABILITIES } from '../../electron/core/policy/capabilities.js';

const PROBE_DIR = resolve(import.meta.dirname, '../../native/probe');
const PROBE = join(PROBE_DIR, 'build/droidway-probe');

/** Runs a program and resolves with its output and exit status (never rejects on exit != 0). */
function runFile(file: string, args: string[]): Promise<ProbeRun> {
  return new Promise((done, fail) => {
    execFile(
      file,
      args,
      { maxBuffer: 8 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          fail(error);
          return;
        }
        done({ stdout, stderr, exitCode: error ? (error.code as number) : 0 });
      },
    );
  });
}

const runProbe = (argv: string[]) => runFile(PROBE, argv);

/** Capability names of a `CapXxx:` mask of this process, in the probe's naming. */
function ownCaps(field: 'CapBnd' | 'CapEff' | 'CapPrm'): string[] {
  const status = readFileSync('/proc/self/status', 'utf8');
  const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
  if (!hex) throw new Error(`no ${field} in /proc/self/status`);
  const mask = BigInt(`0x${hex}`);
  return LINUX_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** Pids whose parent is `pid`, read from /proc (spawning `ps` would list `ps` itself). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      if (Number(ppid) === pid) out.push(Number(entry));
    } catch {
      // The process exited while the list was read.
    }
  }
  return out;
}

function ownStatus(field: string): number {
  const v = new RegExp(`^${field}:\\s*(\\d+)$`, 'm').exec(
    readFileSync('/proc/self/status', 'utf8'),
  )?.[1];
  return Number(v);
}

/** What a strict policy would promise; the host keeps almost none of it. */
const strict: ProbeExpectations = {
  hostname: 'droidway-probe-test',
  namespaces: ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup'],
  capabilities: ['chown', 'kill', 'setuid', 'setgid'],
  noNewPrivs: true,
  seccomp: true,
  deniedSyscalls: [
    { syscall: 'mount', result: 'EPERM' },
    { syscall: 'keyctl', result: 'EPERM' },
    { syscall: 'bpf', result: 'EPERM' },
    { syscall: 'unshare', result: 'EPERM' },
    { syscall: 'reboot', result: 'kill' },
  ],
  maskedPaths: ['/proc/self/status'],
  readOnlyPaths: ['/proc/sys'],
  noDebugfs: true,
  mknodDenied: true,
  allowedDevices: ['null'],
  networkInterfaces: [],
  hostLoopbackUnreachable: true,
  hostAbstractSocketUnreachable: true,
  hostIpcInvisible: true,
  memoryLimitBytes: 8 * 2 ** 20,
  pidsLimit: 4,
  noDebugging: true,
  userNamespace: { hostBase: 0x7000_0000, count: 131072 },
  storage: { defaultMaxBytes: 2 ** 30, paths: [] },
  consoleMaxBytes: null,
};

describe('droidway-probe on the host', () => {
  let fixtures: HostFixtures;
  let facts: HostFacts;
  let obs: ProbeObservations;

  beforeAll(async () => {
    execFileSync('make', ['-C', PROBE_DIR], { stdio: 'pipe' });
    fixtures = await prepareHostFixtures();
    facts = await collectHostFacts(fixtures);
    const run = await runProbe(probeArgv(strict, facts));
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    obs = parseProbeOutput(run.stdout);
  }, 120_000);

  afterAll(async () => {
    await fixtures?.close();
  });

  it('is a static executable', () => {
    const file = execFileSync('file', ['-L', PROBE], { encoding: 'utf8' });
    expect(file).toMatch(/statically linked/);
  });

  it('sees the host: not PID 1, the host namespaces, this process visible', () => {
    expect(obs.pid.self).not.toBe(1);
    expect(obs.pid.parent).toBe(process.pid);
    for (const name of ['pid', 'mnt', 'net', 'ipc', 'uts'] as const) {
      expect(obs.namespaces.self[name]).toBe(facts.namespaces[name]);
    }
    expect(obs.host_pid).toMatchObject({
      pid: process.pid,
      visible: true,
      comm: facts.process?.comm,
      start_time: facts.process?.startTime,
    });
  });

  it("reports this process's capability sets and seccomp state", () => {
    expect(obs.capabilities.bounding).toEqual(ownCaps('CapBnd'));
    expect(obs.capabilities.effective).toEqual(ownCaps('CapEff'));
    expect(obs.capabilities.permitted).toEqual(ownCaps('CapPrm'));
    expect(obs.capabilities.ambient).toEqual([]);
    expect(obs.capabilities.inheritable).toEqual([]);
    expect(obs.status.seccomp).toBe(ownStatus('Seccomp'));
    expect(obs.status.no_new_privs).toBe(ownStatus('NoNewPrivs'));
    expect(obs.status.prctl_no_new_privs).toBe(obs.status.no_new_privs);
  });

  it('reaches the host fixtures, since it is on the host', () => {
    expect(obs.host_tcp).toMatchObject({ port: fixtures.tcpPort, connected: true, errno: null });
    expect(obs.host_abstract).toMatchObject({ name: fixtures.abstractSocket, connected: true });
    expect(obs.host_ipc).toMatchObject({ key: fixtures.ipcKey, msg_found: true });
    // Only a message queue was created under that key.
    expect(obs.host_ipc).toMatchObject({ shm_found: false, shm_errno: 'ENOENT' });
  });

  it('tries each syscall with arguments that an allowed call rejects harmlessly', () => {
    const byName = new Map(obs.syscalls.map((s) => [s.name, s]));
    expect(byName.get('keyctl')).toMatchObject({ ret: -1, errno: 'EOPNOTSUPP', signal: null });
    expect(byName.get('bpf')?.errno).toMatch(/^(EINVAL|EPERM)$/);
    // No new user namespace is left behind: it was made in a child that has exited.
    expect(byName.get('unshare')).toMatchObject({ ret: 0, errno: null });
    if (process.getuid?.() === 0 && obs.capabilities.effective?.includes('sys_admin')) {
      expect(byName.get('mount')).toMatchObject({ ret: -1, errno: 'ENODEV' });
    }
    // The host did not reboot, and the attempt reported an ordinary errno, not a signal.
    expect(byName.get('reboot')?.signal).toBeNull();
    expect(byName.get('reboot')?.errno).toMatch(/^(EINVAL|EPERM)$/);
  });

  it('gives no allowed syscall an EPERM or a signal, so a denial cannot be mistaken', async () => {
    // Every syscall the presets deny; with the capabilities present and no seccomp filter, each
    // must fail harmlessly with another errno (or succeed without lasting effect).
    const all = [
      'kexec_load',
      'kexec_file_load',
      'init_module',
      'finit_module',
      'delete_module',
      'bpf',
      'perf_event_open',
      'userfaultfd',
      'keyctl',
      'add_key',
      'request_key',
      'open_by_handle_at',
      'io_uring_setup',
      'io_uring_enter',
      'io_uring_register',
      'swapon',
      'swapoff',
      'reboot',
      'acct',
      'settimeofday',
      'clock_settime',
      'clock_adjtime',
      'adjtimex',
      'lookup_dcookie',
      'quotactl',
      'iopl',
      'ioperm',
      'clone3',
      'mount',
      'umount2',
      'pivot_root',
      'fsopen',
      'fsconfig',
      'fsmount',
      'fspick',
      'move_mount',
      'open_tree',
      'mount_setattr',
      'unshare',
      'setns',
      'ptrace',
      'process_vm_readv',
      'process_vm_writev',
      'personality',
      'syslog',
      'name_to_handle_at',
      'kcmp',
      'unshare(CLONE_NEWUSER)',
      'clone(CLONE_NEWUSER)',
      'chroot',
      'sethostname',
      'setdomainname',
      'fanotify_init',
      'mbind',
      'set_mempolicy',
      'move_pages',
    ];
    const run = await runProbe(all.flatMap((s) => ['--syscall', s]));
    const attempts = parseProbeOutput(run.stdout).syscalls;
    expect(attempts.map((a) => a.name)).toEqual(all);
    for (const a of attempts) {
      expect(a.error, a.name).toBeNull();
      expect(a.signal, a.name).toBeNull();
    }
    const privileged =
      obs.status.seccomp === 0 && obs.capabilities.effective?.includes('sys_admin');
    if (process.getuid?.() === 0 && privileged) {
      // bpf and io_uring_setup may be refused by a sysctl (unprivileged_bpf_disabled,
      // io_uring_disabled) even for root; every other EPERM would come from the arguments.
      const eperm = attempts.filter((a) => a.errno === 'EPERM').map((a) => a.name);
      expect(eperm.filter((n) => n !== 'bpf' && n !== 'io_uring_setup')).toEqual([]);
    }
  });

  it('observes the host network, hostname, devices and cwd', () => {
    expect(obs.network.interfaces).toContain('lo');
    expect(obs.hostname.nodename).toBe(execFileSync('uname', ['-n'], { encoding: 'utf8' }).trim());
    expect(obs.devices.nodes).toContainEqual({ path: '/dev/null', type: 'c', major: 1, minor: 3 });
    expect(obs.cwd.self).toBe(process.cwd());
    expect(obs.cwd.self_within_root).toBe(true);
  });

  it('runs the pids and memory tests and cleans up after them', () => {
    // The host has no 4-process limit: the probe stops at its own maximum and reaps them all.
    expect(obs.pids_test).toMatchObject({
      requested: true,
      forked: 36,
      fork_errno: null,
      reaped: 36,
    });
    expect(obs.memory_test).toMatchObject({
      requested: true,
      limit_bytes: 8 * 2 ** 20,
      killed: false,
      reached_bytes: 16 * 2 ** 20,
    });
    expect(childrenOf(process.pid)).toEqual([]);
  });

  it('tries to debug PID 1 and gets out by every escape route, since it is on the host as root', () => {
    // PID 1 is this machine's init: whether root may debug it depends on the machine, so only
    // that every attempt ran to an answer is checked here (the container tests check denials).
    for (const a of obs.debug.attempts) {
      expect(a.signal, a.name).toBeNull();
      expect(a.error, a.name).toBeNull();
      expect(a.ret, a.name).not.toBeNull();
    }
    expect(obs.debug.attempts.map((a) => a.name)).toEqual([
      'proc_mem',
      'process_vm_readv',
      'process_vm_writev',
      'pidfd_getfd',
      'kcmp',
    ]);
    expect(obs.escapes.requested).toBe(true);
    const byName = (n: string) => obs.escapes.attempts.filter((a) => a.name === n);
    // Fresh kernel file systems mount, and their host knobs open for writing (never written).
    for (const n of [
      'procfs-knob',
      'sysfs-knob',
      'tracefs-knob',
      'binfmt-misc',
      'fanotify-fs-mark',
    ])
      expect(
        byName(n).map((a) => a.succeeded),
        n,
      ).toEqual([true]);
    // The probe's folder is not a mount point on the host: there is nothing to remount.
    expect(byName('remount-ro-bind')[0]).toMatchObject({ succeeded: false, step: 'remount' });
    // Nothing the attempts made is left: no rule, no mount, no file.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toMatch(/droidway-probe-/);
    expect(readdirSync(join(PROBE_DIR, 'build')).filter((f) => f.startsWith('.droidway'))).toEqual(
      [],
    );
  });

  it('fails every isolation promise the host does not keep', async () => {
    const report = await verifyIsolation(strict, runProbe, facts);
    const failed = new Set(report.rows.filter((r) => !r.pass).map((r) => r.id));
    expect(report.pass).toBe(false);
    for (const id of [
      'pid.init',
      'pid.host-invisible',
      'ns.net',
      'ns.pid',
      'caps.bounding',
      'status.seccomp',
      'syscall.keyctl',
      'syscall.reboot',
      'masked./proc/self/status',
      'devices',
      'net.interfaces',
      'net.host-loopback',
      'net.host-abstract',
      'ipc.host-invisible',
      'uts.hostname',
      'memory.limit',
      'pids.limit',
      'escape.procfs-knob',
      'escape.binfmt-misc',
      'escape.fanotify-fs-mark',
    ]) {
      expect(failed, id).toContain(id);
    }
    expect(renderReportTable(report)).toMatch(
      /^FAIL {2}host 127\.0\.0\.1:\d+ unreachable\s+unreachable\s+connected$/m,
    );
  });

  it('writes valid JSON for paths with quotes, control characters and invalid UTF-8', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'droidway-probe-'));
    try {
      const odd = Buffer.concat([
        Buffer.from(`${dir}/a"b\\c\n\u0001`),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('é'),
      ]);
      mkdirSync(odd);
      // The odd directory becomes the probe's cwd (argv cannot carry invalid UTF-8 from JS).
      const run = await runFile('/bin/sh', [
        '-c',
        'cd "$(printf "%s/a\\"b\\\\\\\\c\\n\\001\\377\\376é" "$1")" && exec "$0" --readonly "$(pwd)"',
        PROBE,
        dir,
      ]);
      expect(run.exitCode).toBe(0);
      const parsed = parseProbeOutput(run.stdout);
      expect(parsed.cwd.self).toBe(`${dir}/a"b\\c\n\u0001\ufffd\ufffdé`);
      expect(parsed.readonly_paths[0]?.exists).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad arguments with status 2 and a message, printing no JSON', async () => {
    for (const argv of [
      ['--pids-test', '0'],
      ['--host-ipc-key', '0'],
      ['--bogus'],
      ['extra'],
      ['--masked', ''],
    ]) {
      const run = await runProbe(argv);
      expect(run.exitCode, argv.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^droidway-probe: /);
    }
  });
});
