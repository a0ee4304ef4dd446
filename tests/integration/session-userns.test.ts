/**
 * Guest root is never host root, seen from both sides (root, real LXC, the built session host):
 * the demo guest boots user-namespaced under both presets, its init runs as the instance's
 * mapped host uid, what the guest plants is owned by its range on `nosuid` mounts that no other
 * host user can reach, every writable layer stops at its policy limit with ENOSPC while the host
 * disk is untouched, a planted root-layer file lives only as long as its session, the guest
 * cannot remount a read-only bind, write a cgroup limit file or flood the host with console
 * output, and the host's /usr is not there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { ValidatedPolicy } from '../../electron/core/policy/policy-document.js';
import { assertValidPolicy } from '../../electron/core/policy/policy-validate.js';
import { loadPreset } from '../../electron/core/policy/presets.js';
import { allocateIdRange, ID_RANGE_SIZE } from '../../electron/core/runtime/id-ranges.js';
import { lxcTargetOf } from '../../electron/core/runtime/instance-cleanup.js';
import type { InstancePaths } from '../../electron/core/runtime/instance-paths.js';
import { lxcAttach } from '../../electron/core/runtime/lxc.js';
import { Session } from '../../electron/core/runtime/session.js';
import { sessionPaths, stopSession } from '../../electron/core/runtime/session-client.js';
import { startSession } from '../../electron/core/session/start.js';
import { type ServiceLocations } from '../../electron/core/session/plan.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { buildCli, repoRoot } from './helpers/cli.js';

function repoProbeDir(): string {
  return path.join(repoRoot, 'native', 'probe', 'build');
}

function needUserns(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(['lxc-start', 'lxc-attach', 'lxc-stop', 'newuidmap', 'setpriv']);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  return null;
}

const missing = needUserns();
const MiB = 1024 * 1024;

/** A preset with small storage limits, so filling them is quick. */
function small(preset: 'strict' | 'android' | 'privileged'): ValidatedPolicy {
  const doc = structuredClone(loadPreset(preset)) as unknown as Record<string, unknown>;
  doc.storage = {
    maxBytes: 24 * MiB,
    tmpMaxBytes: 8 * MiB,
    dataMaxBytes: 64 * MiB,
    consoleMaxBytes: 256 * 1024,
  };
  return assertValidPolicy(doc);
}

let tmp: string;
let locations: ServiceLocations;
let counter = 0;
const started: InstancePaths[] = [];

async function start(
  preset: 'strict' | 'android' | 'privileged',
  instance?: string,
  onWarning?: (message: string) => void,
  androidTools?: string,
): Promise<InstancePaths> {
  const name = instance ?? `un-${preset.slice(0, 3)}-${process.pid}-${++counter}`;
  const r = await startSession({
    ...locations,
    instance: name,
    policy: { policy: small(preset) },
    readyTimeoutMs: 20_000,
    ...(onWarning !== undefined ? { onWarning } : {}),
    ...(androidTools !== undefined ? { androidTools } : {}),
  });
  started.push(r.paths);
  return r.paths;
}

async function stop(paths: InstancePaths): Promise<void> {
  await stopSession({ ...locations, instance: paths.name }, 2).catch(() => {});
}

/** Runs `script` with the guest's busybox sh; resolves with the exit status and output. */
async function guest(
  paths: InstancePaths,
  script: string,
): Promise<{ code: number | null; out: string; err: string }> {
  const r = await lxcAttach(lxcTargetOf(paths), ['/bin/sh', '-c', script], { timeoutMs: 60_000 });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

function initPid(paths: InstancePaths): number {
  const marker = readFileSync(paths.readyMarker, 'utf8');
  expect(marker).toMatch(/^pid=1 /);
  const out = execFileSync(
    'lxc-info',
    ['-n', paths.containerName, '-P', paths.lxcPath, '-p', '-H'],
    {
      encoding: 'utf8',
    },
  );
  return Number(out.trim());
}

function statusIds(pid: number): { uid: number[]; gid: number[] } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const ids = (key: string): number[] =>
    new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(text)![1]!.trim().split(/\s+/).map(Number);
  return { uid: ids('Uid'), gid: ids('Gid') };
}

/** Mount options of the mount at `target` as the process `pid` sees it. */
function mountOptions(pid: number | 'self', target: string): string[] {
  for (const line of readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] === target) {
      const dash = f.indexOf('-');
      return [...f[5]!.split(','), ...f[dash + 3]!.split(',')];
    }
  }
  throw new Error(`${target} is not a mountpoint for ${pid}`);
}

/** Runs argv as the host's `nobody`, as another host user would. */
function asNobody(argv: string[]): { ok: boolean; out: string } {
  try {
    const out = execFileSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return { ok: true, out };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: string }).stderr ?? '') };
  }
}

describe('user-namespaced sessions (root, LXC)', () => {
  beforeAll(async () => {
    if (missing) return;
    buildCli({ probe: true });
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-userns-'));
    await fs.chmod(tmp, 0o755);
    locations = {
      dataRoot: path.join(tmp, 'data'),
      runtimeRoot: path.join(tmp, 'run'),
      demoGuestDir: path.join(tmp, 'guest', 'demo'),
    };
  });

  afterAll(async () => {
    for (const p of started) await stop(p);
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  itNeeds(
    "runs init as the instance's own mapped host uid, a different range per instance",
    missing,
    async () => {
      const a = await start('strict');
      const b = await start('android');
      const ra = await allocateIdRange(a.dataDir);
      const rb = await allocateIdRange(b.dataDir);
      expect(ra.slot).not.toBe(rb.slot);
      for (const [paths, range, nodump] of [
        [a, ra, true],
        [b, rb, false],
      ] as const) {
        const pid = initPid(paths);
        // Real, effective, saved and filesystem ids: all the range's first id, never 0 — except
        // strict's real gid, which droidway-nodump sets to the guest's nogroup (65534) so that
        // no guest process can debug init's tree.
        expect(statusIds(pid)).toEqual({
          uid: Array(4).fill(range.hostBase),
          gid: [nodump ? range.hostBase + 65534 : range.hostBase, ...Array(3).fill(range.hostBase)],
        });
        expect(
          readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).map(Number),
        ).toEqual([0, range.hostBase, ID_RANGE_SIZE]);
        const inside = await guest(paths, 'id -u; cat /proc/self/uid_map');
        expect(inside.out.split('\n')[0]).toBe('0');
      }
      // The runtime folder: the range's, 0700; other host users stop there.
      const st = await fs.stat(a.runtimeDir);
      expect([st.uid, st.mode & 0o777]).toEqual([ra.hostBase, 0o700]);
      expect(asNobody(['ls', a.runtimeDir]).ok).toBe(false);
      await stop(a);
      await stop(b);
    },
  );

  itNeeds(
    'the privileged preset is host-equivalent, and says so before it starts',
    missing,
    async () => {
      const warnings: string[] = [];
      const paths = await start('privileged', undefined, (m) => warnings.push(m));
      expect(warnings).toEqual([expect.stringMatching(/HOST-EQUIVALENT/)]);
      expect(statusIds(initPid(paths)).uid).toEqual([0, 0, 0, 0]);
      const quiet: string[] = [];
      const strict = await start('strict', undefined, (m) => quiet.push(m));
      expect(quiet).toEqual([]);
      await stop(strict);
      await stop(paths);
    },
  );

  itNeeds(
    'a setuid binary planted in /run/droidway or /tmp is the range’s, on nosuid mounts other users cannot reach',
    missing,
    async () => {
      const paths = await start('android');
      const range = await allocateIdRange(paths.dataDir);
      const plant = await guest(
        paths,
        // A shell script stands in for a binary: /run/droidway is 1 MiB, and the owner and the
        // set-uid bit are what count.
        "for d in /run/droidway /tmp; do printf '#!/bin/sh\\nid -u\\n' > $d/suid && chown 0:0 $d/suid && chmod 4755 $d/suid && echo planted $d; done",
      );
      expect(plant.out).toBe('planted /run/droidway\nplanted /tmp\n');
      const pid = initPid(paths);
      // The host sees both files owned by the range's root, set-uid bit and all.
      for (const file of [path.join(paths.guestRunDir, 'suid'), `/proc/${pid}/root/tmp/suid`]) {
        const st = await fs.stat(file);
        expect(st.uid).toBe(range.hostBase);
        expect(st.mode & 0o4000).toBe(0o4000);
      }
      expect(mountOptions('self', paths.guestRunDir)).toEqual(
        expect.arrayContaining(['nosuid', 'nodev', 'noexec']),
      );
      expect(mountOptions(pid, '/tmp')).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
      expect(mountOptions(pid, '/run/droidway')).toEqual(
        expect.arrayContaining(['nosuid', 'nodev', 'noexec']),
      );
      // Another host user can neither reach nor run it.
      const run = asNobody([path.join(paths.guestRunDir, 'suid')]);
      expect(run.ok).toBe(false);
      expect(run.out).toMatch(/Permission denied/);
      // The guest cannot lift nosuid from the host-made folder: its flags are locked.
      const remount = await guest(
        paths,
        'mount -o remount,suid,exec /run/droidway 2>&1; echo "rc=$?"',
      );
      expect(remount.out).toMatch(/rc=[1-9]/);
      expect(mountOptions(pid, '/run/droidway')).toEqual(expect.arrayContaining(['nosuid']));
      await stop(paths);
    },
  );

  itNeeds(
    'filling the root layer and /tmp stops at the policy limit with ENOSPC, off the host disk',
    missing,
    async () => {
      const paths = await start('strict');
      const hostBefore = statfsSync(tmp);
      const fill = await guest(
        paths,
        'dd if=/dev/zero of=/fill bs=1M count=100 2>&1; echo "root=$?"; ' +
          'dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>&1; echo "tmp=$?"; ' +
          'ls -l /fill /tmp/fill',
      );
      expect(fill.out).toMatch(/No space left on device[\s\S]*root=1/);
      expect(fill.out).toMatch(/No space left on device[\s\S]*tmp=1/);
      const sizes = [...fill.out.matchAll(/ (\d+) \w+ +\d+ [\d:]+ \/(?:tmp\/)?fill$/gm)].map((m) =>
        Number(m[1]),
      );
      expect(sizes).toHaveLength(2);
      expect(sizes[0]).toBeLessThanOrEqual(24 * MiB);
      expect(sizes[0]).toBeGreaterThan(12 * MiB);
      expect(sizes[1]).toBeLessThanOrEqual(8 * MiB);
      expect(sizes[1]).toBeGreaterThan(6 * MiB);
      // The root layer is a sized tmpfs on the host: the 100 MiB never reached a disk.
      const opts = mountOptions('self', paths.rootfsDir);
      expect(opts).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'size=24576k']));
      const hostAfter = statfsSync(tmp);
      // Other work on this machine moves the disk a little; 32 MiB written here would show.
      expect((hostBefore.bavail - hostAfter.bavail) * hostAfter.bsize).toBeLessThan(16 * MiB);
      await stop(paths);
    },
  );

  itNeeds(
    "/data is the instance's fixed-size image: full at its limit, kept across sessions, nosuid",
    missing,
    async () => {
      const tools = path.join(repoRoot, 'tests', 'fixtures', 'android-guest');
      const name = `un-data-${process.pid}`;
      const paths = await start('strict', name, undefined, tools);
      const range = await allocateIdRange(paths.dataDir);
      const fill = await guest(
        paths,
        'echo kept > /data/kept; dd if=/dev/zero of=/data/fill bs=1M count=200 2>&1; echo "rc=$?"; rm -f /data/fill',
      );
      expect(fill.out).toMatch(/No space left on device[\s\S]*rc=1/);
      // The image on the host is exactly the policy's size, whatever the guest wrote.
      expect((await fs.stat(paths.dataImage)).size).toBe(64 * MiB);
      expect(mountOptions('self', paths.guestDataDir)).toEqual(
        expect.arrayContaining(['nosuid', 'nodev']),
      );
      expect((await fs.stat(path.join(paths.guestDataDir, 'kept'))).uid).toBe(range.hostBase);
      await stop(paths);
      // Stopped: the image is detached; the next session finds the file again.
      expect(existsSync(path.join(paths.guestDataDir, 'kept'))).toBe(false);
      const again = await start('strict', name, undefined, tools);
      expect((await guest(again, 'cat /data/kept')).out).toBe('kept\n');
      await stop(again);
    },
  );

  itNeeds(
    'a file planted in the root layer is gone in another instance and in the next session',
    missing,
    async () => {
      const name = `un-plant-${process.pid}`;
      const first = await start('strict', name);
      expect((await guest(first, 'echo x > /etc/planted && echo ok')).out).toBe('ok\n');
      const other = await start('strict');
      expect((await guest(other, 'test -e /etc/planted; echo $?')).out).toBe('1\n');
      await stop(other);
      await stop(first);
      const again = await start('strict', name);
      expect((await guest(again, 'test -e /etc/planted; echo $?')).out).toBe('1\n');
      // And the shared tree on the host never saw it.
      expect(existsSync(path.join(locations.demoGuestDir!, 'etc', 'planted'))).toBe(false);
      await stop(again);
    },
  );

  itNeeds(
    'holding CAP_SYS_ADMIN (android) the guest cannot remount a read-only bind or write a cgroup limit',
    missing,
    async () => {
      const paths = await start('android');
      const r = await guest(
        paths,
        [
          'mount -o remount,bind,rw /opt/droidway/probe 2>&1; echo "remount=$?"',
          'touch /opt/droidway/probe/x 2>&1; echo "touch=$?"',
          'echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1; echo "limit=$?"',
          'echo 1 > /sys/fs/cgroup/pids/pids.max 2>&1; echo "pids=$?"',
          'echo a > /sys/fs/cgroup/devices/devices.allow 2>&1; echo "devices=$?"',
          'mkdir -p /tmp/cg && mount -t cgroup -o memory none /tmp/cg 2>&1; echo "mount=$?"',
          'for f in /tmp/cg/memory.limit_in_bytes; do [ -e $f ] && { echo 1 > $f 2>&1; echo "fresh=$?"; }; done; true',
          'ls /usr | wc -l; test -e /usr/bin/python3; echo "python=$?"',
        ].join('; '),
      );
      // The runtime made the bind outside the guest's user namespace: its flags are locked.
      expect(mountOptions(initPid(paths), '/opt/droidway/probe')).toEqual(
        expect.arrayContaining(['ro', 'nosuid', 'nodev']),
      );
      expect(r.out).toMatch(/remount=[1-9]/);
      expect(r.out).toMatch(/touch=[1-9]/);
      expect(existsSync(path.join(repoProbeDir(), 'x'))).toBe(false);
      expect(r.out).toMatch(/limit=[1-9]/);
      expect(r.out).toMatch(/pids=[1-9]/);
      expect(r.out).toMatch(/devices=[1-9]/);
      // Mounting a fresh hierarchy may work (it shows only the guest's own subtree), but its
      // limit files stay host root's.
      if (/mount=0/.test(r.out)) expect(r.out).toMatch(/fresh=[1-9]/);
      expect(r.out).toMatch(/^0\npython=1$/m);
      // Seen from the host: the limits are still the policy's.
      const cg = (await fs.readdir('/sys/fs/cgroup/memory')).find((n) =>
        n.endsWith(`lxc.payload.${paths.containerName}`),
      );
      expect(cg).toBeDefined();
      const limit = Number(
        readFileSync(path.join('/sys/fs/cgroup/memory', cg!, 'memory.limit_in_bytes'), 'utf8'),
      );
      expect(limit).toBe(loadPreset('android').limits.memoryMax);
      // The limit files stay host root's: LXC gives the range at most the folder and its
      // membership files (cgroup.procs, tasks), never a limit.
      for (const [hierarchy, file] of [
        ['memory', 'memory.limit_in_bytes'],
        ['memory', 'memory.memsw.limit_in_bytes'],
        ['pids', 'pids.max'],
        ['devices', 'devices.allow'],
      ]) {
        const dir = path.join('/sys/fs/cgroup', hierarchy!, cg!);
        if (!existsSync(path.join(dir, file!))) continue;
        expect((await fs.stat(path.join(dir, file!))).uid, `${hierarchy}/${file}`).toBe(0);
      }
      await stop(paths);
    },
  );

  itNeeds("caps the console log however much the guest's init prints", missing, async () => {
    // A guest tree whose init floods its stdout (4 MiB) before it reports ready.
    const source = path.join(tmp, 'flood-tree');
    await fs.cp(locations.demoGuestDir!, source, { recursive: true, verbatimSymlinks: true });
    await fs.writeFile(
      path.join(source, 'sbin', 'flood'),
      '#!/bin/sh\nmkdir -p /run/droidway\n' +
        'dd if=/dev/zero bs=64k count=64 2>/dev/null | tr "\\0" x\n' +
        'echo "pid=$$ hostname=flood" > /run/droidway/ready\nexec sleep 3600\n',
      { mode: 0o755 },
    );
    const paths = sessionPaths(`un-flood-${process.pid}`, locations);
    const range = await allocateIdRange(paths.dataDir);
    const config = [
      'lxc.uts.name = flood',
      `lxc.rootfs.path = dir:${paths.rootfsDir}`,
      'lxc.init.cmd = /sbin/flood',
      'lxc.mount.auto = proc:mixed sys:ro',
      'lxc.autodev = 1',
      'lxc.net.0.type = empty',
      'lxc.tty.max = 0',
      'lxc.pty.max = 4',
      'lxc.console.path = none',
      `lxc.idmap = u 0 ${range.hostBase} ${range.count}`,
      `lxc.idmap = g 0 ${range.hostBase} ${range.count}`,
      '',
    ].join('\n');
    const session = new Session({
      paths,
      lxcConfig: config,
      stopTimeoutSeconds: 1,
      storage: {
        rootfsSource: source,
        rootfsMaxBytes: 32 * MiB,
        consoleMaxBytes: 256 * 1024,
        hostBase: range.hostBase,
        idCount: range.count,
      },
    });
    try {
      await session.start();
      // The flood went out before the marker: all of it has passed through the cap.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await session.stop(1);
    }
    const size = (f: string): number => (existsSync(f) ? readFileSync(f).length : 0);
    expect(size(paths.consoleLog) + size(`${paths.consoleLog}.1`)).toBeLessThanOrEqual(256 * 1024);
    expect(size(`${paths.consoleLog}.1`)).toBeGreaterThan(100 * 1024);
    expect(readFileSync(`${paths.consoleLog}.1`, 'utf8')).toMatch(/^x+$/);
  });
});
