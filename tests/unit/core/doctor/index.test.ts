import { describe, expect, it } from 'vitest';
import { prettyDistroName, runDoctor, verdictOf } from '../../../../electron/core/doctor/index.js';
import type { DoctorCheck } from '../../../../electron/shared/doctor.js';
import { fakeHost, healthyHostSpec } from '../../../fixtures/host/fake-host.js';

describe('runDoctor', () => {
  it('reports the host and every check, and lets the demo guest run on a healthy host', async () => {
    const report = await runDoctor({ host: fakeHost(healthyHostSpec()) });
    expect(report.host).toEqual({
      kernel: '6.1.0-18-amd64',
      arch: 'x86_64',
      distro: 'Debian GNU/Linux 12 (bookworm)',
      uid: 0,
    });
    expect(new Date(report.generatedAt).toString()).not.toBe('Invalid Date');
    expect(new Set(report.checks.map((c) => c.id)).size).toBe(report.checks.length);
    expect(report.checks.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        'kernel.namespaces.pid',
        'cgroup.layout',
        'kernel.seccomp',
        'shm',
        'lxc.tools',
        'lxc.version',
        'privileges',
        'busybox',
        'binder',
        'kernel.overlayfs',
        'kernel.loop',
        'android.images',
        'display.wayland',
        'display.drm',
      ]),
    );
    expect(report.demoGuest).toEqual({
      canRun: true,
      blockers: [],
      summary: 'The demo guest can run',
    });
    expect(report.android).toEqual({
      canRun: false,
      blockers: ['binder', 'android.images'],
      summary: 'Android cannot run: fix Binder IPC, Android images',
    });
  });

  it('blocks the demo guest (and Android) on a failed demo check', async () => {
    const spec = healthyHostSpec();
    spec.executables = spec.executables.filter((e) => !e.endsWith('lxc-attach'));
    const report = await runDoctor({ host: fakeHost(spec) });
    expect(report.demoGuest).toMatchObject({ canRun: false, blockers: ['lxc.tools'] });
    expect(report.android.blockers).toEqual(['lxc.tools', 'binder', 'android.images']);
  });

  it('reports a check that throws as failed, keeping the others', async () => {
    const host = fakeHost(healthyHostSpec());
    host.shmProbe = () => Promise.reject(new Error('probe exploded'));
    const report = await runDoctor({ host });
    expect(report.checks.find((c) => c.id === 'shm')).toMatchObject({
      ok: false,
      seen: 'the check itself failed: probe exploded',
      fix: expect.stringContaining('bug'),
    });
    expect(report.checks.find((c) => c.id === 'lxc.version')?.ok).toBe(true);
    expect(report.demoGuest.blockers).toEqual(['shm']);
  });

  it('survives a host without os-release', async () => {
    const spec = healthyHostSpec();
    delete spec.files['/etc/os-release'];
    expect((await runDoctor({ host: fakeHost(spec) })).host.distro).toBe('unknown Linux');
  });
});

describe('verdictOf', () => {
  const check = (id: string, ok: boolean, impact: DoctorCheck['impact']): DoctorCheck => ({
    id,
    title: id,
    ok,
    seen: '',
    impact,
    ...(ok ? {} : { fix: 'x' }),
  });

  it('ignores failed optional checks and passed ones', () => {
    const checks = [
      check('a', false, 'optional'),
      check('b', true, 'demo'),
      check('c', false, 'android'),
    ];
    expect(verdictOf(checks, ['demo'], 'X').canRun).toBe(true);
    expect(verdictOf(checks, ['demo', 'android'], 'X')).toEqual({
      canRun: false,
      blockers: ['c'],
      summary: 'X cannot run: fix c',
    });
  });
});

describe('prettyDistroName', () => {
  it('reads double-quoted, single-quoted and bare values', () => {
    expect(prettyDistroName('NAME=x\nPRETTY_NAME="Fedora Linux 40 (Workstation Edition)"\n')).toBe(
      'Fedora Linux 40 (Workstation Edition)',
    );
    expect(prettyDistroName("PRETTY_NAME='Arch Linux'")).toBe('Arch Linux');
    expect(prettyDistroName('PRETTY_NAME=Gentoo')).toBe('Gentoo');
    expect(prettyDistroName('PRETTY_NAME="say \\"hi\\""')).toBe('say "hi"');
  });

  it('returns null when absent or empty', () => {
    expect(prettyDistroName(null)).toBeNull();
    expect(prettyDistroName('NAME=x\n')).toBeNull();
    expect(prettyDistroName('PRETTY_NAME=""\n')).toBeNull();
  });
});
