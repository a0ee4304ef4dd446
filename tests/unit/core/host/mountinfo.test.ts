import { describe, expect, it } from 'vitest';
import {
  cgroupLayout,
  MAX_MOUNTINFO_BYTES,
  parseMountInfo,
  parseProcCgroups,
} from '../../../../electron/core/host/mountinfo.js';
import { fixture } from '../../../fixtures/host/fake-host.js';

describe('parseMountInfo', () => {
  it('parses every field of a line, optional fields included', () => {
    const [entry] = parseMountInfo(
      '36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n',
    );
    expect(entry).toEqual({
      mountId: 36,
      parentId: 35,
      device: '98:0',
      root: '/mnt1',
      mountPoint: '/mnt2',
      mountOptions: ['rw', 'noatime'],
      optionalFields: ['master:1', 'shared:2'],
      fsType: 'ext3',
      source: '/dev/root',
      superOptions: ['rw', 'errors=continue'],
    });
  });

  it('decodes octal escapes in paths', () => {
    const mounts = parseMountInfo(fixture('mountinfo-v1.txt'));
    expect(mounts.map((m) => m.mountPoint)).toContain('/media/USB Stick');
  });

  it('skips empty lines', () => {
    expect(parseMountInfo('\n\n')).toEqual([]);
  });

  it.each([
    ['too few fields', '36 35 98:0 / /mnt rw - ext4', /expected at least 10 fields/],
    ['no separator', '36 35 98:0 / /mnt rw shared:1 ext4 /dev/sda rw', /missing the "-" separator/],
    [
      'extra fields after the separator',
      '36 35 98:0 / /mnt rw - ext4 /dev/sda rw extra',
      /3 fields after "-"/,
    ],
    ['non-numeric mount id', 'x 35 98:0 / /mnt rw - ext4 /dev/sda rw', /mount id is not a number/],
    ['bad device', '36 35 98 / /mnt rw - ext4 /dev/sda rw', /device is not major:minor/],
    ['bad escape', '36 35 98:0 / /mnt\\9x rw - ext4 /dev/sda rw', /bad escape/],
  ])('rejects %s with the line number', (_name, line, message) => {
    expect(() => parseMountInfo(`22 1 0:1 / / rw - ext4 /dev/sda rw\n${line}\n`)).toThrow(
      expect.objectContaining({ code: 'EMOUNTINFO', message: expect.stringMatching(message) }),
    );
    expect(() => parseMountInfo(`22 1 0:1 / / rw - ext4 /dev/sda rw\n${line}\n`)).toThrow(
      /^mountinfo line 2: /,
    );
    expect(() => parseMountInfo(line)).toThrow(/line 1/);
  });

  it('rejects text longer than the cap', () => {
    expect(() => parseMountInfo('x'.repeat(MAX_MOUNTINFO_BYTES + 1))).toThrow(/longer than/);
  });
});

describe('cgroupLayout', () => {
  it('classifies a v1 host (legacy hierarchies only), with their controllers', () => {
    const layout = cgroupLayout(parseMountInfo(fixture('mountinfo-v1.txt')));
    expect(layout.kind).toBe('v1');
    expect(layout.v2MountPoint).toBeNull();
    expect(layout.v1).toContainEqual({
      mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
      controllers: ['cpuacct', 'cpu'],
      name: null,
    });
    expect(layout.v1).toContainEqual({
      mountPoint: '/sys/fs/cgroup/systemd',
      controllers: [],
      name: 'systemd',
    });
  });

  it('classifies a hybrid host (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)', () => {
    const layout = cgroupLayout(parseMountInfo(fixture('mountinfo-hybrid.txt')));
    expect(layout.kind).toBe('hybrid');
    expect(layout.v2MountPoint).toBe('/sys/fs/cgroup/unified');
    expect(layout.v1.find((h) => h.mountPoint === '/sys/fs/cgroup/cpuset')?.controllers).toEqual([
      'cpuset',
    ]);
  });

  it('classifies a v2 host', () => {
    const layout = cgroupLayout(parseMountInfo(fixture('mountinfo-v2.txt')));
    expect(layout).toEqual({ kind: 'v2', v1: [], v2MountPoint: '/sys/fs/cgroup' });
  });

  it('keeps a host with only a named v1 hierarchy on v2', () => {
    const text = `${fixture('mountinfo-v2.txt')}40 26 0:40 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n`;
    expect(cgroupLayout(parseMountInfo(text)).kind).toBe('v2');
  });

  it('reports none when no cgroup filesystem is mounted', () => {
    expect(cgroupLayout(parseMountInfo('22 1 0:1 / / rw - ext4 /dev/sda rw\n')).kind).toBe('none');
  });
});

describe('parseProcCgroups', () => {
  it('reads name, hierarchy and enabled, skipping the header', () => {
    const rows = parseProcCgroups(fixture('proc-cgroups-v1.txt'));
    expect(rows).toContainEqual({ name: 'memory', hierarchy: 4, enabled: true });
    expect(rows).toHaveLength(7);
  });

  it('rejects a malformed row', () => {
    expect(() => parseProcCgroups('#h\nmemory 4 x 1\n')).toThrow(/line 2/);
    expect(() => parseProcCgroups('memory 4 1 2\n')).toThrow(/expected/);
  });
});
