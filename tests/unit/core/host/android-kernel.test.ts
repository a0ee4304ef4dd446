import { describe, expect, it } from 'vitest';
import {
  checkBinder,
  checkLoopDevices,
  checkOverlayfs,
} from '../../../../electron/core/host/android-kernel.js';
import { fakeHost, healthyHostSpec, type FakeHostSpec } from '../../../fixtures/host/fake-host.js';

function host(change: (spec: FakeHostSpec) => void = () => undefined) {
  const spec = healthyHostSpec();
  change(spec);
  return fakeHost(spec);
}

describe('checkBinder', () => {
  it('passes with binderfs', async () => {
    const check = await checkBinder(
      host((s) => (s.files['/proc/filesystems'] += 'nodev\tbinder\n')),
    );
    expect(check).toMatchObject({
      ok: true,
      impact: 'android',
      seen: expect.stringContaining('binderfs'),
    });
  });

  it('passes with the three binder devices', async () => {
    const check = await checkBinder(
      host((s) =>
        Object.assign(s.nodes, {
          '/dev/binder': 'char-device',
          '/dev/hwbinder': 'char-device',
          '/dev/vndbinder': 'char-device',
        }),
      ),
    );
    expect(check).toMatchObject({
      ok: true,
      seen: '/dev/binder, /dev/hwbinder, /dev/vndbinder present',
    });
  });

  it('names the module to load when this kernel has binder_linux', async () => {
    const check = await checkBinder(
      host((s) => {
        s.nodes['/dev/binder'] = 'char-device';
        s.files['/lib/modules/6.1.0-18-amd64/modules.dep'] +=
          'kernel/drivers/android/binder_linux.ko.xz:\n';
      }),
    );
    expect(check).toMatchObject({
      ok: false,
      seen: expect.stringMatching(
        /only \/dev\/binder; binder_linux module at \/lib\/modules\/6.1.0-18-amd64\/kernel\/drivers\/android\/binder_linux.ko.xz/,
      ),
      fix: 'load the module: modprobe binder_linux devices="binder,hwbinder,vndbinder"',
    });
  });

  it('names the kernel options when there is no module', async () => {
    const check = await checkBinder(host());
    expect(check).toMatchObject({
      ok: false,
      seen: expect.stringContaining('no binder_linux module for this kernel'),
      fix: expect.stringMatching(/CONFIG_ANDROID_BINDER_IPC=y.*CONFIG_ANDROID_BINDERFS=y/),
    });
  });

  it('says when the kernel has no module directory at all', async () => {
    const check = await checkBinder(host((s) => (s.kernelRelease = '6.18.0-custom')));
    expect(check).toMatchObject({
      ok: false,
      seen: expect.stringContaining('/lib/modules/6.18.0-custom has no module list'),
      fix: expect.stringContaining('CONFIG_ANDROID_BINDERFS'),
    });
  });
});

describe('checkOverlayfs and checkLoopDevices', () => {
  it('passes overlay from /proc/filesystems, or as a loadable module', async () => {
    expect(await checkOverlayfs(host())).toMatchObject({
      ok: true,
      seen: 'overlay in /proc/filesystems',
    });
    const fromModule = await checkOverlayfs(
      host((s) => (s.files['/proc/filesystems'] = 'nodev\tproc\n')),
    );
    expect(fromModule).toMatchObject({
      ok: true,
      seen: expect.stringContaining('overlay module at'),
    });
  });

  it('fails overlay with the kernel option when neither', async () => {
    const check = await checkOverlayfs(
      host((s) => {
        s.files['/proc/filesystems'] = 'nodev\tproc\n';
        s.files['/lib/modules/6.1.0-18-amd64/modules.dep'] = '';
      }),
    );
    expect(check).toMatchObject({
      ok: false,
      impact: 'android',
      fix: expect.stringContaining('CONFIG_OVERLAY_FS=y'),
    });
  });

  it('passes loop devices with the control node and losetup from sbin', async () => {
    expect(await checkLoopDevices(host())).toMatchObject({
      ok: true,
      seen: '/dev/loop-control present; losetup at /usr/sbin/losetup',
    });
  });

  it('fails loop devices with modprobe loop or the package to install', async () => {
    const check = await checkLoopDevices(
      host((s) => {
        delete s.nodes['/dev/loop-control'];
        s.executables = s.executables.filter((e) => !e.endsWith('losetup'));
      }),
    );
    expect(check).toMatchObject({
      ok: false,
      seen: 'no /dev/loop-control; no losetup',
      fix: 'modprobe loop; apt-get install mount (it provides losetup)',
    });
  });
});
