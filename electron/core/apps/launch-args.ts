/**
 * What a start of Droidway asks for on its command line: `--launch PKG`, `--launch-settings
 * PKG`, `--install FILE…`. Parsed here, without Electron, for both the first instance and the
 * argv a second instance hands over (which carries Chromium's own switches and the executable,
 * and whose relative paths mean the second instance's working folder).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPackageName } from '../android/pm-output.js';

/** Most files one start may hand over. */
export const MAX_INSTALL_FILES = 100;

/** The requests found in an argv. */
export interface LaunchRequests {
  /** Packages to launch, in order. */
  launch: string[];
  /** Packages whose Android settings page to open. */
  settings: string[];
  /** Absolute paths of files to install. */
  install: string[];
  /** The instance they are for (`--instance NAME`), or null for the current one. */
  instance: string | null;
  /** `--hidden`: start to the tray without a window (the autostart entry's start). */
  hidden: boolean;
  /** Arguments refused and why, for a person. */
  problems: string[];
}

function toPath(arg: string, cwd: string): string | null {
  if (arg.includes('\0') || arg.length > 4096) return null;
  if (arg.startsWith('file://')) {
    try {
      return fileURLToPath(arg);
    } catch {
      return null;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return null;
  return path.resolve(cwd, arg);
}

/**
 * The requests of `args` (the arguments after the program and script; any leading ones that are
 * not options are ignored, as are options this parser does not know). `--launch` and
 * `--launch-settings` take one package (`--launch PKG` or `--launch=PKG`), checked against
 * Android's grammar; `--install` takes the files up to the next option (`file://` URIs
 * accepted, other URIs refused), resolved against `cwd`.
 */
export function parseLaunchArgs(args: readonly string[], cwd: string): LaunchRequests {
  const out: LaunchRequests = {
    launch: [],
    settings: [],
    install: [],
    instance: null,
    hidden: false,
    problems: [],
  };
  const takePackage = (option: string, value: string | undefined, into: string[]): void => {
    if (value === undefined || value.startsWith('-'))
      out.problems.push(`${option} needs a package name`);
    else if (!isPackageName(value))
      out.problems.push(
        `${option}: ${JSON.stringify(value.slice(0, 80))} is not an Android package name`,
      );
    else if (!into.includes(value)) into.push(value);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const option = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    if (option === '--launch' || option === '--launch-settings') {
      const into = option === '--launch' ? out.launch : out.settings;
      if (inline !== undefined) takePackage(option, inline, into);
      else {
        const next = args[i + 1];
        if (next !== undefined && !next.startsWith('-')) i++;
        takePackage(option, next, into);
      }
    } else if (option === '--hidden') {
      out.hidden = true;
    } else if (option === '--instance') {
      const value = inline ?? args[++i];
      if (value === undefined || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(value))
        out.problems.push(`--instance needs an instance name`);
      else out.instance = value;
    } else if (option === '--install') {
      const files = inline !== undefined ? [inline] : [];
      while (inline === undefined && i + 1 < args.length && !args[i + 1]!.startsWith('-'))
        files.push(args[++i]!);
      for (const f of files) {
        const p = toPath(f, cwd);
        if (p === null)
          out.problems.push(`--install: ${JSON.stringify(f.slice(0, 80))} is not a local file`);
        else if (out.install.length >= MAX_INSTALL_FILES)
          out.problems.push(
            `--install: more than ${MAX_INSTALL_FILES} files; the rest are ignored`,
          );
        else if (!out.install.includes(p)) out.install.push(p);
      }
    }
  }
  out.problems = [...new Set(out.problems)];
  return out;
}

/** Whether `requests` asks for anything. */
export function hasRequests(requests: LaunchRequests): boolean {
  return requests.launch.length + requests.settings.length + requests.install.length > 0;
}

/** What the app does with the requests of a start. */
export interface LaunchRequestHandlers {
  /** Brings the window up (a start without requests, or one with `--install`). */
  showWindow: () => void;
  /** `instance` is the one the start named (`--instance`), null for the current one. */
  launch: (packageName: string, instance: string | null) => void;
  openSettings: (packageName: string, instance: string | null) => void;
  install: (files: string[], instance: string | null) => void;
  /** Arguments that were refused, for a notice or the log. */
  problems?: (problems: string[]) => void;
}

/** Hands `requests` to `handlers`; a start asking for nothing shows the window. */
export function dispatchLaunchRequests(
  requests: LaunchRequests,
  handlers: LaunchRequestHandlers,
): void {
  if (requests.problems.length > 0) handlers.problems?.(requests.problems);
  if ((!hasRequests(requests) && !requests.hidden) || requests.install.length > 0)
    handlers.showWindow();
  for (const pkg of requests.launch) handlers.launch(pkg, requests.instance);
  for (const pkg of requests.settings) handlers.openSettings(pkg, requests.instance);
  if (requests.install.length > 0) handlers.install(requests.install, requests.instance);
}
