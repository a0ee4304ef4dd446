/**
 * The settings file (`settings.json`): read and written through `conf` in plain Node (CLI, tests,
 * the e2e host) or `electron-store` in the app — both take `SETTINGS_SCHEMA` and the same
 * options, so the file means the same to both.
 *
 * A file that is not JSON or breaks the schema is not fatal: it is moved aside as
 * `settings.json.corrupt-<timestamp>` (kept for the user), the defaults are loaded, and a notice
 * says what happened.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Conf from 'conf';
import type { Notice, SettingKey, Settings } from '../../shared/settings.js';
import { SETTING_KEYS } from '../../shared/settings.js';
import { checkSetting } from './settings-check.js';
import { DEFAULT_SETTINGS, SETTINGS_SCHEMA } from './settings-schema.js';

/** What both conf and electron-store offer that the settings need. */
export interface SettingsBackend {
  readonly path: string;
  readonly store: Record<string, unknown>;
  set(key: string, value: unknown): void;
}

/** The options conf and electron-store are built with (plus `cwd` when given). */
export interface BackendOptions {
  projectName: string;
  configName: string;
  cwd: string;
  schema: typeof SETTINGS_SCHEMA;
  defaults: Settings;
  clearInvalidConfig: false;
  accessPropertiesByDotNotation: false;
}

/** Builds a backend from the options; throws when the file is corrupt. */
export type BackendFactory = (options: BackendOptions) => SettingsBackend;

/** conf, for plain Node. */
export const confBackend: BackendFactory = (options) =>
  new Conf<Record<string, unknown>>(options as unknown as ConstructorParameters<typeof Conf>[0]);

/** Options of `openSettings`. */
export interface OpenSettingsOptions {
  /** Folder of `settings.json`; default `defaultSettingsDir()` (the app passes `userData`). */
  cwd?: string;
  /** Default `confBackend`; the app passes electron-store. */
  backend?: BackendFactory;
  /** Clock for the corrupt file's name; default `Date.now`. */
  now?: () => number;
}

/** The open settings. */
export interface SettingsStore {
  /** Path of `settings.json`. */
  readonly path: string;
  /** Every setting. */
  get(): Settings;
  /** Checks and stores one setting; throws `SettingsError` for a value the schema refuses. */
  set<K extends SettingKey>(key: K, value: unknown): Settings;
  /** The notice of a file that was moved aside on open, or null. */
  readonly recovered: Notice | null;
}

/** `$XDG_CONFIG_HOME/droidway`, else `~/.config/droidway`: where Electron's `userData` is too. */
export function defaultSettingsDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.startsWith('/')
    ? env.XDG_CONFIG_HOME
    : join(homedir(), '.config');
  return join(base, 'droidway');
}

/**
 * The settings as saved in `dir`'s `settings.json`, read without creating or repairing
 * anything (the CLI reads what the app saved): the defaults for a missing file, and for each
 * value that is absent or fails its check.
 */
export function readSettingsFile(dir: string = defaultSettingsDir()): Settings {
  let saved: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      saved = parsed as Record<string, unknown>;
  } catch {
    // Missing or unreadable: the defaults.
  }
  const settings: Settings = { ...DEFAULT_SETTINGS };
  for (const key of SETTING_KEYS) {
    if (!(key in saved)) continue;
    try {
      (settings as unknown as Record<string, unknown>)[key] = checkSetting(key, saved[key]);
    } catch {
      // A value the app would refuse is not used.
    }
  }
  return settings;
}

/** Opens (or creates) the settings file, recovering from a corrupt one. */
export function openSettings(options: OpenSettingsOptions = {}): SettingsStore {
  const factory = options.backend ?? confBackend;
  const cwd = options.cwd ?? defaultSettingsDir();
  const backendOptions: BackendOptions = {
    projectName: 'droidway',
    configName: 'settings',
    cwd,
    schema: SETTINGS_SCHEMA,
    defaults: { ...DEFAULT_SETTINGS },
    clearInvalidConfig: false,
    accessPropertiesByDotNotation: false,
  };
  let backend: SettingsBackend;
  let recovered: Notice | null = null;
  try {
    backend = factory(backendOptions);
  } catch (error) {
    const file = join(cwd, 'settings.json');
    if (!existsSync(file)) throw error;
    const aside = `${file}.corrupt-${(options.now ?? Date.now)()}`;
    renameSync(file, aside);
    backend = factory(backendOptions);
    recovered = {
      id: `settings-recovered-${Date.now()}`,
      level: 'warning',
      title: 'Settings were reset',
      message: `The settings file could not be used (${messageOf(error)}). Defaults are loaded; the old file is kept as ${aside}.`,
    };
  }
  return {
    path: backend.path,
    recovered,
    get: () => readAll(backend),
    set(key, value) {
      backend.set(key, checkSetting(key, value));
      return readAll(backend);
    },
  };
}

function readAll(backend: SettingsBackend): Settings {
  const stored = backend.store;
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) out[key] = stored[key] ?? DEFAULT_SETTINGS[key];
  return out as unknown as Settings;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
