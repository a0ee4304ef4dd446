/**
 * The window's installer: each file through the install pipeline (`installFile`) into the
 * instance's running guest, with the pipeline's progress mapped onto the queue's stages and its
 * typed errors onto plain words plus Android's verdict.
 */
import { findRunningGuest, lxcGuestExecutor } from '../android/guest-exec.js';
import { installFile, stagingRootFor, type InstallOptions } from '../install/install-pipeline.js';
import { sessionPaths, type SessionRef } from '../runtime/session-client.js';
import type { Installer } from './install-tracker.js';

/** Options of `pipelineInstaller`. */
export interface PipelineInstallerOptions extends SessionRef {
  /** Overrides of the pipeline's options (tests: a fake `readApk`, a staging root). */
  pipeline?: Partial<Omit<InstallOptions, 'signal' | 'onProgress' | 'id'>>;
  /** The current instance (Settings' `instanceName`), asked for each file; else `instance`. */
  currentInstance?: () => string;
}

/**
 * An `Installer` for `InstallTracker` that installs into the instance's running session. The
 * guest is looked up for each file, so files dropped before a session started install once it
 * runs (or fail with "no session is running").
 */
export function pipelineInstaller(options: PipelineInstallerOptions = {}): Installer {
  return async (file, context) => {
    const ref =
      options.currentInstance === undefined
        ? options
        : { ...options, instance: options.currentInstance() };
    const guest = await findRunningGuest(ref);
    try {
      const result = await installFile(file, {
        exec: lxcGuestExecutor(guest),
        stagingRoot: stagingRootFor(sessionPaths(ref.instance, ref)),
        ...options.pipeline,
        signal: context.signal,
        onProgress: (event) => {
          if (
            event.stage === 'copying' ||
            event.stage === 'checking' ||
            event.stage === 'installing'
          )
            context.progress(event.stage, event.bytes, event.totalBytes);
        },
      });
      const version = result.versionName ?? `version code ${result.versionCode}`;
      return {
        packageName: result.packageName,
        message: `Installed ${result.packageName} ${version}.`,
        verdict: 'Success',
      };
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown; guestDetail?: unknown };
      const code = typeof e.code === 'string' ? e.code : 'INSTALL_FAILED';
      const message = typeof e.message === 'string' ? e.message : String(error);
      const fromAndroid = /^INSTALL_(FAILED|PARSE_FAILED)_|^DELETE_FAILED_/.test(code);
      throw Object.assign(new Error(sentence(message)), {
        code,
        verdict: fromAndroid
          ? `Failure [${code}${typeof e.guestDetail === 'string' && e.guestDetail !== '' ? `: ${e.guestDetail}` : ''}]`
          : null,
      });
    }
  };
}

/**
 * `the file is not an APK` → `The file is not an APK.`; a message that starts with a file's
 * name keeps it as written (`does-not-exist.apk does not exist.`).
 */
export function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return 'The install failed.';
  const firstWord = (t.split(/\s/, 1)[0] ?? '').replace(/[:,;]$/, '');
  const isName = /[./\\]/.test(firstWord.replace(/\.$/, ''));
  const capital = isName ? t : t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
