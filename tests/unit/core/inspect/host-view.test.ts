import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  collectHostView,
  hostBackedMounts,
  hostLocation,
  HostViewError,
  isWritable,
  MAX_MOUNTINFO_LINE,
  MAX_MOUNTINFO_LINES,
  parseIdMap,
  parseMountInfo,
} from '../../../../electron/core/inspect/host-view.js';

/** A container's mountinfo as the host reads it from /proc/<init pid>/mountinfo. */
const CONTAINER = [
  '64 42 254:0 /var/lib/droidway/guest/demo / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
  '65 64 0:40 / /dev rw,relatime shared:2 - tmpfs none rw,size=492k,mode=755',
  '66 64 0:41 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw',
  '68 64 0:42 / /sys ro,relatime shared:14 - sysfs sysfs ro',
  '79 64 254:0 /work/probe/build /opt/droidway/probe ro,nosuid,nodev,relatime shared:29 - ext4 /dev/vda rw',
  '81 80 254:0 /run/droidway/instances/x/guest-run /run/droidway rw,relatime shared:31 - ext4 /dev/vda rw',
  '88 80 0:60 /instances/x/xdg /run/my\\040xdg rw,nosuid,nodev shared:32 - tmpfs tmpfs rw',
].join('\n');

/** The host's own mountinfo. */
const HOST = [
  '29 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
  '30 29 0:60 / /run/droidway rw,nosuid,nodev shared:9 - tmpfs tmpfs rw,mode=700',
  '31 29 0:41 / /proc rw,nosuid,nodev,noexec shared:5 - proc proc rw',
  '32 29 0:42 / /sys rw,nosuid,nodev,noexec shared:6 - sysfs sysfs rw',
].join('\n');

describe('parseMountInfo (text with guest-chosen paths)', () => {
  it('reads every field and undoes the octal escapes', () => {
    const m = parseMountInfo(CONTAINER);
    expect(m).toHaveLength(7);
    expect(m[0]).toEqual({
      id: 64,
      parent: 42,
      dev: '254:0',
      root: '/var/lib/droidway/guest/demo',
      mountPoint: '/',
      mountOptions: ['rw', 'relatime'],
      fstype: 'ext4',
      source: '/dev/vda',
      superOptions: ['rw', 'discard'],
    });
    expect(m[6]?.mountPoint).toBe('/run/my xdg');
    expect(isWritable(m[3]!)).toBe(false);
    expect(isWritable(m[4]!)).toBe(false);
    expect(isWritable(m[5]!)).toBe(true);
  });

  it('refuses lines that are not mountinfo, naming the line', () => {
    const bad: Array<[string, RegExp]> = [
      ['64 42 254:0 / / rw - ext4', /line 1: not a mountinfo line/],
      ['64 42 254:0 / / rw shared:1 ext4 /dev/vda rw', /line 1: not a mountinfo line/],
      ['x 42 254:0 / / rw shared:1 - ext4 /dev/vda rw', /id: not a number/],
      ['64 42 254 / / rw shared:1 - ext4 /dev/vda rw', /bad device/],
      ['64 42 254:0 relative / rw shared:1 - ext4 /dev/vda rw', /paths must be absolute/],
      ['64 42 254:0 / / rw shared:1 - ext4 /dev/vda rw extra', /not a mountinfo line/],
      ['64 99999999999 254:0 / / rw - ext4 /dev/vda rw', /not a number|out of range/],
    ];
    for (const [text, message] of bad) expect(() => parseMountInfo(text)).toThrow(message);
    expect(() => parseMountInfo(`${CONTAINER}\n${'z'.repeat(MAX_MOUNTINFO_LINE + 1)}`)).toThrow(
      /line 8 is too long/,
    );
    const many = Array.from(
      { length: MAX_MOUNTINFO_LINES + 1 },
      (_, i) => `${i} 1 0:1 / /m${i} rw - tmpfs t rw`,
    );
    expect(() => parseMountInfo(many.join('\n'))).toThrow(HostViewError);
  });
});

describe('parseIdMap', () => {
  it('reads uid_map lines', () => {
    expect(parseIdMap('         0 1879048192     131072\n')).toEqual([
      { inside: 0, outside: 1879048192, count: 131072 },
    ]);
    expect(parseIdMap('')).toEqual([]);
  });
  it('refuses anything else', () => {
    for (const text of ['0 0', '0 0 1 2', '-1 0 1', '0 0x10 1', '0 0 99999999999', 'a b c']) {
      expect(() => parseIdMap(text), text).toThrow(HostViewError);
    }
    expect(() => parseIdMap('0 0 1\n'.repeat(400))).toThrow(/lines/);
  });
});

describe('host-backed mounts and where they live on the host', () => {
  const container = parseMountInfo(CONTAINER);
  const host = parseMountInfo(HOST);

  it("keeps the mounts of file systems the host has mounted, not the kernel's own", () => {
    expect(hostBackedMounts(container, host).map((m) => m.mountPoint)).toEqual([
      '/',
      '/opt/droidway/probe',
      '/run/droidway',
      '/run/my xdg',
    ]);
  });

  it("finds the host path through the host's mount with the longest matching root", () => {
    expect(hostLocation(container[5]!, host)?.path).toBe('/run/droidway/instances/x/guest-run');
    const xdg = hostLocation(container[6]!, host);
    expect(xdg?.path).toBe('/run/droidway/instances/x/xdg');
    expect(xdg?.mount.mountOptions).toContain('nosuid');
    expect(hostLocation(container[1]!, host)).toBeNull();
  });
});

describe('collectHostView (this process, real /proc)', () => {
  it('reads maps, mounts, namespaces and fds of a live process', async () => {
    const view = await collectHostView(process.pid);
    expect(view.uidMap?.length).toBeGreaterThan(0);
    expect(view.mounts?.some((m) => m.mountPoint === '/')).toBe(true);
    expect(view.writableHostMounts).not.toBeNull();
    expect(view.initNamespaces.pid).toBeGreaterThan(0);
    expect(view.initFds?.some((f) => f.fd === 0)).toBe(true);
    expect(view.initCwd?.withinRoot).toBe(true);
  });

  it('counts the console log with its rotated predecessors only', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'droidway-host-view-'));
    try {
      await writeFile(path.join(dir, 'console.log'), 'x'.repeat(10));
      await writeFile(path.join(dir, 'console.log.1'), 'x'.repeat(5));
      await writeFile(path.join(dir, 'console.log.bak'), 'x'.repeat(100));
      await writeFile(path.join(dir, 'lxc.log'), 'x'.repeat(100));
      const view = await collectHostView(process.pid, {
        consoleLog: path.join(dir, 'console.log'),
      });
      expect(view.consoleBytes).toBe(15);
      const missing = await collectHostView(process.pid, {
        consoleLog: path.join(dir, 'gone', 'console.log'),
      });
      expect(missing.consoleBytes).toBeNull();
      expect(missing.errors.join()).toMatch(/console log: ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a pid that cannot be a container init', async () => {
    await expect(collectHostView(1)).rejects.toBeInstanceOf(HostViewError);
    await expect(collectHostView(Number.NaN)).rejects.toBeInstanceOf(HostViewError);
  });
});
