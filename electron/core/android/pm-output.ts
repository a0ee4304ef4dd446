/**
 * Parsers of what Android's `pm` / `cmd package` and `am` print. The guest is untrusted: every
 * parser takes only lines of the documented shape, checks package names and paths, caps what it
 * keeps, and ignores the rest rather than guessing.
 */

/** Android's package name rule (two or more segments of `[A-Za-z][A-Za-z0-9_]*`), capped. */
export const PACKAGE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/;
const MAX_PACKAGE_NAME = 255;

/** Most lines a list parser looks at. */
export const MAX_LIST_LINES = 100_000;

/** Most characters of guest output carried verbatim into a message. */
export const MAX_VERBATIM_CHARS = 500;

/** Whether `name` is a valid Android package name. */
export function isPackageName(name: string): boolean {
  return name.length <= MAX_PACKAGE_NAME && PACKAGE_NAME_PATTERN.test(name);
}

/** A guest path worth keeping: absolute, no control characters, no `..`, bounded. */
function isGuestPath(p: string): boolean {
  return (
    p.startsWith('/') &&
    p.length <= 4096 &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(p) &&
    !p.split('/').includes('..')
  );
}

/** Output shortened for a message: control characters shown as `?`, capped. */
export function verbatim(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.trim().replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
  return clean.length > MAX_VERBATIM_CHARS ? `${clean.slice(0, MAX_VERBATIM_CHARS)}…` : clean;
}

function lines(text: string): string[] {
  return text.split(/\r?\n/, MAX_LIST_LINES).map((l) => l.trimEnd());
}

/** What an install command (`install`, `install-commit`) answered. */
export type InstallVerdict =
  | { ok: true }
  | {
      ok: false;
      /**
       * Android's code (`INSTALL_FAILED_OLDER_SDK` …), `ERROR` for an `Error:` line, `UNKNOWN`
       * otherwise.
       */
      code: string;
      /** The text after the code (`Requires newer sdk version #35 …`), or the whole output. */
      detail: string;
    };

const FAILURE_LINE = /^Failure \[([A-Z][A-Z0-9_]{0,79})(?:: (.*))?\]$/;

/**
 * Reads the verdict of `pm install` / `install-commit` from its output: a `Success` line (and
 * exit 0, when the exit status is known) is success; the last `Failure [CODE: detail]` line
 * gives the code; an `Error: …` line (what `pm` prints for bad arguments or a broken stream)
 * gives `ERROR`; anything else, including an empty answer or a `Success` with a failing exit,
 * is `UNKNOWN` with the output verbatim.
 */
export function parseInstallVerdict(
  stdout: string,
  stderr = '',
  exitCode: number | null = 0,
): InstallVerdict {
  const all = [...lines(stdout), ...lines(stderr)].map((l) => l.trim()).filter((l) => l !== '');
  let failure: { code: string; detail: string } | null = null;
  let error: string | null = null;
  let success = false;
  for (const l of all) {
    const m = FAILURE_LINE.exec(l);
    if (m !== null) failure = { code: m[1]!, detail: verbatim(m[2] ?? '') };
    else if (l === 'Success') success = true;
    else if (l.startsWith('Error: ') && error === null) error = verbatim(l.slice(7));
  }
  if (failure !== null) return { ok: false, ...failure };
  if (error !== null) return { ok: false, code: 'ERROR', detail: error };
  if (success && exitCode === 0) return { ok: true };
  return {
    ok: false,
    code: 'UNKNOWN',
    detail:
      verbatim([stdout, stderr].filter((s) => s.trim() !== '').join('\n')) ||
      `no answer (exit ${exitCode ?? 'by signal'})`,
  };
}

/** The session id of `pm install-create`'s `Success: created install session [ID]`, or null. */
export function parseCreatedSession(stdout: string): number | null {
  for (const l of lines(stdout)) {
    const m = /^Success: created install session \[(\d{1,10})\]$/.exec(l.trim());
    if (m !== null) {
      const id = Number(m[1]);
      if (Number.isSafeInteger(id) && id > 0 && id <= 0x7fffffff) return id;
    }
  }
  return null;
}

/** One line of `pm list packages`. */
export interface ListedPackage {
  packageName: string;
  /** With `--show-versioncode`. */
  versionCode?: number;
  /** With `-f`: the base APK's path in the guest. */
  apkPath?: string;
}

/**
 * Parses `pm list packages [-f] [--show-versioncode]`: lines `package:[PATH=]NAME[ versionCode:N]`.
 * Lines of another shape, invalid names or paths, and duplicates are skipped.
 */
export function parsePackageList(stdout: string): ListedPackage[] {
  const seen = new Set<string>();
  const result: ListedPackage[] = [];
  for (const l of lines(stdout)) {
    if (!l.startsWith('package:')) continue;
    let rest = l.slice(8);
    let versionCode: number | undefined;
    const vc = / versionCode:(\d{1,19})$/.exec(rest);
    if (vc !== null) {
      const n = Number(vc[1]);
      if (!Number.isSafeInteger(n)) continue;
      versionCode = n;
      rest = rest.slice(0, vc.index);
    }
    let apkPath: string | undefined;
    // The path may itself hold `=`; the package name never does, so split at the last one.
    const eq = rest.lastIndexOf('=');
    if (eq >= 0) {
      apkPath = rest.slice(0, eq);
      rest = rest.slice(eq + 1);
      if (!isGuestPath(apkPath)) continue;
    }
    if (!isPackageName(rest) || seen.has(rest)) continue;
    seen.add(rest);
    result.push({
      packageName: rest,
      ...(versionCode !== undefined ? { versionCode } : {}),
      ...(apkPath !== undefined ? { apkPath } : {}),
    });
  }
  return result;
}

/** Parses `pm path PKG`: each `package:/path.apk` line (base first, then splits); others skipped. */
export function parsePackagePaths(stdout: string): string[] {
  const result: string[] = [];
  for (const l of lines(stdout)) {
    if (!l.startsWith('package:')) continue;
    const p = l.slice(8);
    if (isGuestPath(p) && p.endsWith('.apk') && !result.includes(p)) result.push(p);
  }
  return result;
}

/** What `am start` answered. */
export type AmStartResult = { ok: true; component: string } | { ok: false; message: string };

/**
 * Parses `am start -n …`: `Starting: Intent { cmp=PKG/CLS }` without a following `Error…` line
 * is success; any `Error: …` line (e.g. `Activity class {…} does not exist.`) is the refusal.
 */
export function parseAmStart(
  stdout: string,
  stderr = '',
  exitCode: number | null = 0,
): AmStartResult {
  const all = [...lines(stdout), ...lines(stderr)].map((l) => l.trim());
  const error = all.find((l) => l.startsWith('Error: '));
  if (error !== undefined) return { ok: false, message: verbatim(error.slice(7)) };
  for (const l of all) {
    const m =
      /^Starting: Intent \{.*\bcmp=([A-Za-z0-9_.]{1,255}\/[A-Za-z0-9_.$]{1,255})\b.*\}$/.exec(l);
    if (m !== null && exitCode === 0) return { ok: true, component: m[1]! };
  }
  return {
    ok: false,
    message: verbatim([stdout, stderr].join('\n')) || `no answer (exit ${exitCode ?? 'by signal'})`,
  };
}
