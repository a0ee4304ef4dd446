/**
 * The CLI's view of an instance's app catalog (`core/apps/catalog.ts`): cached in the instance's
 * data folder, keeping the desktop entries and hicolor icons in step unless told not to.
 */
import { instanceCatalogs, type AppCatalog } from '../core/apps/catalog.js';
import { resolveLauncherCommand, xdgDirs } from '../core/apps/desktop-entry.js';
import { sessionPaths } from '../core/runtime/session-client.js';

/** The catalog of `instance`, syncing desktop entries unless `desktop` is false. */
export function catalogOf(instance: string, desktop = true): AppCatalog {
  return instanceCatalogs({
    cacheDir: (name) => sessionPaths(name).dataDir,
    ...(desktop ? { desktop: { dirs: xdgDirs(), launcher: resolveLauncherCommand() } } : {}),
  })(instance);
}
