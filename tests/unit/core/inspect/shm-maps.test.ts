import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  classifyMapping,
  inspectContainerShm,
  inspectPids,
  listContainerPids,
  parsePidList,
  parseShmMaps,
} from '../../../../electron/core/inspect/shm-maps.js';

/** A `maps` line as the kernel prints it (path padded to column 73). */
function line(start: bigint, end: bigint, perms: string, inode: number, p = ''): string {
  const head = `${start.toString(16)}-${end.toString(16)} ${perms} 00000000 00:01 ${inode}`;
  return p === '' ? head : `${head.padEnd(72)} ${p}`;
}

const BASE = 0x7f0000000000n;
const DEMO_MAPS = [
  line(0x555555554000n, 0x555555556000n, 'r--p', 131, '/usr/bin/demo-client'),
  line(BASE, BASE + 0x1d4c00n, 'rw-s', 1041, '/memfd:wayland-shm (deleted)'),
  line(BASE + 0x200000n, BASE + 0x201000n, 'r--s', 1042, '/memfd:a name with spaces (deleted)'),
  line(BASE + 0x300000n, BASE + 0x310000n, 'rw-s', 7, '/dev/ashmem/dalvik-zygote space'),
  line(BASE + 0x400000n, BASE + 0x401000n, 'rw-s', 8, '/dev/ashmem (deleted)'),
  line(BASE + 0x500000n, BASE + 0x540000n, 'rw-s', 9, 'anon_inode:dmabuf'),
  line(BASE + 0x600000n, BASE + 0x601000n, 'rw-p', 0, ''),
  line(BASE + 0x700000n, BASE + 0x701000n, 'rw-p', 0, '[heap]'),
  '',
].join('\n');

describe('classifyMapping', () => {
  it('recognises memfd, ashmem and dmabuf paths, with and without (deleted)', () => {
    expect(classifyMapping('/memfd:wayland-shm (deleted)')).toEqual({
      kind: 'memfd',
      name: 'wayland-shm',
    });
    expect(classifyMapping('/memfd:')).toEqual({ kind: 'memfd', name: '' });
    expect(classifyMapping('/dev/ashmem/x (deleted)')).toEqual({ kind: 'ashmem', name: 'x' });
    expect(classifyMapping('/dev/ashmem')).toEqual({ kind: 'ashmem', name: '' });
    expect(classifyMapping('anon_inode:dmabuf')).toEqual({ kind: 'dmabuf', name: '' });
    expect(classifyMapping('/dmabuf:gralloc')).toEqual({ kind: 'dmabuf', name: 'gralloc' });
  });

  it('leaves other mappings out, including look-alikes', () => {
    for (const p of [
      '',
      '[heap]',
      '/dev/ashmemx',
      '/dev/zero (deleted)',
      'memfd:x',
      '/tmp/memfd:x',
    ])
      expect(classifyMapping(p)).toBeNull();
  });

  it('cleans control characters and cuts long names', () => {
    expect(classifyMapping('/memfd:a\u001b[31mred\u0007')?.name).toBe('a?[31mred?');
    const long = classifyMapping(`/memfd:${'n'.repeat(1000)}`, 16);
    expect(long?.name).toBe(`${'n'.repeat(16)}…`);
  });
});

describe('parseShmMaps', () => {
  it('returns every shared-memory mapping with name, kind, size and permissions', () => {
    const parsed = parseShmMaps(DEMO_MAPS);
    expect(parsed.malformedLines).toBe(0);
    expect(parsed.truncated).toBe(false);
    expect(parsed.regions.map(({ dev: _dev, ...r }) => r)).toEqual([
      { name: 'wayland-shm', kind: 'memfd', size: 0x1d4c00, perms: 'rw-s', inode: 1041 },
      { name: 'a name with spaces', kind: 'memfd', size: 0x1000, perms: 'r--s', inode: 1042 },
      { name: 'dalvik-zygote space', kind: 'ashmem', size: 0x10000, perms: 'rw-s', inode: 7 },
      { name: '', kind: 'ashmem', size: 0x1000, perms: 'rw-s', inode: 8 },
      { name: '', kind: 'dmabuf', size: 0x40000, perms: 'rw-s', inode: 9 },
    ]);
  });

  it('counts malformed lines and keeps going', () => {
    const text = [
      'garbage',
      '7f00-7e00 rw-s 00000000 00:01 5 /memfd:end-below-start',
      '7f00-7f00 rw-s 00000000 00:01 5 /memfd:empty',
      '7f00-8f00 rwzs 00000000 00:01 5 /memfd:bad-perms',
      '7f00-8f00 rw-s 00000000 00:01 -5 /memfd:negative-inode',
      'ffffffffffffffffff-1 rw-s 0 00:01 5 /memfd:overlong-address',
      '0-ffffffffffffffff rw-s 0 00:01 5 /memfd:size-beyond-2^53',
      '7f00-8f00 rw-s 00000000 00:01 99999999999999999999 /memfd:inode-beyond-2^53',
      `7f00-8f00 rw-s 00000000 00:01 5 /memfd:${'x'.repeat(9000)}`,
      '\u0000\u0001\u0002',
      line(BASE, BASE + 0x1000n, 'rw-s', 3, '/memfd:good (deleted)'),
    ].join('\n');
    const parsed = parseShmMaps(text);
    expect(parsed.malformedLines).toBe(10);
    expect(parsed.regions.map((r) => r.name)).toEqual(['good']);
  });

  it('handles CRLF, a missing final newline and an empty text', () => {
    expect(parseShmMaps('').regions).toEqual([]);
    const crlf = parseShmMaps(`${line(BASE, BASE + 0x1000n, 'rw-s', 3, '/memfd:x')}\r\n`);
    // The \r is kept in the name and cleaned, never a crash.
    expect(crlf.regions[0]?.name).toBe('x?');
    const noNewline = parseShmMaps(line(BASE, BASE + 0x1000n, 'rw-s', 3, '/memfd:y'));
    expect(noNewline.regions[0]?.name).toBe('y');
  });

  it('stops at the line and region caps and says so', () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      line(
        BASE + BigInt(i) * 0x1000n,
        BASE + BigInt(i + 1) * 0x1000n,
        'rw-s',
        i + 1,
        `/memfd:m${i}`,
      ),
    ).join('\n');
    const byLines = parseShmMaps(many, { maxMapsLines: 10 });
    expect(byLines.truncated).toBe(true);
    expect(byLines.regions).toHaveLength(10);
    const byRegions = parseShmMaps(many, { maxRegionsPerProcess: 5 });
    expect(byRegions.truncated).toBe(true);
    expect(byRegions.regions).toHaveLength(5);
  });

  it('parses a million-line text within its caps quickly', () => {
    const junk = 'x\n'.repeat(1_000_000);
    const started = performance.now();
    const parsed = parseShmMaps(junk);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(parsed.truncated).toBe(true);
    expect(parsed.malformedLines).toBe(100_000);
  });
});

describe('parsePidList', () => {
  it('keeps valid pids once and drops everything else', () => {
    expect(parsePidList('1\n42\n42\n0\n-3\nabc\n 7\n99999999\n4194304\n4194305\n\n')).toEqual([
      1, 42, 4194304,
    ]);
  });
});

describe('reading a (fake) /proc and cgroup tree', () => {
  let root: string;
  let proc: string;
  let cgroups: string;

  function fakeProcess(
    pid: number,
    comm: string,
    maps: string | null,
    ns = 'pid:[4026532000]',
  ): void {
    const dir = join(proc, String(pid));
    mkdirSync(join(dir, 'ns'), { recursive: true });
    writeFileSync(join(dir, 'comm'), `${comm}\n`);
    if (maps !== null) writeFileSync(join(dir, 'maps'), maps);
    symlinkSync(ns, join(dir, 'ns', 'pid'));
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'shm-maps-'));
    proc = join(root, 'proc');
    cgroups = join(root, 'cgroup');
    mkdirSync(proc);
    fakeProcess(100, 'init', line(BASE, BASE + 0x2000n, 'rw-s', 11, '/memfd:init-shm (deleted)'));
    fakeProcess(101, 'demo-client', DEMO_MAPS);
    fakeProcess(102, 'gone', null); // exits between listing and reading
    fakeProcess(
      103,
      'app\u001b]0;pwned\u0007',
      line(BASE, BASE + 0x1000n, 'r--s', 1041, '/memfd:wayland-shm (deleted)'),
    );
    fakeProcess(200, 'host-process', DEMO_MAPS, 'pid:[4026531836]');
    // cgroup v1 layout: the same container in two hierarchies, an app cgroup nested below.
    for (const hierarchy of ['memory', 'pids']) {
      const payload = join(cgroups, hierarchy, 'lxc.payload.droidway-shmtest');
      mkdirSync(join(payload, 'apps', 'uid_10001'), { recursive: true });
      writeFileSync(join(payload, 'cgroup.procs'), '100\n101\n102\n');
      writeFileSync(join(payload, 'apps', 'uid_10001', 'cgroup.procs'), '103\nnot-a-pid\n');
    }
    mkdirSync(join(cgroups, 'memory', 'lxc.monitor.droidway-shmtest'), { recursive: true });
    writeFileSync(join(cgroups, 'memory', 'lxc.monitor.droidway-shmtest', 'cgroup.procs'), '200\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lists the payload cgroup trees, not the monitor', async () => {
    const listed = await listContainerPids({
      containerName: 'droidway-shmtest',
      cgroupRoot: cgroups,
      procRoot: proc,
    });
    expect(listed).toEqual({ pids: [100, 101, 102, 103], omitted: 0, source: 'cgroup' });
  });

  it('falls back to the init pid namespace when there is no cgroup', async () => {
    const listed = await listContainerPids({
      containerName: 'droidway-other',
      initPid: 100,
      cgroupRoot: cgroups,
      procRoot: proc,
    });
    expect(listed).toEqual({ pids: [100, 101, 102, 103], omitted: 0, source: 'pid-namespace' });
    const none = await listContainerPids({
      containerName: 'droidway-other',
      initPid: 999,
      cgroupRoot: cgroups,
      procRoot: proc,
    });
    expect(none).toEqual({ pids: [], omitted: 0, source: 'none' });
  });

  it('reads regions, cleans comm, counts the vanished pid, and totals', async () => {
    const result = await inspectContainerShm({
      containerName: 'droidway-shmtest',
      cgroupRoot: cgroups,
      procRoot: proc,
    });
    expect(result.source).toBe('cgroup');
    expect(result.problems).toEqual({ vanished: 1, malformedLines: 0, processesOmitted: 0 });
    expect(result.processes.map((p) => [p.pid, p.comm, p.regions.length])).toEqual([
      [100, 'init', 1],
      [101, 'demo-client', 5],
      [103, 'app?]0;pwned?', 1],
    ]);
    expect(result.totals).toEqual({
      processes: 3,
      regions: 7,
      bytes: 0x2000 + 0x1d4c00 + 0x1000 + 0x10000 + 0x1000 + 0x40000 + 0x1000,
      byKind: { memfd: 0x2000 + 0x1d4c00 + 0x1000 + 0x1000, ashmem: 0x11000, dmabuf: 0x40000 },
      // 103 maps the demo client's wayland-shm (same inode): counted once, at its larger size.
      distinctRegions: 6,
      distinctBytes: 0x2000 + 0x1d4c00 + 0x1000 + 0x10000 + 0x1000 + 0x40000,
    });
  });

  it('caps the process count and the bytes read from one maps file', async () => {
    const capped = await inspectContainerShm(
      { containerName: 'droidway-shmtest', cgroupRoot: cgroups, procRoot: proc },
      { maxProcesses: 2 },
    );
    expect(capped.processes.map((p) => p.pid)).toEqual([100, 101]);
    expect(capped.problems.processesOmitted).toBe(2);

    writeFileSync(join(proc, '101', 'maps'), `${DEMO_MAPS}${'y'.repeat(100_000)}`);
    const cut = await inspectPids([101], { procRoot: proc, limits: { maxMapsBytes: 4096 } });
    expect(cut.processes[0]?.truncated).toBe(true);
    expect(cut.processes[0]?.regions).toHaveLength(5);
  });

  it('skips pids that are not pids', async () => {
    const result = await inspectPids([0, -1, 1.5, 5_000_000, 101], { procRoot: proc });
    expect(result.processes.map((p) => p.pid)).toEqual([101]);
  });

  it('parses the maps of this very process with no malformed line', async () => {
    const result = await inspectPids([process.pid]);
    expect(result.problems.malformedLines).toBe(0);
    expect(result.processes[0]?.comm.length).toBeGreaterThan(0);
  });
});
