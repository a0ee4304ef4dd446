/**
 * What only a real Android image needs beyond the demo guest: the kernel's binder, overlayfs
 * and loop devices (`host/android-kernel.ts`), and the images themselves, in Droidway's store or
 * in Waydroid's folders.
 */
import type { DoctorCheck } from '../../shared/doctor.js';
import { failed, passed, type CheckIdentity } from '../host/check-result.js';
import type { HostProbe } from '../host/host-probe.js';
import { WAYDROID_IMAGE_DIRS } from '../images/image-discovery.js';
import { defaultImageStoreRoot, SYSTEM_IMG, VENDOR_IMG } from '../images/image-store.js';

/**
 * Android images (`android`): an image in Droidway's store (`storeRoot`, `droidway image
 * download` / `import` put them there), or a folder of `WAYDROID_IMAGE_DIRS` with both
 * `system.img` and `vendor.img`. The fix names Droidway's own commands.
 */
export async function checkAndroidImages(
  host: HostProbe,
  storeRoot: string = defaultImageStoreRoot(),
): Promise<DoctorCheck> {
  const identity: CheckIdentity = {
    id: 'android.images',
    title: 'Android images',
    impact: 'android',
  };
  const stored = (await host.readdir(storeRoot).catch(() => [])).filter((n) => !n.startsWith('.'));
  for (const name of stored.sort()) {
    const system = (await host.stat(`${storeRoot}/${name}/${SYSTEM_IMG}`))?.type === 'file';
    const vendor = (await host.stat(`${storeRoot}/${name}/${VENDOR_IMG}`))?.type === 'file';
    if (system && vendor)
      return passed(identity, `image ${name} in Droidway's store (${storeRoot})`);
  }
  const partial: string[] = [];
  for (const dir of WAYDROID_IMAGE_DIRS) {
    const system = (await host.stat(`${dir}/system.img`))?.type === 'file';
    const vendor = (await host.stat(`${dir}/vendor.img`))?.type === 'file';
    if (system && vendor) return passed(identity, `system.img and vendor.img in ${dir}`);
    if (system || vendor) partial.push(`${dir} has only ${system ? 'system.img' : 'vendor.img'}`);
  }
  return failed(
    identity,
    partial.length > 0
      ? partial.join('; ')
      : `no image in ${storeRoot}, and no system.img + vendor.img in ${WAYDROID_IMAGE_DIRS.join(', ')}`,
    'run droidway image download (the newest Android image for this machine), or ' +
      'droidway image import FOLDER for a system.img and vendor.img you already have',
  );
}
