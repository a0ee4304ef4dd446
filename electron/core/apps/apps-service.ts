/**
 * The Apps page's services (`apps:*` channels) as views of the one catalog (`catalog.ts`): the
 * grid lists the catalog's apps with the same labels, the same set and the same limit as the tray
 * and the desktop entries; launch, pin and info look apps up in it; remove uninstalls through the
 * apps layer and refreshes it. Pins live in the apps state store (the tray reads the same file),
 * or in memory without one.
 */
import os from 'node:os';
import path from 'node:path';
import { findRunningGuest, lxcGuestExecutor } from '../android/guest-exec.js';
import { sessionStatus, type SessionRef } from '../runtime/session-client.js';
import type { AppDetails, AppSummary, AppsListing } from '../../shared/apps.js';
import { AppsError } from './apps-errors.js';
import { AppsStateStore, defaultAppsStateDir } from './apps-state.js';
import { instanceCatalogs, type AppCatalog, type CatalogApp } from './catalog.js';
import { xdgDirs } from './desktop-entry.js';
import { launchApp } from './launch.js';
import { removeApp, type RemoveOptions } from './remove.js';

/** The services behind the `apps:*` channels. */
export interface AppsService {
  list(): Promise<AppsListing>;
  launch(packageName: string): Promise<void>;
  pin(packageName: string): Promise<void>;
  unpin(packageName: string): Promise<void>;
  remove(packageName: string): Promise<void>;
  info(packageName: string): Promise<AppDetails>;
  /** The catalog these views read (the current instance's); finished installs refresh it. */
  catalog?(): AppCatalog;
}

/** The icon size the grid accepts at most; a bigger PNG is left out rather than shipped over IPC. */
export const MAX_ICON_BYTES = 512 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * `data:image/png;base64,…` for PNG bytes, or null when they are not a PNG (by signature) or
 * larger than `MAX_ICON_BYTES`: the renderer only ever gets an image URL it can show safely.
 */
export function pngDataUrl(bytes: Uint8Array | null | undefined): string | null {
  if (bytes === null || bytes === undefined) return null;
  if (bytes.length < 16 || bytes.length > MAX_ICON_BYTES) return null;
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return null;
  return `data:image/png;base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64')}`;
}

/** One app of `catalog`'s last refresh as the grid shows it. */
export function appSummary(
  catalog: AppCatalog,
  app: CatalogApp,
  pinned: ReadonlySet<string>,
): AppSummary {
  return {
    packageName: app.packageName,
    label: app.label,
    versionName: app.versionName,
    versionCode: app.versionCode,
    iconDataUrl: pngDataUrl(catalog.icon(app.packageName)),
    launchable: app.launcherActivity !== null,
    pinned: pinned.has(app.packageName),
  };
}

/** The grid: every app of `catalog`'s last refresh, by label. */
export function appSummaries(catalog: AppCatalog, pinned: ReadonlySet<string>): AppSummary[] {
  return catalog.apps().map((app) => appSummary(catalog, app, pinned));
}

/** Options of `catalogAppsService`. */
export interface CatalogAppsOptions extends SessionRef {
  /** The catalog of an instance; default `instanceCatalogs` on `SessionRef`'s roots, with icons. */
  catalogs?: (instance: string) => AppCatalog;
  /** Where pins and recent launches are kept; without one, pins last as long as the process. */
  store?: AppsStateStore;
  /** Where the app's desktop entry and icons live, removed with the app; none leaves them. */
  desktop?: RemoveOptions['desktop'];
  /** The current instance (Settings' `instanceName`), asked at each call; else `instance`. */
  currentInstance?: () => string;
}

/** See the module doc. */
export function catalogAppsService(options: CatalogAppsOptions = {}): AppsService {
  const { dataRoot, runtimeRoot, owner } = options;
  const roots = {
    ...(dataRoot !== undefined ? { dataRoot } : {}),
    ...(runtimeRoot !== undefined ? { runtimeRoot } : {}),
    ...(owner !== undefined ? { owner } : {}),
  };
  const catalogs = options.catalogs ?? instanceCatalogs({ ...roots, icons: true });
  const memoryPins = new Set<string>();
  const pinned = async (): Promise<ReadonlySet<string>> =>
    options.store === undefined ? memoryPins : new Set((await options.store.read()).pinned);
  // The instance Settings names now, not the one of when the service was made.
  const instance = (): string => options.currentInstance?.() ?? options.instance ?? 'default';
  const ref = (): SessionRef => ({ ...roots, instance: instance() });

  /** The app `pkg` of a fresh refresh; `APP_NOT_INSTALLED` when the catalog lacks it. */
  async function find(pkg: string): Promise<{ catalog: AppCatalog; app: CatalogApp }> {
    const catalog = catalogs(instance());
    await catalog.refresh();
    const app = catalog.get(pkg);
    if (app === undefined)
      throw new AppsError('APP_NOT_INSTALLED', `${pkg} is not installed in the guest`);
    return { catalog, app };
  }

  return {
    catalog: () => catalogs(instance()),
    async list(): Promise<AppsListing> {
      const status = await sessionStatus(ref());
      if (status.state.name !== 'running') return { session: status.state.name, apps: [] };
      const catalog = catalogs(instance());
      await catalog.refresh();
      return { session: 'running', apps: appSummaries(catalog, await pinned()) };
    },
    async launch(pkg) {
      await launchApp(pkg, {
        ...ref(),
        ...(options.store !== undefined ? { store: options.store } : {}),
        launcherActivity: async (_exec, name) => (await find(name)).app.launcherActivity,
      });
    },
    async pin(pkg) {
      await find(pkg);
      if (options.store === undefined) memoryPins.add(pkg);
      else await options.store.pin(pkg);
    },
    async unpin(pkg) {
      if (options.store === undefined) memoryPins.delete(pkg);
      else await options.store.unpin(pkg);
    },
    async remove(pkg) {
      const exec = lxcGuestExecutor(await findRunningGuest(ref()));
      // Android uninstalls first; then the desktop entry, icons, pin and recents go.
      await removeApp(exec, pkg, {
        ...(options.desktop !== undefined ? { desktop: options.desktop } : {}),
        ...(options.store !== undefined ? { store: options.store } : {}),
      });
      memoryPins.delete(pkg);
      // The catalog's cache and the other entries follow the guest.
      await catalogs(instance())
        .refresh()
        .catch(() => undefined);
    },
    async info(pkg): Promise<AppDetails> {
      const { catalog, app } = await find(pkg);
      const info = await catalog.details(pkg);
      return {
        ...appSummary(catalog, app, await pinned()),
        minSdk: info?.minSdkVersion ?? null,
        targetSdk: info?.targetSdkVersion ?? null,
        permissions: [...(info?.permissions ?? [])],
        signerSha256: [...(info?.signatures.signerCertSha256 ?? [])],
        signatureSchemes: info
          ? (['v1', 'v2', 'v3'] as const).filter((v) => info.signatures.schemes[v])
          : [],
        nativeAbis: [...(info?.nativeAbis ?? [])],
      };
    },
  };
}

/**
 * The app's service: the current instance (`currentInstance`, default `default`), pins and
 * recents in `$XDG_CONFIG_HOME/droidway` (default `~/.config/droidway`), where the tray reads
 * them too, over `catalogs` (default in memory, with icons, no desktop entries kept).
 */
export function defaultAppsService(
  currentInstance?: () => string,
  catalogs?: (instance: string) => AppCatalog,
): AppsService {
  const configHome = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return catalogAppsService({
    store: new AppsStateStore(defaultAppsStateDir(configHome)),
    desktop: { dirs: xdgDirs() },
    ...(currentInstance !== undefined ? { currentInstance } : {}),
    ...(catalogs !== undefined ? { catalogs } : {}),
  });
}
