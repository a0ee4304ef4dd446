/**
 * Android's package and activity managers driven through a `GuestExecutor`: `cmd package …`
 * (the binder shell command `pm` wraps) and `am start`. Every argument is checked before it
 * reaches the guest; every answer goes through the parsers of `pm-output.ts`.
 */
import type { Readable } from 'node:stream';
import { AndroidError } from './android-errors.js';
import type { GuestExecutor } from './guest-exec.js';
import {
  isPackageName,
  parseAmStart,
  parseCreatedSession,
  parseInstallVerdict,
  parsePackageList,
  parsePackagePaths,
  verbatim,
  type InstallVerdict,
  type ListedPackage,
} from './pm-output.js';

/** Options shared by the streaming commands. */
export interface StreamOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

function checkPackage(pkg: string): void {
  if (!isPackageName(pkg))
    throw new AndroidError(
      'PACKAGE_NAME_INVALID',
      `${JSON.stringify(String(pkg).slice(0, 80))} is not a package name`,
    );
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new AndroidError('GUEST_EXEC_FAILED', `invalid size ${size}`);
}

/**
 * `cmd package install -S SIZE` with the APK streamed over stdin; resolves with the verdict.
 * Rejects only when the command could not run (`CANCELLED`, `GUEST_EXEC_TIMEOUT` …).
 */
export async function installStream(
  exec: GuestExecutor,
  size: number,
  apk: Readable,
  options: StreamOptions = {},
): Promise<InstallVerdict> {
  checkSize(size);
  const r = await exec(['cmd', 'package', 'install', '-S', String(size)], {
    stdin: apk,
    ...options,
  });
  return parseInstallVerdict(r.stdout, r.stderr, r.exitCode);
}

/** `cmd package install-create -S TOTAL`; resolves with the session id. */
export async function createInstallSession(
  exec: GuestExecutor,
  totalSize: number,
  options: StreamOptions = {},
): Promise<number> {
  checkSize(totalSize);
  const r = await exec(['cmd', 'package', 'install-create', '-S', String(totalSize)], options);
  const id = parseCreatedSession(r.stdout);
  if (id === null)
    throw new AndroidError(
      'GUEST_OUTPUT_INVALID',
      `install-create gave no session: ${verbatim(r.stdout + r.stderr) || `exit ${r.exitCode}`}`,
    );
  return id;
}

/**
 * `cmd package install-write -S SIZE SESSION NAME -` with the APK on stdin. Rejects with
 * `GUEST_OUTPUT_INVALID` carrying the guest's words when the write is refused.
 */
export async function writeInstallSession(
  exec: GuestExecutor,
  session: number,
  name: string,
  size: number,
  apk: Readable,
  options: StreamOptions = {},
): Promise<void> {
  checkSize(size);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/.test(name))
    throw new AndroidError('GUEST_EXEC_FAILED', `invalid split name ${JSON.stringify(name)}`);
  const r = await exec(
    ['cmd', 'package', 'install-write', '-S', String(size), String(session), name, '-'],
    { stdin: apk, ...options },
  );
  if (r.exitCode !== 0 || !/^Success: streamed \d+ bytes$/m.test(r.stdout))
    throw new AndroidError(
      'GUEST_OUTPUT_INVALID',
      `install-write of ${name} failed: ${verbatim(r.stdout + r.stderr) || `exit ${r.exitCode}`}`,
    );
}

/** `cmd package install-commit SESSION`; resolves with the verdict. */
export async function commitInstallSession(
  exec: GuestExecutor,
  session: number,
  options: StreamOptions = {},
): Promise<InstallVerdict> {
  const r = await exec(['cmd', 'package', 'install-commit', String(session)], options);
  return parseInstallVerdict(r.stdout, r.stderr, r.exitCode);
}

/** `cmd package install-abandon SESSION`; never rejects (used on the way out of a failure). */
export async function abandonInstallSession(exec: GuestExecutor, session: number): Promise<void> {
  await exec(['cmd', 'package', 'install-abandon', String(session)], { timeoutMs: 30_000 }).catch(
    () => undefined,
  );
}

/** `cmd package list packages -f --show-versioncode [-3]`. */
export async function listPackages(
  exec: GuestExecutor,
  options: { thirdPartyOnly?: boolean } = {},
): Promise<ListedPackage[]> {
  const r = await exec([
    'cmd',
    'package',
    'list',
    'packages',
    '-f',
    '--show-versioncode',
    ...(options.thirdPartyOnly ? ['-3'] : []),
  ]);
  if (r.exitCode !== 0)
    throw new AndroidError(
      'GUEST_OUTPUT_INVALID',
      `list packages failed: ${verbatim(r.stdout + r.stderr) || `exit ${r.exitCode}`}`,
    );
  return parsePackageList(r.stdout);
}

/**
 * Resolves when the guest answers as Android's package manager does (`cmd package list
 * packages android` lists the `android` system package); rejects with `GUEST_NOT_ANDROID`, in
 * plain words, when it does not: a demo guest has no `cmd`, so nothing can be installed there.
 * Rejects with the executor's own errors when the command could not be run at all.
 */
export async function requirePackageManager(
  exec: GuestExecutor,
  options: StreamOptions = {},
): Promise<void> {
  const r = await exec(['cmd', 'package', 'list', 'packages', 'android'], {
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  if (r.exitCode === 0 && /^package:android\s*$/m.test(r.stdout)) return;
  throw new AndroidError(
    'GUEST_NOT_ANDROID',
    'this guest has no Android package manager, so it cannot install apps; start a session with an Android image (droidway image list shows them)',
  );
}

/** `cmd package path PKG`: the APK paths (base first), empty when the package is not installed. */
export async function packagePaths(exec: GuestExecutor, pkg: string): Promise<string[]> {
  checkPackage(pkg);
  const r = await exec(['cmd', 'package', 'path', pkg]);
  return parsePackagePaths(r.stdout);
}

/** `cmd package uninstall PKG`; resolves with the verdict (`DELETE_FAILED_…` when not installed). */
export async function uninstallPackage(exec: GuestExecutor, pkg: string): Promise<InstallVerdict> {
  checkPackage(pkg);
  const r = await exec(['cmd', 'package', 'uninstall', pkg]);
  return parseInstallVerdict(r.stdout, r.stderr, r.exitCode);
}

/**
 * `am start -n PKG/ACTIVITY`; resolves with the component started. Rejects with
 * `ACTIVITY_NOT_FOUND` carrying Android's words when it refuses.
 */
export async function startActivity(
  exec: GuestExecutor,
  pkg: string,
  activity: string,
): Promise<string> {
  checkPackage(pkg);
  if (!/^\.?[A-Za-z][A-Za-z0-9_$]*(\.[A-Za-z][A-Za-z0-9_$]*)*$/.test(activity))
    throw new AndroidError('ACTIVITY_NOT_FOUND', `${JSON.stringify(activity)} is not a class name`);
  const r = await exec(['am', 'start', '-n', `${pkg}/${activity}`]);
  const result = parseAmStart(r.stdout, r.stderr, r.exitCode);
  if (!result.ok) throw new AndroidError('ACTIVITY_NOT_FOUND', result.message);
  return result.component;
}
