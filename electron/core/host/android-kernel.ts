/**
 * What the kernel must offer a real Android image beyond the demo guest: binder (binderfs or
 * the three binder devices), and overlayfs and loop devices for the image mounts. `doctor`
 * reports these; `images/android-readiness.ts` refuses a boot on them.
 */
import type { DoctorCheck } from '../../shared/doctor.js';
import { failed, passed, verdict, type CheckIdentity } from './check-result.js';
import type { HostProbe } from './host-probe.js';
import {
  findExecutable,
  findKernelModule,
  readTextOrNull,
  type KernelModuleStatus,
} from './host-lookup.js';

const BINDER_DEVICES = ['/dev/binder', '/dev/hwbinder', '/dev/vndbinder'];

/** Whether `/proc/filesystems` lists `fsType`. */
function hasFilesystem(filesystems: string | null, fsType: string): boolean {
  return (filesystems ?? '').split('\n').some((line) => line.split('\t').at(-1)?.trim() === fsType);
}

function describeModule(name: string, module: KernelModuleStatus): string {
  switch (module.status) {
    case 'builtin':
      return `${name} built into the kernel`;
    case 'module':
      return `${name} module at ${module.path}`;
    case 'absent':
      return `no ${name} module for this kernel`;
    case 'no-modules':
      return `no ${name} module (${module.dir} has no module list)`;
  }
}

/**
 * Binder (`android`): binderfs in `/proc/filesystems` (type `binder`), or all of `/dev/binder`,
 * `/dev/hwbinder`, `/dev/vndbinder`. When neither, the fix loads `binder_linux` if this kernel
 * has it as a module, else names the kernel options to build with.
 */
export async function checkBinder(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = { id: 'binder', title: 'Binder IPC', impact: 'android' };
  const filesystems = await readTextOrNull(host, '/proc/filesystems');
  if (hasFilesystem(filesystems, 'binder'))
    return passed(identity, 'binderfs available (filesystem "binder")');
  const present: string[] = [];
  for (const device of BINDER_DEVICES) {
    if ((await host.stat(device))?.type === 'char-device') present.push(device);
  }
  if (present.length === BINDER_DEVICES.length)
    return passed(identity, `${present.join(', ')} present`);
  const module = await findKernelModule(host, 'binder_linux');
  const seen = [
    'no binderfs in /proc/filesystems',
    present.length === 0 ? 'no binder devices' : `only ${present.join(', ')}`,
    describeModule('binder_linux', module),
  ].join('; ');
  if (module.status === 'module') {
    return failed(
      identity,
      seen,
      'load the module: modprobe binder_linux devices="binder,hwbinder,vndbinder"',
    );
  }
  return failed(
    identity,
    seen,
    `kernel ${host.kernelRelease} has no binder: use a kernel built with CONFIG_ANDROID_BINDER_IPC=y and ` +
      'CONFIG_ANDROID_BINDERFS=y (or =m, then modprobe binder_linux devices="binder,hwbinder,vndbinder")',
  );
}

/** OverlayFS (`android`): in `/proc/filesystems`, or loadable as the `overlay` module. */
export async function checkOverlayfs(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = { id: 'kernel.overlayfs', title: 'OverlayFS', impact: 'android' };
  if (hasFilesystem(await readTextOrNull(host, '/proc/filesystems'), 'overlay')) {
    return passed(identity, 'overlay in /proc/filesystems');
  }
  const module = await findKernelModule(host, 'overlay');
  if (module.status === 'module')
    return passed(identity, `${describeModule('overlay', module)} (loaded on first mount)`);
  return failed(
    identity,
    `overlay not in /proc/filesystems; ${describeModule('overlay', module)}`,
    'use a kernel built with CONFIG_OVERLAY_FS=y',
  );
}

/** Loop devices (`android`): `/dev/loop-control` and the `losetup` tool, to mount the images. */
export async function checkLoopDevices(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = { id: 'kernel.loop', title: 'Loop devices', impact: 'android' };
  const control = (await host.stat('/dev/loop-control'))?.type === 'char-device';
  const losetup = await findExecutable(host, 'losetup');
  const seen = `${control ? '/dev/loop-control present' : 'no /dev/loop-control'}; ${
    losetup !== null ? `losetup at ${losetup}` : 'no losetup'
  }`;
  const fixes: string[] = [];
  if (!control) {
    const module = await findKernelModule(host, 'loop');
    fixes.push(
      module.status === 'module'
        ? 'modprobe loop'
        : 'use a kernel built with CONFIG_BLK_DEV_LOOP=y',
    );
  }
  if (losetup === null) fixes.push('apt-get install mount (it provides losetup)');
  return verdict(identity, fixes.length === 0, seen, fixes.join('; '));
}
