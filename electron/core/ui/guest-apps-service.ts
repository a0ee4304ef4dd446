/**
 * An `AppsService` straight on the guest: the third-party packages the guest's package manager
 * lists, each APK read from the instance's data folder by the ApkReader (label, icon, launcher
 * activity, permissions, signer), launched by the apps layer's `launchApp` (which starts or
 * thaws the session first and records the launch), removed with `cmd package uninstall`. Pins
 * live in the apps state store (the tray reads the same file), or in memory without one.
 */
import os from 'node:os';
import path from 'node:path';
import { guestDataPathToHost } from '../android/guest-data.js';
import { findRunningGuest, lxcGuestExecutor, type GuestExecutor } from '../android/guest-exec.js';
import { listPackages } from '../android/package-manager.js';
import { AppsStateStore, defaultAppsStateDir } from '../apps/apps-state.js';
import { displayLabel, MAX_CATALOG_APPS } from '../apps/catalog.js';
import { xdgDirs } from '../apps/desktop-entry.js';
import { launchApp } from '../apps/launch.js';
import { removeApp, type RemoveOptions } from '../apps/remove.js';
import type { ApkInfo } from '../apk/apk-reader.js';
import { readApkInfoInWorker } from '../apk/apk-worker-client.js';
import { defaultApkWorkerUrl } from '../install/install-pipeline.js';
import { sessionStatus, type SessionRef } from '../runtime/session-client.js';
import type { AppDetails, AppSummary, AppsListing } from '../../shared/apps.js';
import { pngDataUrl, type AppsService } from './apps-service.js';

/** Options of `guestAppsService`. */
export interface GuestAppsOptions extends SessionRef {
  /** Reads an APK; default the ApkReader in its worker. */
  readApk?: (file: string) => Promise<ApkInfo>;
  /** Preferred UI locale for labels (`de`, `zh-rTW`); default the default label. */
  locale?: string;
  /** Where pins and recent launches are kept; without one, pins last as long as the process. */
  store?: AppsStateStore;
  /** Where the app's desktop entry and icons live, removed with the app; none leaves them. */
  desktop?: RemoveOptions['desktop'];
  /** The current instance (Settings' `instanceName`), asked at each call; else `instance`. */
  currentInstance?: () => string;
}

/** The icon width the grid draws at 2× (56 px tiles). */
const GRID_ICON_PX = 112;

function appError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** See the module doc. */
export function guestAppsService(options: GuestAppsOptions = {}): AppsService {
  const readApk =
    options.readApk ??
    ((file: string) =>
      readApkInfoInWorker(file, {
        workerUrl: defaultApkWorkerUrl(),
        iconSize: GRID_ICON_PX,
        timeoutMs: 30_000,
      }));
  const memoryPins = new Set<string>();
  const pinned = async (): Promise<ReadonlySet<string>> =>
    options.store === undefined ? memoryPins : new Set((await options.store.read()).pinned);
  // Keyed by guest path and version: a reinstall gets a new path, an update a new version.
  const cache = new Map<string, ApkInfo>();

  // The instance Settings names now, not the one of when the service was made.
  const ref = (): GuestAppsOptions =>
    options.currentInstance === undefined
      ? options
      : { ...options, instance: options.currentInstance() };

  async function guest(): Promise<{ exec: GuestExecutor; instance: string }> {
    const container = await findRunningGuest(ref());
    return { exec: lxcGuestExecutor(container), instance: container.instance };
  }

  async function infoOf(
    instance: string,
    pkg: { packageName: string; versionCode?: number; apkPath?: string },
  ): Promise<ApkInfo | null> {
    if (pkg.apkPath === undefined) return null;
    const key = `${pkg.apkPath}|${pkg.versionCode ?? ''}`;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const host = await guestDataPathToHost(instance, pkg.apkPath, ref());
    const info = await readApk(host);
    if (info.packageName !== pkg.packageName) return null;
    cache.set(key, info);
    return info;
  }

  function summary(
    pkg: { packageName: string; versionCode?: number },
    info: ApkInfo | null,
    pins: ReadonlySet<string>,
  ): AppSummary {
    return {
      packageName: pkg.packageName,
      label: displayLabel(info?.labels ?? {}, pkg.packageName, options.locale),
      versionName: info?.versionName ?? null,
      versionCode: info?.versionCode ?? pkg.versionCode ?? 0,
      iconDataUrl: pngDataUrl(info?.icon?.png),
      launchable: info?.launcherActivity !== undefined,
      pinned: pins.has(pkg.packageName),
    };
  }

  async function find(
    pkg: string,
  ): Promise<{ exec: GuestExecutor; info: ApkInfo | null; summary: AppSummary }> {
    const { exec, instance } = await guest();
    const listed = (await listPackages(exec, { thirdPartyOnly: true })).find(
      (p) => p.packageName === pkg,
    );
    if (listed === undefined)
      throw appError('APP_NOT_INSTALLED', `${pkg} is not installed in the guest`);
    const info = await infoOf(instance, listed);
    return { exec, info, summary: summary(listed, info, await pinned()) };
  }

  return {
    async list(): Promise<AppsListing> {
      const status = await sessionStatus(ref());
      if (status.state.name !== 'running') return { session: status.state.name, apps: [] };
      const { exec, instance } = await guest();
      const packages = (await listPackages(exec, { thirdPartyOnly: true })).slice(
        0,
        MAX_CATALOG_APPS,
      );
      const apps: AppSummary[] = [];
      const pins = await pinned();
      for (const pkg of packages) {
        // One unreadable APK must not hide the others: it is listed by its package name.
        const info = await infoOf(instance, pkg).catch(() => null);
        apps.push(summary(pkg, info, pins));
      }
      apps.sort((a, b) => a.label.localeCompare(b.label));
      return { session: 'running', apps };
    },
    async launch(pkg) {
      await launchApp(pkg, {
        ...ref(),
        launcherActivity: async (_exec, name) => {
          const { info } = await find(name);
          return info?.launcherActivity?.name ?? null;
        },
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
      const { exec } = await guest();
      // Android uninstalls first; then the desktop entry, icons, pin and recents go.
      await removeApp(exec, pkg, {
        ...(options.desktop !== undefined ? { desktop: options.desktop } : {}),
        ...(options.store !== undefined ? { store: options.store } : {}),
      });
      memoryPins.delete(pkg);
    },
    async info(pkg): Promise<AppDetails> {
      const { info, summary: s } = await find(pkg);
      return {
        ...s,
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
 * The app's service: the current instance (`currentInstance`, default `default`), pins and recents in `$XDG_CONFIG_HOME/droidway`
 * (default `~/.config/droidway`), where the tray reads them too.
 */
export function defaultGuestAppsService(currentInstance?: () => string): AppsService {
  const configHome = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return guestAppsService({
    store: new AppsStateStore(defaultAppsStateDir(configHome)),
    desktop: { dirs: xdgDirs() },
    ...(currentInstance !== undefined ? { currentInstance } : {}),
  });
}
