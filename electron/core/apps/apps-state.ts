/**
 * Pinned and recently launched apps, kept in `$XDG_CONFIG_HOME/droidway/apps-state.json`.
 * Written atomically; checked on read; a file that is not valid JSON of the right shape is moved
 * aside (`apps-state.json.corrupt-<time>`) and the defaults are used, so a broken file never
 * stops the tray or a launch.
 */
import { mkdirSync, watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isPackageName } from '../android/pm-output.js';
import { checkPackageName, writeFileAtomic } from './desktop-entry.js';

/** The store's file name. */
export const APPS_STATE_FILE = 'apps-state.json';
/** Most recent apps remembered. */
export const MAX_RECENTS = 10;
/** Most pinned apps. */
export const MAX_PINS = 50;
/** Largest state file read. */
const MAX_STATE_BYTES = 256 * 1024;

/** One recent launch. */
export interface RecentApp {
  packageName: string;
  /** When it was launched, ms since the epoch. */
  at: number;
}

/** What the store holds. */
export interface AppsState {
  version: 1;
  pinned: string[];
  /** Newest first, one entry per package. */
  recents: RecentApp[];
}

/** The state of a fresh install. */
export function defaultAppsState(): AppsState {
  return { version: 1, pinned: [], recents: [] };
}

/** The parsed state, or null when `value` is not one (unknown keys are ignored). */
export function parseAppsState(value: unknown): AppsState | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v.version !== 1 || !Array.isArray(v.pinned) || !Array.isArray(v.recents)) return null;
  if (v.pinned.length > MAX_PINS * 4 || v.recents.length > MAX_RECENTS * 4) return null;
  if (!v.pinned.every((p) => typeof p === 'string' && isPackageName(p))) return null;
  const recents: RecentApp[] = [];
  for (const r of v.recents) {
    if (typeof r !== 'object' || r === null) return null;
    const { packageName, at } = r as Record<string, unknown>;
    if (typeof packageName !== 'string' || !isPackageName(packageName)) return null;
    if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) return null;
    recents.push({ packageName, at });
  }
  return {
    version: 1,
    pinned: [...new Set(v.pinned as string[])].slice(0, MAX_PINS),
    recents: recents.slice(0, MAX_RECENTS),
  };
}

/** The pins and recents store in one folder (default `$XDG_CONFIG_HOME/droidway`). */
export class AppsStateStore {
  readonly file: string;
  // Writes are chained so two quick updates never interleave their read-modify-write.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string) {
    this.file = path.join(dir, APPS_STATE_FILE);
  }

  /** The stored state; defaults when there is none or it was corrupt (then moved aside). */
  async read(): Promise<AppsState> {
    let text: string;
    try {
      const st = await fs.stat(this.file);
      if (st.size > MAX_STATE_BYTES) {
        await this.moveAside();
        return defaultAppsState();
      }
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return defaultAppsState();
      throw e;
    }
    let parsed: AppsState | null = null;
    try {
      parsed = parseAppsState(JSON.parse(text));
    } catch {
      parsed = null;
    }
    if (parsed === null) {
      await this.moveAside();
      return defaultAppsState();
    }
    return parsed;
  }

  /**
   * Calls `onChange` after the file changed, whoever wrote it (the window's pins, the CLI's
   * `app pin`, a launch's recents), once per burst of writes within `settleMs`; returns the
   * function that stops watching. Watches the folder (made when missing), since every write
   * replaces the file.
   */
  watch(onChange: () => void, settleMs = 100): () => void {
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let timer: NodeJS.Timeout | null = null;
    const watcher = watch(dir, (_event, name) => {
      if (name !== APPS_STATE_FILE) return;
      timer ??= setTimeout(() => {
        timer = null;
        onChange();
      }, settleMs);
    });
    // A folder that goes away ends the watch; the store itself keeps working.
    watcher.on('error', () => watcher.close());
    return () => {
      if (timer !== null) clearTimeout(timer);
      watcher.close();
    };
  }

  private async moveAside(): Promise<void> {
    await fs.rename(this.file, `${this.file}.corrupt-${Date.now()}`).catch(() => undefined);
  }

  /** Applies `change` to the stored state and writes it; resolves with the new state. */
  update(change: (state: AppsState) => AppsState): Promise<AppsState> {
    const next = this.queue.then(async () => {
      const state = change(await this.read());
      await writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`, 0o600);
      return state;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Pins `pkg` (last in the list); a no-op when it is pinned already. */
  async pin(pkg: string): Promise<AppsState> {
    checkPackageName(pkg);
    return this.update((s) =>
      s.pinned.includes(pkg) ? s : { ...s, pinned: [...s.pinned, pkg].slice(-MAX_PINS) },
    );
  }

  /** Unpins `pkg`. */
  async unpin(pkg: string): Promise<AppsState> {
    checkPackageName(pkg);
    return this.update((s) => ({ ...s, pinned: s.pinned.filter((p) => p !== pkg) }));
  }

  /** Records a launch of `pkg` now (moved to the front of the recents). */
  async recordLaunch(pkg: string, at = Date.now()): Promise<AppsState> {
    checkPackageName(pkg);
    return this.update((s) => ({
      ...s,
      recents: [{ packageName: pkg, at }, ...s.recents.filter((r) => r.packageName !== pkg)].slice(
        0,
        MAX_RECENTS,
      ),
    }));
  }

  /** Forgets `pkg` (it was uninstalled): unpinned and out of the recents. */
  async forget(pkg: string): Promise<AppsState> {
    checkPackageName(pkg);
    return this.update((s) => ({
      ...s,
      pinned: s.pinned.filter((p) => p !== pkg),
      recents: s.recents.filter((r) => r.packageName !== pkg),
    }));
  }
}

/** The default store folder: `$XDG_CONFIG_HOME/droidway`. */
export function defaultAppsStateDir(configHome: string): string {
  return path.join(configHome, 'droidway');
}
