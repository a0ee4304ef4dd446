/**
 * Desktop entries for Android apps (freedesktop Desktop Entry Specification 1.5):
 * `$XDG_DATA_HOME/applications/droidway.<pkg>.desktop`, launching through the running app
 * (`droidway --launch <pkg>`), named by the APK's labels, grouped with the app's windows by
 * `StartupWMClass=droidway.<pkg>` (the bridge's app_id). Labels come from an untrusted APK, so
 * every value is escaped per the spec, and package names are checked against Android's grammar
 * before they reach a file name, a key or an Exec line.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isPackageName } from '../android/pm-output.js';
import { packageRoot } from '../package-root.js';
import { cleanLabel, displayLabel } from './app-label.js';
import { AppsError } from './apps-errors.js';

/** The XDG base folders the entries and icons go under. */
export interface XdgDirs {
  /** `$XDG_DATA_HOME` (default `~/.local/share`). */
  dataHome: string;
  /** `$XDG_CONFIG_HOME` (default `~/.config`). */
  configHome: string;
}

/** The XDG base folders of `env` (relative values are ignored, as the spec says). */
export function xdgDirs(env: Readonly<Record<string, string | undefined>> = process.env): XdgDirs {
  const home = env.HOME !== undefined && path.isAbsolute(env.HOME) ? env.HOME : os.homedir();
  const pick = (value: string | undefined, fallback: string): string =>
    value !== undefined && path.isAbsolute(value) ? value : path.join(home, fallback);
  return {
    dataHome: pick(env.XDG_DATA_HOME, '.local/share'),
    configHome: pick(env.XDG_CONFIG_HOME, '.config'),
  };
}

/** Most localized names written per entry. */
const MAX_LOCALES = 200;

/**
 * Throws `PACKAGE_NAME_INVALID` unless `pkg` is an Android package name (which also makes it
 * safe in a file name, a desktop-file ID and an unquoted Exec argument).
 */
export function checkPackageName(pkg: unknown): asserts pkg is string {
  if (typeof pkg !== 'string' || !isPackageName(pkg))
    throw new AppsError(
      'PACKAGE_NAME_INVALID',
      `${JSON.stringify(String(pkg).slice(0, 80))} is not an Android package name`,
    );
}

/**
 * Escapes a `string`/`localestring` value: `\\`, `\n`, `\t`, `\r`, and `\s` for a leading space
 * (which a reader would otherwise trim).
 */
export function escapeValue(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(/\r/g, '\\r');
  return escaped.startsWith(' ') ? `\\s${escaped.slice(1)}` : escaped;
}

// The spec's reserved characters of an Exec argument: such an argument must be quoted.
const EXEC_RESERVED = /[ \t\n"'\\><~|&;$*?#()`]/;

/**
 * One Exec argument: quoted when it holds a reserved character (inside the quotes `"`, `` ` ``,
 * `$` and `\` get a backslash), `%` doubled so it is not a field code. The result still needs
 * `escapeValue` as a whole line.
 */
export function quoteExecArg(arg: string): string {
  if (arg === '' || /[\0\n\r]/.test(arg))
    throw new AppsError('DESKTOP_ENTRY_FAILED', `unusable Exec argument ${JSON.stringify(arg)}`);
  const percent = arg.replace(/%/g, '%%');
  if (!EXEC_RESERVED.test(percent)) return percent;
  return `"${percent.replace(/(["`$\\])/g, '\\$1')}"`;
}

/** The Exec value for `argv` (program first), with optional field codes appended unquoted. */
export function execLine(argv: readonly string[], fieldCodes: readonly string[] = []): string {
  return escapeValue([...argv.map(quoteExecArg), ...fieldCodes].join(' '));
}

/**
 * The desktop-entry locale (`lang_COUNTRY@MODIFIER`) of an Android resource locale: `fr` → `fr`,
 * `zh-rTW` / `zh-TW` → `zh_TW`, `b+sr+Latn` → `sr@latin`, `b+es+419` → `es`. Null for
 * anything else (the label is then left out rather than written under a key readers misparse).
 */
export function desktopLocale(androidLocale: string): string | null {
  let m = /^([a-z]{2,3})(?:[-_]r?([A-Z]{2}))?$/.exec(androidLocale);
  if (m !== null) return m[2] === undefined ? m[1]! : `${m[1]}_${m[2]}`;
  m = /^b\+([a-z]{2,3})((?:\+[A-Za-z0-9]{2,8}){0,3})$/.exec(androidLocale);
  if (m === null) return null;
  let region = '';
  let script = '';
  for (const sub of m[2]!.split('+').slice(1)) {
    if (/^[A-Z]{2}$/.test(sub)) region = `_${sub}`;
    else if (/^[A-Z][a-z]{3}$/.test(sub))
      script = `@${sub === 'Latn' ? 'latin' : sub.toLowerCase()}`;
  }
  return `${m[1]}${region}${script}`;
}

/** How the app itself is started from a desktop entry: argv before `--launch <pkg>`. */
export interface LauncherOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** The running executable (Electron's, or node's for the CLI); default `process.execPath`. */
  execPath?: string;
  /** Whether this runs as a packaged Electron app (`app.isPackaged`). */
  packaged?: boolean;
  /** The CLI's entry script, for a dev checkout; default `electron/cli/droidway.js` of it. */
  cliScript?: string;
  /** Where a deb installs the command; default `/usr/bin/droidway`. */
  systemCommand?: string;
}

/**
 * The argv prefix that starts Droidway from the desktop: the AppImage itself when `$APPIMAGE` is
 * set (the mounted path changes each run), the packaged executable, `/usr/bin/droidway` when a
 * deb installed it, else this checkout's CLI run by this node.
 */
export function resolveLauncherCommand(options: LauncherOptions = {}): string[] {
  const env = options.env ?? process.env;
  const appImage = env.APPIMAGE;
  if (appImage !== undefined && path.isAbsolute(appImage)) return [appImage];
  const execPath = options.execPath ?? process.execPath;
  if (options.packaged === true) return [execPath];
  const system = options.systemCommand ?? '/usr/bin/droidway';
  if (existsSync(system)) return [system];
  // The bin shim is in the source tree, whether this module runs from there, compiled
  // (out/electron/core/apps) or bundled (out/cli): found from the package root.
  const root = packageRoot();
  const cli =
    options.cliScript ??
    (root !== null
      ? path.join(root, 'electron', 'cli', 'droidway.js')
      : path.resolve(new URL('../../cli/droidway.js', import.meta.url).pathname));
  return [execPath, cli];
}

/** What an app's desktop entry says. */
export interface AppEntryInput {
  packageName: string;
  /** Labels by Android locale ('' = default). */
  labels: Readonly<Record<string, string>>;
  /** `resolveLauncherCommand()`'s result. */
  launcher: readonly string[];
  /** Whether an icon `droidway.<pkg>` was installed (otherwise the generic Android icon). */
  hasIcon: boolean;
  /** The instance the app is installed in; its launches go there (`--instance`). */
  instance?: string;
}

/** `--instance NAME` for a named instance other than `default` (checked by its grammar). */
function instanceArgs(instance: string | undefined): string[] {
  if (instance === undefined || instance === 'default') return [];
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(instance))
    throw new AppsError(
      'DESKTOP_ENTRY_FAILED',
      `unusable instance name ${JSON.stringify(instance)}`,
    );
  return ['--instance', instance];
}

/** The desktop-file ID (and icon name, and app_id) of a package's entry, without `.desktop`. */
export function appEntryId(pkg: string): string {
  checkPackageName(pkg);
  return `droidway.${pkg}`;
}

/** The entry's file name. */
export function appEntryFileName(pkg: string): string {
  return `${appEntryId(pkg)}.desktop`;
}

/**
 * The text of `input`'s desktop entry. The default `Name` is the app's label by the one rule
 * (`displayLabel`); each label with a mappable locale adds `Name[locale]`.
 */
export function appEntryText(input: AppEntryInput): string {
  const pkg = input.packageName;
  const id = appEntryId(pkg);
  const labels = Object.entries(input.labels)
    .map(([locale, text]) => [locale, cleanLabel(String(text))] as const)
    .filter(([, text]) => text !== '');
  const name = displayLabel(input.labels, pkg);
  const localized = new Map<string, string>();
  for (const [locale, text] of labels) {
    const key = locale === '' ? null : desktopLocale(locale);
    if (key !== null && !localized.has(key) && localized.size < MAX_LOCALES)
      localized.set(key, text);
  }
  const lines = [
    '[Desktop Entry]',
    'Type=Application',
    `Name=${escapeValue(name)}`,
    ...[...localized]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `Name[${k}]=${escapeValue(v)}`),
    'Comment=Android app in Droidway',
    `Icon=${input.hasIcon ? id : 'droidway'}`,
    `Exec=${execLine([...input.launcher, '--launch', pkg, ...instanceArgs(input.instance)])}`,
    'Terminal=false',
    `StartupWMClass=${id}`,
    'Categories=Utility;X-Droidway;',
    'Actions=settings;',
    `X-Droidway-Package=${pkg}`,
    '',
    '[Desktop Action settings]',
    'Name=Android app settings',
    `Exec=${execLine([...input.launcher, '--launch-settings', pkg, ...instanceArgs(input.instance)])}`,
    '',
  ];
  return lines.join('\n');
}

/** Writes `data` to `file` through a temporary file in the same folder and a rename. */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  try {
    await fs.writeFile(tmp, data, { mode, flag: 'wx' });
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** The folder of desktop entries under `dirs`. */
export function applicationsDir(dirs: XdgDirs): string {
  return path.join(dirs.dataHome, 'applications');
}

/** Writes (or replaces) `input`'s desktop entry; resolves with its path. */
export async function writeAppEntry(dirs: XdgDirs, input: AppEntryInput): Promise<string> {
  const file = path.join(applicationsDir(dirs), appEntryFileName(input.packageName));
  await writeFileAtomic(file, appEntryText(input));
  return file;
}

/** Removes a package's desktop entry; resolves with whether there was one. */
export async function removeAppEntry(dirs: XdgDirs, pkg: string): Promise<boolean> {
  const file = path.join(applicationsDir(dirs), appEntryFileName(pkg));
  const existed = existsSync(file);
  await fs.rm(file, { force: true });
  return existed;
}

/** The packages that have a Droidway desktop entry under `dirs`. */
export async function listAppEntries(dirs: XdgDirs): Promise<string[]> {
  const names = await fs.readdir(applicationsDir(dirs)).catch(() => [] as string[]);
  return names
    .map((n) => /^droidway\.(.+)\.desktop$/.exec(n)?.[1])
    .filter((p): p is string => p !== undefined && isPackageName(p))
    .sort();
}

/** Runs a tool by argv; resolves with whether it ran and succeeded (absence is not an error). */
export type ToolRunner = (argv: readonly string[]) => Promise<boolean>;

/** The default `ToolRunner`: `execFile`, no shell, 30 s limit, output dropped. */
export const runTool: ToolRunner = (argv) =>
  new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 30_000 }, (error) => resolve(error === null));
  });

/**
 * Refreshes the desktop's caches after entries or icons changed: `update-desktop-database` on
 * the applications folder, `gtk-update-icon-cache` on the user's hicolor tree and
 * `update-mime-database` on the MIME folder when asked. Missing tools are skipped.
 */
export async function refreshDesktopCaches(
  dirs: XdgDirs,
  options: { mime?: boolean; run?: ToolRunner } = {},
): Promise<void> {
  const run = options.run ?? runTool;
  await run(['update-desktop-database', '-q', applicationsDir(dirs)]);
  const hicolor = path.join(dirs.dataHome, 'icons', 'hicolor');
  if (existsSync(hicolor)) await run(['gtk-update-icon-cache', '-q', '-f', '-t', hicolor]);
  if (options.mime === true) await run(['update-mime-database', path.join(dirs.dataHome, 'mime')]);
}

/** The MIME type of an APK. */
export const APK_MIME_TYPE = 'application/vnd.android.package-archive';

/**
 * The app's own desktop entry: file managers offer it for `.apk` files, which it installs.
 */
export function droidwayEntryText(launcher: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Droidway',
    'GenericName=Android apps',
    'Comment=Run Android apps in an isolated container as Wayland windows',
    'Icon=droidway',
    // Started from the menu there are no files, and `--install` alone just shows the window.
    `Exec=${execLine([...launcher, '--install'], ['%F'])}`,
    'Terminal=false',
    'StartupWMClass=droidway',
    'Categories=System;Emulator;',
    `MimeType=${APK_MIME_TYPE};`,
    '',
  ].join('\n');
}

/** shared-mime-info source teaching the desktop what an `.apk` is. */
export const APK_MIME_XML = `<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="${APK_MIME_TYPE}">
    <comment>Android package</comment>
    <sub-class-of type="application/zip"/>
    <glob pattern="*.apk"/>
    <generic-icon name="package-x-generic"/>
  </mime-type>
</mime-info>
`;

/**
 * Installs the app's own desktop entry (`droidway.desktop`, which handles `.apk` files) and the
 * APK MIME type for this user, and refreshes the caches. The app calls it at every start: files
 * that already hold the right text are left alone, and the caches are refreshed only when one
 * changed. Resolves with the files written (none when all were current).
 */
export async function installDroidwayIntegration(
  dirs: XdgDirs,
  options: { launcher?: readonly string[]; run?: ToolRunner } = {},
): Promise<string[]> {
  const launcher = options.launcher ?? resolveLauncherCommand();
  const wanted: [string, string][] = [
    [path.join(applicationsDir(dirs), 'droidway.desktop'), droidwayEntryText(launcher)],
    [path.join(dirs.dataHome, 'mime', 'packages', 'droidway.xml'), APK_MIME_XML],
  ];
  const written: string[] = [];
  for (const [file, text] of wanted) {
    const current = await fs.readFile(file, 'utf8').catch(() => null);
    if (current === text) continue;
    await writeFileAtomic(file, text);
    written.push(file);
  }
  if (written.length > 0)
    await refreshDesktopCaches(dirs, { mime: true, ...(options.run ? { run: options.run } : {}) });
  return written;
}
