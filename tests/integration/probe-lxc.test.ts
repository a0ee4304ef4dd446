/**
 * The isolation probe inside a real LXC container: a throwaway busybox rootfs with a hand-written
 * config (a user namespace mapped to a range of root's subordinate ids, kept capabilities,
 * no_new_privs, a seccomp profile, memory and pids limits, no network), the rootfs on a sized
 * nosuid tmpfs under a root-only folder, the probe run through `lxc-attach`, the container also
 * looked at from the host, the report checked. Everything lives under a temporary `-P`
 * directory, so nothing lands in /var/lib/lxc.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itNeeds, needRoot } from '../helpers/capability.js';
import type { ProbeExpectations } from '../../electron/core/policy/probe-expectations.js';
import {
  collectHostFacts,
  prepareHostFixtures,
  type HostFixtures,
} from '../../electron/core/inspect/host-fixtures.js';
import { collectHostView } from '../../electron/core/inspect/host-view.js';
import { renderReportTable } from '../../electron/core/inspect/report-format.js';
import { verifyIsolation, type ProbeRun } from '../../electron/core/inspect/verify.js';

const PROBE_DIR = resolve(import.meta.dirname, '../../native/probe');
const BUSYBOX = '/usr/bin/busybox';
const NAME = 'droidway-probe-it';
const MiB = 2 ** 20;

function missing(): string | null {
  const root = needRoot();
  if (root) return root;
  for (const tool of ['/usr/bin/lxc-start', '/usr/bin/lxc-attach', BUSYBOX]) {
    if (!existsSync(tool)) return `${tool} not installed`;
  }
  if (!existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) {
    return 'needs the cgroup v1 memory controller (the config below uses v1 keys)';
  }
  if (!subordinateRange('/etc/subuid') || !subordinateRange('/etc/subgid'))
    return `root has no subordinate id range holding ${ID_BASE}…+${ID_COUNT} in /etc/subuid and /etc/subgid (build/scripts/setup.sh registers it)`;
  return null;
}

/** The last of Droidway's per-instance ranges (0x70000000 + 1023 × 131072), unused by sessions. */
const ID_BASE = 0x7000_0000 + 1023 * 131_072;
const ID_COUNT = 65_536;
const ROOTFS_BYTES = 16 * 2 ** 20;

/** Whether root's entries in a subid file hold [ID_BASE, ID_BASE + ID_COUNT). */
function subordinateRange(file: string): boolean {
  if (!existsSync(file)) return false;
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((line) => {
      const [user, start, count] = line.split(':');
      return (
        user === 'root' &&
        Number(start) <= ID_BASE &&
        Number(start) + Number(count) >= ID_BASE + ID_COUNT
      );
    });
}

const KEEP = ['chown', 'dac_override', 'fowner', 'kill', 'setgid', 'setuid'];

/** What the hand-written config below promises. */
const expectations: ProbeExpectations = {
  hostname: NAME,
  namespaces: ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup', 'user'],
  capabilities: KEEP,
  noNewPrivs: true,
  seccomp: true,
  deniedSyscalls: [
    // mount: the seccomp errno; keyctl: a distinct errno, so the profile (not a missing
    // capability) is what answers; kexec_load: a kill rule.
    { syscall: 'mount', result: 'EPERM' },
    { syscall: 'keyctl', result: 'ENOSYS' },
    { syscall: 'kexec_load', result: 'kill' },
    { syscall: 'bpf', result: 'EPERM' },
  ],
  maskedPaths: ['/proc/kcore', '/proc/timer_list'],
  readOnlyPaths: ['/proc/sys', '/sys', '/proc/sysrq-trigger'],
  noDebugfs: true,
  mknodDenied: true,
  allowedDevices: ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts/*', 'console'],
  networkInterfaces: ['lo'],
  hostLoopbackUnreachable: true,
  hostAbstractSocketUnreachable: true,
  hostIpcInvisible: true,
  memoryLimitBytes: 64 * MiB,
  pidsLimit: 32,
  // This config allows ptrace; the strict preset's sessions check the denials.
  noDebugging: false,
  userNamespace: { hostBase: ID_BASE, count: ID_COUNT },
  storage: { defaultMaxBytes: ROOTFS_BYTES, paths: [] },
  // init's output goes to /dev/null: there is no console log to flood.
  consoleMaxBytes: null,
  // busybox sh keeps its script open; lxc-start's stdio is /dev/null.
  initFdTargets: ['/dev/null', '/init', 'pipe:*', '/dev/pts/*', '/dev/console'],
};

function lxc(dir: string, tool: string, args: string[]): string {
  return execFileSync(`lxc-${tool}`, ['-P', dir, '-n', NAME, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('droidway-probe in an LXC container', () => {
  let dir = '';
  let monitor: ChildProcess | null = null;
  let fixtures: HostFixtures | null = null;

  beforeAll(async () => {
    if (missing() !== null) return;
    execFileSync('make', ['-C', PROBE_DIR], { stdio: 'pipe' });
    dir = mkdtempSync(join(tmpdir(), 'droidway-probe-lxc-'));
    // Closed to other host users; the guest's root (the range's gid) may only traverse it.
    execFileSync('chown', [`0:${ID_BASE}`, dir]);
    chmodSync(dir, 0o710);
    const rootfs = join(dir, NAME, 'rootfs');
    // The guest's only writable layer: a sized tmpfs, nosuid and nodev, under the 0700 folder.
    mkdirSync(rootfs, { recursive: true });
    execFileSync('mount', [
      '-t',
      'tmpfs',
      '-o',
      `nosuid,nodev,size=${ROOTFS_BYTES},mode=0755`,
      'droidway-probe-it',
      rootfs,
    ]);
    for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp'])
      mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
    for (const tool of ['sh', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', tool));
    copyFileSync(join(PROBE_DIR, 'build/droidway-probe'), join(rootfs, 'probe'));
    writeFileSync(join(rootfs, 'init'), '#!/bin/sh\nwhile :; do sleep 1; done\n');
    chmodSync(join(rootfs, 'init'), 0o755);
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    execFileSync('chown', ['-R', '-h', `${ID_BASE}:${ID_BASE}`, rootfs]);
    writeFileSync(
      join(dir, 'seccomp'),
      [
        '2',
        'denylist',
        '[all]',
        'mount errno 1',
        'keyctl errno 38',
        'kexec_load kill',
        'bpf errno 1',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, NAME, 'config'),
      [
        `lxc.uts.name = ${NAME}`,
        `lxc.rootfs.path = dir:${rootfs}`,
        `lxc.idmap = u 0 ${ID_BASE} ${ID_COUNT}`,
        `lxc.idmap = g 0 ${ID_BASE} ${ID_COUNT}`,
        'lxc.mount.auto = proc:mixed sys:ro cgroup:mixed',
        'lxc.mount.entry = /dev/null proc/kcore none bind,optional 0 0',
        'lxc.mount.entry = /dev/null proc/timer_list none bind,optional 0 0',
        'lxc.autodev = 1',
        'lxc.net.0.type = empty',
        `lxc.cap.keep = ${KEEP.join(' ')}`,
        'lxc.no_new_privs = 1',
        `lxc.seccomp.profile = ${join(dir, 'seccomp')}`,
        'lxc.cgroup.memory.limit_in_bytes = 64M',
        // Without swap accounting the child could swap instead of being killed.
        ...(existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')
          ? ['lxc.cgroup.memory.memsw.limit_in_bytes = 64M']
          : []),
        'lxc.cgroup.pids.max = 32',
        'lxc.init.cmd = /init',
        'lxc.console.path = none',
        'lxc.tty.max = 0',
        'lxc.pty.max = 4',
        '',
      ].join('\n'),
    );
    monitor = spawn('lxc-start', ['-P', dir, '-n', NAME, '-F', '-o', join(dir, 'lxc.log')], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      if (/RUNNING/.test(lxc(dir, 'info', ['-s']))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lxc(dir, 'info', ['-s'])).toMatch(/RUNNING/);
    fixtures = await prepareHostFixtures();
  });

  afterAll(async () => {
    await fixtures?.close();
    if (!dir) return;
    try {
      lxc(dir, 'stop', ['-k']);
    } catch {
      // Not running (start failed, or already stopped).
    }
    if (monitor && monitor.exitCode === null) {
      await new Promise((r) => monitor?.once('exit', r));
    }
    try {
      execFileSync('umount', [join(dir, NAME, 'rootfs')], { stdio: 'ignore' });
    } catch {
      // Never mounted.
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Host facts with the host's own view of the container's init. */
  const factsWithView = async () => {
    const facts = await collectHostFacts(fixtures);
    facts.view = await collectHostView(Number(lxc(dir, 'info', ['-p', '-H']).trim()));
    return facts;
  };

  const runProbe = (argv: string[]): Promise<ProbeRun> =>
    new Promise((done, fail) => {
      execFile(
        'lxc-attach',
        ['-P', dir, '-n', NAME, '--clear-env', '--', '/probe', ...argv],
        { maxBuffer: 8 * MiB, timeout: 120_000 },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') fail(error);
          else done({ stdout, stderr, exitCode: error ? (error.code as number) : 0 });
        },
      );
    });

  itNeeds('verifies every promise of the config from inside and outside', missing(), async () => {
    const facts = await factsWithView();
    const report = await verifyIsolation(expectations, runProbe, facts);
    const table = renderReportTable(report);
    expect(
      report.rows.filter((r) => !r.pass),
      table,
    ).toEqual([]);
    expect(report.pass).toBe(true);
    expect(report.hostEquivalent).toBe(false);
    // Every escape was tried and refused; the host saw the mapped ids and the sized rootfs.
    expect(report.observations.escapes.attempts.length).toBeGreaterThanOrEqual(10);
    expect(facts.view?.uidMap).toEqual([{ inside: 0, outside: ID_BASE, count: ID_COUNT }]);
    expect(facts.view?.writableHostMounts?.map((m) => m.guestPath)).toEqual(['/']);
    // What a user would notice: the OOM kill in the cgroup's counter, the capped fork bomb.
    const mem = report.observations.memory_test;
    expect(mem.killed).toBe(true);
    if (mem.cgroup?.oom_kill_after != null && mem.cgroup.oom_kill_before != null) {
      expect(mem.cgroup.oom_kill_after).toBeGreaterThan(mem.cgroup.oom_kill_before);
    }
    expect(report.observations.pids_test.fork_errno).toBe('EAGAIN');
    // The container is still alive and stoppable after the fork bomb and the OOM kill.
    expect(lxc(dir, 'info', ['-s'])).toMatch(/RUNNING/);
  });

  itNeeds(
    'fails exactly the checks whose promises the container does not keep',
    missing(),
    async () => {
      const facts = await factsWithView();
      const wrong: ProbeExpectations = {
        ...expectations,
        capabilities: KEEP.filter((c) => c !== 'kill'),
        deniedSyscalls: [{ syscall: 'keyctl', result: 'EPERM' }],
        pidsLimit: null,
        memoryLimitBytes: null,
      };
      const report = await verifyIsolation(wrong, runProbe, facts);
      expect(report.rows.filter((r) => !r.pass).map((r) => r.id)).toEqual([
        'caps.bounding',
        'caps.effective',
        'caps.permitted',
        'caps.init.bounding',
        'caps.init.effective',
        'caps.init.permitted',
        'syscall.keyctl',
      ]);
    },
  );
});
