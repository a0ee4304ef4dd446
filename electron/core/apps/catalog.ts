/**
 * The catalog of installed apps: what the guest's package manager lists (third-party apps, and
 * system apps that have a launcher activity), each described by the ApkReader from its installed
 * APK (reached through the instance's `/data` mapping). Descriptions are cached by package,
 * versionCode and the APK file's identity (dev, inode, size, mtime), in memory and on disk, so a
 * refresh reads only what changed. A refresh fires `changed` with what was added, updated and
 * removed, and can keep the desktop entries and hicolor icons in step.
 *
 * It is the one apps reader: the grid (`apps-service.ts`), the tray (`tray-model.ts`), the CLI's
 * `app list` and the desktop entries are views of one catalog's last refresh, with one label rule
 * (`displayLabel`) and one limit (`MAX_CATALOG_APPS`).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { guestDataPathToHost } from '../android/guest-data.js';
import type { GuestExecutor } from '../android/guest-exec.js';
import { listPackages } from '../android/package-manager.js';
import { isPackageName } from '../android/pm-output.js';
import type { ApkInfo } from '../apk/apk-reader.js';
import { readApkIconsInWorker, readApkInfoInWorker } from '../apk/apk-worker-client.js';
import { findRunningGuest, lxcGuestExecutor } from '../android/guest-exec.js';
import { defaultApkWorkerUrl } from '../install/install-pipeline.js';
import type { InstanceRoots } from '../runtime/instance-paths.js';
import {
  listAppEntries,
  refreshDesktopCaches,
  removeAppEntry,
  writeAppEntry,
  writeFileAtomic,
  type ToolRunner,
  type XdgDirs,
} from './desktop-entry.js';
import { displayLabel } from './app-label.js';
import { installAppIcons, removeAppIcons } from './hicolor-icons.js';

/** One installed app. */
export interface CatalogApp {
  packageName: string;
  versionCode: number;
  versionName: string | null;
  /** Label by Android locale ('' = default); empty when the APK has none. */
  labels: Record<string, string>;
  /** The label to show, by the one rule (`displayLabel`, with the catalog's locale). */
  label: string;
  /** The launcher activity's class name, or null. */
  launcherActivity: string | null;
  /** Whether the guest lists it as a system app. */
  system: boolean;
  /** The base APK in the guest, or null when unknown. */
  apkPath: string | null;
}

/** What a refresh changed. */
export interface CatalogChange {
  added: string[];
  updated: string[];
  removed: string[];
}

/** Most packages taken from the guest's list (for the grid, the tray and the desktop alike). */
export const MAX_CATALOG_APPS = 2000;
/** The icon width the grid draws at 2× (56 px tiles). */
export const GRID_ICON_PX = 112;
const CACHE_FILE = 'apps-catalog.json';
const MAX_CACHE_BYTES = 16 * 1024 * 1024;

/** What is cached per package: the description and the identity it was read from. */
interface CacheEntry {
  key: string;
  app: CatalogApp;
}

/** Options of `AppCatalog`. */
export interface CatalogOptions extends InstanceRoots {
  instance?: string;
  /** The running guest's executor (asked at each refresh). */
  exec: () => Promise<GuestExecutor>;
  /** Folder of the on-disk cache; none keeps it in memory only. */
  cacheDir?: string;
  /** Reads an installed APK (its icon at `GRID_ICON_PX`); default the ApkReader in its worker. */
  readApk?: (file: string) => Promise<ApkInfo>;
  /** Preferred UI locale for labels (`de`, `zh-rTW`); default the default label. */
  locale?: string;
  /**
   * Keep each app's launcher icon for the grid (`icon(pkg)`). Icons live in memory only, so an
   * app described from the disk cache has its APK read once more per process for its icon.
   */
  icons?: boolean;
  /** Reads an APK's icon at every density; default `readApkIconsInWorker`. */
  readIcons?: (file: string) => Promise<{ png: Buffer }[]>;
  /** Keeps desktop entries and icons in step with the catalog. */
  desktop?: { dirs: XdgDirs; launcher: readonly string[]; run?: ToolRunner };
}

/** See the module doc. */
export class AppCatalog extends EventEmitter<{ changed: [CatalogChange] }> {
  private cache = new Map<string, CacheEntry>();
  private current = new Map<string, CatalogApp>();
  private loaded = false;
  private icons = new Map<string, Buffer | null>();
  private running: Promise<CatalogApp[]> | null = null;
  private again: Promise<CatalogApp[]> | null = null;
  /** Problems of the last refresh (an unreadable APK …), for a person. */
  notes: string[] = [];

  constructor(private readonly options: CatalogOptions) {
    super();
  }

  /** The apps of the last refresh, by label. */
  apps(): CatalogApp[] {
    return [...this.current.values()].sort((a, b) => a.label.localeCompare(b.label));
  }

  /** One app of the last refresh. */
  get(pkg: string): CatalogApp | undefined {
    return this.current.get(pkg);
  }

  /** The launcher icon (PNG) of an app of the last refresh, with the `icons` option; else null. */
  icon(pkg: string): Buffer | null {
    return this.icons.get(pkg) ?? null;
  }

  /**
   * Everything the APK of an app of the last refresh says about itself (permissions, signers …),
   * read now; null when the app is not in the catalog or its APK is not under `/data`.
   */
  async details(pkg: string): Promise<ApkInfo | null> {
    const app = this.current.get(pkg);
    if (app === undefined || app.apkPath === null || !app.apkPath.startsWith('/data/')) return null;
    const host = await guestDataPathToHost(
      this.options.instance ?? 'default',
      app.apkPath,
      this.options,
    );
    const info = await this.readApk(host);
    return info.packageName === pkg ? info : null;
  }

  private readApk(file: string): Promise<ApkInfo> {
    return (
      this.options.readApk?.(file) ??
      readApkInfoInWorker(file, {
        workerUrl: defaultApkWorkerUrl(),
        iconSize: GRID_ICON_PX,
        timeoutMs: 30_000,
      })
    );
  }

  private get cacheFile(): string | null {
    return this.options.cacheDir === undefined
      ? null
      : path.join(this.options.cacheDir, CACHE_FILE);
  }

  private async loadCache(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    const file = this.cacheFile;
    if (file === null) return;
    try {
      const st = await fs.stat(file);
      if (st.size > MAX_CACHE_BYTES) return;
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as {
        version?: unknown;
        entries?: unknown;
      };
      if (parsed.version !== 1 || !Array.isArray(parsed.entries)) return;
      for (const e of parsed.entries as CacheEntry[]) {
        const a = e?.app;
        if (
          typeof e?.key === 'string' &&
          typeof a === 'object' &&
          a !== null &&
          typeof a.packageName === 'string' &&
          isPackageName(a.packageName) &&
          typeof a.label === 'string' &&
          typeof a.labels === 'object' &&
          a.labels !== null &&
          Number.isSafeInteger(a.versionCode) &&
          (a.launcherActivity === null || typeof a.launcherActivity === 'string')
        )
          this.cache.set(a.packageName, e);
      }
    } catch {
      // A missing or unreadable cache only costs a re-read of the APKs.
    }
  }

  private async saveCache(): Promise<void> {
    const file = this.cacheFile;
    if (file === null) return;
    await writeFileAtomic(
      file,
      JSON.stringify({ version: 1, entries: [...this.cache.values()] }),
      0o600,
    );
  }

  /**
   * Refreshes from the guest, one refresh at a time. A call during a refresh gets the one that
   * follows it (shared by every call made meanwhile), so it sees what changed after it asked —
   * an install that finished while the grid was being listed.
   */
  refresh(): Promise<CatalogApp[]> {
    if (this.running === null) {
      this.running = this.doRefresh().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.again ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.again = null;
        return this.refresh();
      });
    return this.again;
  }

  private async doRefresh(): Promise<CatalogApp[]> {
    await this.loadCache();
    const instance = this.options.instance ?? 'default';
    const exec = await this.options.exec();
    const all = (await listPackages(exec)).slice(0, MAX_CATALOG_APPS);
    const third = new Set(
      (await listPackages(exec, { thirdPartyOnly: true })).map((p) => p.packageName),
    );
    const readApk = (file: string): Promise<ApkInfo> => this.readApk(file);
    const wantIcons = this.options.icons === true;
    const locale = this.options.locale;
    const notes: string[] = [];
    const next = new Map<string, CatalogApp>();
    const changedKeys = new Set<string>();
    for (const pkg of all) {
      const system = !third.has(pkg.packageName);
      let host: string | null = null;
      let key = `${pkg.packageName}|${pkg.versionCode ?? ''}|`;
      if (pkg.apkPath !== undefined && pkg.apkPath.startsWith('/data/')) {
        try {
          host = await guestDataPathToHost(instance, pkg.apkPath, this.options);
          const st = await fs.stat(host, { bigint: true });
          key += `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
        } catch (e) {
          notes.push(`${pkg.packageName}: ${(e as Error).message}`);
          host = null;
        }
      }
      let entry = this.cache.get(pkg.packageName);
      const stale = entry === undefined || entry.key !== key;
      let info: ApkInfo | null = null;
      if (stale || (wantIcons && host !== null && !this.icons.has(pkg.packageName))) {
        if (host !== null) {
          try {
            info = await readApk(host);
            if (info.packageName !== pkg.packageName) {
              notes.push(`${pkg.packageName}: its APK says it is ${info.packageName}`);
              info = null;
            }
          } catch (e) {
            notes.push(`${pkg.packageName}: ${(e as Error).message}`);
          }
        }
        if (wantIcons && info !== null) this.icons.set(pkg.packageName, info.icon?.png ?? null);
      }
      if (entry === undefined || stale) {
        const labels = { ...(info?.labels ?? {}) };
        entry = {
          key: host !== null && info !== null ? key : `unread|${key}`,
          app: {
            packageName: pkg.packageName,
            versionCode: info?.versionCode ?? pkg.versionCode ?? 0,
            versionName: info?.versionName ?? null,
            labels,
            label: displayLabel(labels, pkg.packageName, locale),
            launcherActivity: info?.launcherActivity?.name ?? null,
            system,
            apkPath: pkg.apkPath ?? null,
          },
        };
        // An unreadable APK is not cached, so the next refresh tries again.
        if (info !== null) this.cache.set(pkg.packageName, entry);
        changedKeys.add(pkg.packageName);
      }
      // A system app the launcher cannot start is not an app for the desktop.
      if (system && entry.app.launcherActivity === null) continue;
      // The label by this catalog's locale, also for a description from the disk cache.
      const label = displayLabel(entry.app.labels, pkg.packageName, locale);
      next.set(pkg.packageName, { ...entry.app, label, system });
    }
    for (const pkg of this.cache.keys()) if (!next.has(pkg)) this.cache.delete(pkg);
    for (const pkg of this.icons.keys()) if (!next.has(pkg)) this.icons.delete(pkg);
    const change: CatalogChange = {
      added: [...next.keys()].filter((p) => !this.current.has(p)),
      updated: [...next.keys()].filter((p) => this.current.has(p) && changedKeys.has(p)),
      removed: [...this.current.keys()].filter((p) => !next.has(p)),
    };
    this.current = next;
    this.notes = notes;
    await this.saveCache().catch((e: Error) => notes.push(`catalog cache: ${e.message}`));
    if (this.options.desktop !== undefined) await this.syncDesktop(changedKeys);
    if (change.added.length + change.updated.length + change.removed.length > 0)
      this.emit('changed', change);
    return this.apps();
  }

  /**
   * Makes the desktop entries match the catalog: an entry (and icons) for each app with a
   * launcher activity that lacks one or changed, and none for apps that are gone.
   */
  private async syncDesktop(changed: ReadonlySet<string>): Promise<void> {
    const desktop = this.options.desktop!;
    const instance = this.options.instance ?? 'default';
    const existing = new Set(await listAppEntries(desktop.dirs));
    let touched = false;
    for (const pkg of existing) {
      const app = this.current.get(pkg);
      if (app === undefined || app.launcherActivity === null) {
        await removeAppEntry(desktop.dirs, pkg);
        await removeAppIcons(desktop.dirs, pkg);
        touched = true;
      }
    }
    for (const app of this.current.values()) {
      if (app.launcherActivity === null) continue;
      if (existing.has(app.packageName) && !changed.has(app.packageName)) continue;
      let icons: { png: Buffer }[] = [];
      if (app.apkPath !== null && app.apkPath.startsWith('/data/')) {
        try {
          const host = await guestDataPathToHost(instance, app.apkPath, this.options);
          // PNG decoding and adaptive-icon composition stay off the caller's thread (Electron
          // main), under the worker's time and memory limits.
          const readIcons =
            this.options.readIcons ??
            (async (f: string) =>
              (
                await readApkIconsInWorker(f, {
                  workerUrl: defaultApkWorkerUrl(),
                  timeoutMs: 30_000,
                })
              ).icons);
          icons = await readIcons(host);
        } catch (e) {
          this.notes.push(`${app.packageName}: icons: ${(e as Error).message}`);
        }
      }
      const installed = await installAppIcons(desktop.dirs, app.packageName, icons);
      this.notes.push(...installed.notes.map((n) => `${app.packageName}: ${n}`));
      await writeAppEntry(desktop.dirs, {
        packageName: app.packageName,
        labels: app.labels,
        launcher: desktop.launcher,
        hasIcon: installed.installed.length > 0,
        instance,
      });
      touched = true;
    }
    if (touched) await refreshDesktopCaches(desktop.dirs, desktop.run ? { run: desktop.run } : {});
  }
}

/** Options of `instanceCatalogs`: those every instance's catalog gets. */
export type InstanceCatalogsOptions = Omit<CatalogOptions, 'instance' | 'exec' | 'cacheDir'> & {
  /** Folder of an instance's disk cache; none keeps the catalogs in memory only. */
  cacheDir?: (instance: string) => string;
  /** The guest's executor; default the instance's running container through lxc-attach. */
  exec?: (instance: string) => Promise<GuestExecutor>;
};

/**
 * The catalog of an instance, made on first use and kept: the app, its tray and its desktop
 * entries ask it for the instance Settings names at the time, the CLI for its `--instance`.
 */
export function instanceCatalogs(
  options: InstanceCatalogsOptions = {},
): (instance: string) => AppCatalog {
  const { cacheDir, exec, ...shared } = options;
  const made = new Map<string, AppCatalog>();
  return (instance) => {
    let catalog = made.get(instance);
    if (catalog === undefined) {
      catalog = new AppCatalog({
        ...shared,
        instance,
        exec:
          exec !== undefined
            ? () => exec(instance)
            : async () => {
                const { dataRoot, runtimeRoot, owner } = shared;
                const ref = { dataRoot, runtimeRoot, owner, instance };
                return lxcGuestExecutor(await findRunningGuest(ref));
              },
        ...(cacheDir !== undefined ? { cacheDir: cacheDir(instance) } : {}),
      });
      made.set(instance, catalog);
    }
    return catalog;
  };
}
