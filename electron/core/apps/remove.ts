/**
 * Uninstalling an app: Android's package manager removes it, then its desktop entry, its hicolor
 * icons and its pin and recents go too.
 */
import type { GuestExecutor } from '../android/guest-exec.js';
import { uninstallPackage } from '../android/package-manager.js';
import { AppsError } from './apps-errors.js';
import type { AppsStateStore } from './apps-state.js';
import {
  checkPackageName,
  refreshDesktopCaches,
  removeAppEntry,
  type ToolRunner,
  type XdgDirs,
} from './desktop-entry.js';
import { removeAppIcons } from './hicolor-icons.js';

/** What `removeApp` touches besides the guest. */
export interface RemoveOptions {
  /** Where the desktop entries live; none leaves them alone. */
  desktop?: { dirs: XdgDirs; run?: ToolRunner };
  store?: AppsStateStore;
}

/**
 * Uninstalls `pkg` from the guest and removes its desktop entry, icons, pin and recents.
 * Rejects with `PACKAGE_NAME_INVALID`, `APP_NOT_INSTALLED` (Android's `DELETE_FAILED_INTERNAL_ERROR`,
 * which is what it answers for an unknown package) or `APP_REMOVE_FAILED` with Android's words.
 */
export async function removeApp(
  exec: GuestExecutor,
  pkg: string,
  options: RemoveOptions = {},
): Promise<void> {
  checkPackageName(pkg);
  const verdict = await uninstallPackage(exec, pkg);
  if (!verdict.ok) {
    // Android answers an unknown package with an internal error; a person asked about their app.
    if (verdict.code === 'DELETE_FAILED_INTERNAL_ERROR')
      throw new AppsError('APP_NOT_INSTALLED', `${pkg} is not installed in the guest`);
    throw new AppsError(
      'APP_REMOVE_FAILED',
      `Android did not uninstall ${pkg}: ${verdict.code}${verdict.detail ? `: ${verdict.detail}` : ''}`,
    );
  }
  if (options.desktop !== undefined) {
    const { dirs, run } = options.desktop;
    await removeAppEntry(dirs, pkg);
    await removeAppIcons(dirs, pkg);
    await refreshDesktopCaches(dirs, run ? { run } : {});
  }
  await options.store?.forget(pkg);
}
