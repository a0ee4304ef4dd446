/**
 * Installs one APK or split bundle into the guest:
 *
 * 1. copying: open the file once (`openInput`), copy it into a fresh private staging folder
 *    while hashing (SHA-256);
 * 2. checking: for a bundle (`.apks`, `.xapk`), extract its APKs through the ApkReader's checked
 *    zip layer; parse every staged APK with the ApkReader in a worker (time and memory caps);
 * 3. installing: stream the staged APK into `cmd package install -S <size>` (a bundle goes
 *    through `install-create` / `install-write` / `install-commit`, abandoned on any failure);
 *    Android's verdict is the result, mapped to an `InstallError` when it refuses.
 *
 * The staging folder is removed on every way out (success, failure, cancel), so a retry starts
 * clean; aborting the signal stops the copy, the parse or the stream (the attach is killed).
 */
import { createReadStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline as streamPipeline, Transform, type Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readApkInfoInWorker } from '../apk/apk-worker-client.js';
import type { ApkInfo } from '../apk/apk-reader.js';
import { openApkZip } from '../apk/zip-reader.js';
import { AndroidError } from '../android/android-errors.js';
import type { GuestExecutor } from '../android/guest-exec.js';
import {
  abandonInstallSession,
  commitInstallSession,
  createInstallSession,
  installStream,
  requirePackageManager,
  writeInstallSession,
} from '../android/package-manager.js';
import type { InstallVerdict } from '../android/pm-output.js';
import type { InstancePaths } from '../runtime/instance-paths.js';
import { InstallError, verdictError } from './install-errors.js';
import { copyAndHash, DEFAULT_MAX_INPUT_BYTES, makeStagingDir, openInput } from './staging.js';
import { packageRoot } from '../package-root.js';

/** Stages an install goes through; the last one is `done`, `failed` or `cancelled`. */
export type InstallStage = 'copying' | 'checking' | 'installing' | 'done' | 'failed' | 'cancelled';

/** A progress event. `bytes`/`totalBytes` count the current stage's bytes (copy, stream). */
export interface InstallProgress {
  id: string;
  file: string;
  stage: InstallStage;
  bytes: number;
  totalBytes: number;
  /** With `failed` and `cancelled`. */
  error?: { code: string; message: string };
}

/** What a successful install gives. */
export interface InstallResult {
  id: string;
  file: string;
  packageName: string;
  versionCode: number;
  versionName?: string;
  /** SHA-256 of the file as given (the bundle, for a bundle). */
  sha256: string;
  /** Bytes of the file as given. */
  bytes: number;
  /** APKs installed (1, or base plus splits). */
  apkCount: number;
}

/** Fired after Android accepted an install (the queue's `installed` event). */
export interface InstalledEvent {
  pkg: string;
  versionCode: number;
}

/** Options of `installFile`. */
export interface InstallOptions {
  /** Runs commands in the guest (`lxcGuestExecutor(await findRunningGuest(…))`). */
  exec: GuestExecutor;
  /** Folder under which each install gets its private staging folder. */
  stagingRoot: string;
  /** Id carried by the progress events; default derived from the file name. */
  id?: string;
  signal?: AbortSignal;
  /** Size cap of the input file; default 4 GiB. */
  maxBytes?: number;
  /** Reads an APK's facts; default the ApkReader in a worker. */
  readApk?: (file: string) => Promise<ApkInfo>;
  onProgress?: (event: InstallProgress) => void;
  onInstalled?: (event: InstalledEvent) => void;
  /** Limit of each guest command; default 10 minutes (large APKs stream slowly). */
  guestTimeoutMs?: number;
}

/**
 * Folder holding the private staging folders of installs: the instance's data folder for root;
 * a desktop user cannot write there (root-owned), so its own cache,
 * `$XDG_CACHE_HOME/droidway/install-staging/NAME`.
 */
export function stagingRootFor(paths: Pick<InstancePaths, 'dataDir' | 'name'>): string {
  if (process.getuid?.() === 0) return path.join(paths.dataDir, 'install-staging');
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'droidway', 'install-staging', paths.name);
}

/** Most APKs taken from one bundle. */
export const MAX_BUNDLE_APKS = 64;
/** Largest APK extracted from a bundle (it is inflated in memory). */
export const MAX_BUNDLE_ENTRY_BYTES = 1024 * 1024 * 1024;

const BUNDLE_EXTENSIONS = ['.apks', '.xapk'];

/** Whether `file` is a split bundle by its name (`.apks`, `.xapk`). */
export function isBundleName(file: string): boolean {
  const lower = file.toLowerCase();
  return BUNDLE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/**
 * The ApkReader worker's compiled entry: beside the apk module when this runs compiled, else the
 * copy in `out/` of the checkout (under Vitest the sources run from TypeScript).
 */
export function defaultApkWorkerUrl(): URL {
  const beside = new URL('../apk/apk-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const root = packageRoot();
  const candidate =
    root === null ? null : path.join(root, 'out', 'electron', 'core', 'apk', 'apk-worker.js');
  return candidate !== null && existsSync(candidate) ? pathToFileURL(candidate) : beside;
}

function cancelledError(): InstallError {
  return new InstallError('CANCELLED', 'cancelled');
}

function asInstallError(e: unknown): InstallError {
  if (e instanceof InstallError) return e;
  if (e instanceof AndroidError && e.code === 'CANCELLED') return cancelledError();
  const code = (e as { code?: unknown } | null)?.code;
  return new InstallError(
    typeof code === 'string' ? code : 'INSTALL_FAILED_INTERNAL',
    e instanceof Error ? e.message : String(e),
    { cause: e },
  );
}

/** Rejects as soon as `signal` aborts, else settles like `promise`. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(cancelledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/** Extracts the APKs of a staged bundle next to it; resolves with their paths. */
async function extractBundle(bundle: string, dir: string): Promise<string[]> {
  const zip = await openApkZip(bundle);
  try {
    const names = [...zip.entries.keys()].filter((n) => n.toLowerCase().endsWith('.apk')).sort();
    if (names.length === 0)
      throw new InstallError('BUNDLE_INVALID', 'the bundle holds no APK files');
    if (names.length > MAX_BUNDLE_APKS)
      throw new InstallError(
        'BUNDLE_INVALID',
        `the bundle holds ${names.length} APKs, more than ${MAX_BUNDLE_APKS}`,
      );
    const out: string[] = [];
    for (const [i, name] of names.entries()) {
      const target = path.join(dir, `part-${String(i).padStart(2, '0')}.apk`);
      const bytes = await zip.readEntry(name, { maxBytes: MAX_BUNDLE_ENTRY_BYTES });
      await fs.writeFile(target, bytes, { flag: 'wx', mode: 0o600 });
      out.push(target);
    }
    return out;
  } finally {
    await zip.close();
  }
}

/**
 * Installs `file` (see the module doc). Resolves with what was installed; rejects with an
 * `InstallError` whose code is the pipeline's (`BUNDLE_INVALID`, `CANCELLED` …), the
 * ApkReader's (`APK_NOT_A_FILE`, `APK_TOO_LARGE`, `APK_ZIP_INVALID` …) or Android's
 * (`INSTALL_FAILED_*` …). Progress goes to `onProgress`, ending with `done`, `failed` or
 * `cancelled`.
 */
export async function installFile(file: string, options: InstallOptions): Promise<InstallResult> {
  const id = options.id ?? path.basename(file);
  const signal = options.signal;
  let total = 0;
  const report = (s: InstallStage, bytes: number, extra: Partial<InstallProgress> = {}): void => {
    options.onProgress?.({ id, file, stage: s, bytes, totalBytes: total, ...extra });
  };
  const readApk =
    options.readApk ??
    ((f: string) =>
      readApkInfoInWorker(f, { workerUrl: defaultApkWorkerUrl(), timeoutMs: 60_000 }));
  const timeoutMs = options.guestTimeoutMs ?? 600_000;
  let staging: string | null = null;
  try {
    if (signal?.aborted) throw cancelledError();
    const input = await openInput(file, options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES);
    let sha256: string;
    const bundle = isBundleName(file);
    let staged: string;
    try {
      // Nothing is staged or copied for a guest that could not install it anyway.
      await requirePackageManager(options.exec, signal !== undefined ? { signal } : {});
      total = input.size;
      report('copying', 0);
      staging = await makeStagingDir(options.stagingRoot);
      staged = path.join(staging, bundle ? 'bundle.zip' : 'base.apk');
      sha256 = await copyAndHash(input, staged, {
        ...(signal !== undefined ? { signal } : {}),
        onBytes: (n) => report('copying', n),
      });
    } finally {
      await input.close();
    }

    report('checking', 0);
    const infos: ApkInfo[] = [];
    let apks: string[];
    try {
      apks = bundle ? await abortable(extractBundle(staged, staging), signal) : [staged];
      for (const apk of apks) infos.push(await abortable(readApk(apk), signal));
    } catch (e) {
      throw namingTheUsersFile(e, staged, file);
    }
    const base = infos.find((i) => i.splitName === undefined) ?? infos[0]!;
    const sizes = await Promise.all(apks.map(async (a) => (await fs.stat(a)).size));
    total = sizes.reduce((a, b) => a + b, 0);

    report('installing', 0);
    if (signal?.aborted) throw cancelledError();
    let sent = 0;
    const counted = (apk: string): Readable =>
      createCountingStream(apk, (n) => {
        sent += n;
        report('installing', sent);
      });
    const guest = { ...(signal !== undefined ? { signal } : {}), timeoutMs };
    let verdict: InstallVerdict;
    if (apks.length === 1) {
      verdict = await installStream(options.exec, sizes[0]!, counted(apks[0]!), guest);
    } else {
      const session = await createInstallSession(options.exec, total, guest);
      let committed = false;
      try {
        for (const [i, apk] of apks.entries()) {
          const name = infos[i]!.splitName === undefined ? 'base' : `split_${i}`;
          await writeInstallSession(options.exec, session, name, sizes[i]!, counted(apk), guest);
        }
        committed = true;
        verdict = await commitInstallSession(options.exec, session, guest);
      } finally {
        if (!committed) await abandonInstallSession(options.exec, session);
      }
    }
    if (!verdict.ok)
      throw verdictError(verdict, {
        packageName: base.packageName,
        minSdkVersion: base.minSdkVersion,
        nativeAbis: [...new Set(infos.flatMap((i) => i.nativeAbis))].sort(),
      });

    const result: InstallResult = {
      id,
      file,
      packageName: base.packageName,
      versionCode: base.versionCode,
      ...(base.versionName !== undefined ? { versionName: base.versionName } : {}),
      sha256,
      bytes: input.size,
      apkCount: apks.length,
    };
    report('done', total);
    options.onInstalled?.({ pkg: base.packageName, versionCode: base.versionCode });
    return result;
  } catch (e) {
    const error = signal?.aborted ? cancelledError() : asInstallError(e);
    report(error.code === 'CANCELLED' ? 'cancelled' : 'failed', 0, {
      error: { code: error.code, message: error.message },
    });
    throw error;
  } finally {
    if (staging !== null) await fs.rm(staging, { recursive: true, force: true });
  }
}

/**
 * `e` with the staging copy's name (`base.apk`, `bundle.zip`) replaced by the name of the
 * person's own file, which is the one their message should name.
 */
function namingTheUsersFile(e: unknown, staged: string, file: string): unknown {
  if (!(e instanceof Error)) return e;
  const stagedName = path.basename(staged);
  const own = path.basename(file);
  if (stagedName !== own && e.message.includes(stagedName))
    e.message = e.message.split(stagedName).join(own);
  return e;
}

/**
 * A read stream of `file` (inside the private staging folder, which only this process writes)
 * that reports each chunk's size; destroying it closes the file.
 */
function createCountingStream(file: string, onChunk: (n: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onChunk(chunk.length);
      done(null, chunk);
    },
  });
  streamPipeline(createReadStream(file), counter, () => {});
  return counter;
}
