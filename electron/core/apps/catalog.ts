/**
 * The catalog of installed apps: what the guest's package manager lists (third-party apps, and
 * system apps that have a launcher activity), each described by the ApkReader from its installed
 * APK (reached through the instance's `/data` mapping). Descriptions are cached by package,
 * versionCode and the APK file's identity (dev, inode, size, mtime), in memory and on disk, so a
 * refresh reads only what changed. A refresh fires `changed` with what was added, updated and
 * removed, and can keep the desktop entries and hicolor icons in step.
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
import { installAppIcons, removeAppIcons } from './hicolor-icons.js';

/** One installed app. */
export interface CatalogApp {
  packageName: string;
  versionCode: number;
  versionName: string | null;
  /** Label by Android locale ('' = default); empty when the APK has none. */
  labels: Record<string, string>;
  /** The label to show (default label, else the first, else the package name). */
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

/** Most packages taken from the guest's list (by the catalog and the apps grid alike). */
export const MAX_CATALOG_APPS = 2000;
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
  /** Reads an installed APK; default the ApkReader in its worker. */
  readApk?: (file: string) => Promise<ApkInfo>;
  /** Reads an APK's icon at every density; default `readApkIconsInWorker`. */
  readIcons?: (file: string) => Promise<{ png: Buffer }[]>;
  /** Keeps desktop entries and icons in step with the catalog. */
  desktop?: { dirs: XdgDirs; launcher: readonly string[]; run?: ToolRunner };
}

/**
 * The label to show for an app, the one rule of the grid, the tray and the desktop entries: the
 * label of `locale` when given and present, else the default label, else the first, else the
 * package name (also for a blank label).
 */
export function displayLabel(
  labels: Readonly<Record<string, string>>,
  pkg: string,
  locale?: string,
): string {
  const label =
    (locale !== undefined ? labels[locale] : undefined) ??
    labels[''] ??
    Object.values(labels)[0] ??
    '';
  return label.trim() === '' ? pkg : label.trim();
}

/** See the module doc. */
export class AppCatalog extends EventEmitter<{ changed: [CatalogChange] }> {
  private cache = new Map<string, CacheEntry>();
  private current = new Map<string, CatalogApp>();
  private loaded = false;
  private running: Promise<CatalogApp[]> | null = null;
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

  /** Refreshes from the guest (one refresh at a time: a call during one shares it). */
  refresh(): Promise<CatalogApp[]> {
    this.running ??= this.doRefresh().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async doRefresh(): Promise<CatalogApp[]> {
    await this.loadCache();
    const instance = this.options.instance ?? 'default';
    const exec = await this.options.exec();
    const all = (await listPackages(exec)).slice(0, MAX_CATALOG_APPS);
    const third = new Set(
      (await listPackages(exec, { thirdPartyOnly: true })).map((p) => p.packageName),
    );
    const readApk =
      this.options.readApk ??
      ((file: string) =>
        readApkInfoInWorker(file, { workerUrl: defaultApkWorkerUrl(), timeoutMs: 30_000 }));
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
      if (entry === undefined || entry.key !== key) {
        let info: ApkInfo | null = null;
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
        const labels = { ...(info?.labels ?? {}) };
        entry = {
          key: host !== null && info !== null ? key : `unread|${key}`,
          app: {
            packageName: pkg.packageName,
            versionCode: info?.versionCode ?? pkg.versionCode ?? 0,
            versionName: info?.versionName ?? null,
            labels,
            label: displayLabel(labels, pkg.packageName),
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
      next.set(pkg.packageName, { ...entry.app, system });
    }
    for (const pkg of this.cache.keys()) if (!next.has(pkg)) this.cache.delete(pkg);
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
