/**
 * Launching an installed app: make sure the session runs (start it with the instance's last
 * options when stopped, thaw it when paused), find the app's launcher activity in its installed
 * APK, `am start -n pkg/activity` through the guest exec, and record the launch in the recents.
 */
import { startSessionAsUser } from '../privileged/user-session.js';
import { guestDataPathToHost } from '../android/guest-data.js';
import { findRunningGuest, lxcGuestExecutor, type GuestExecutor } from '../android/guest-exec.js';
import { packagePaths, startActivity } from '../android/package-manager.js';
import { verbatim } from '../android/pm-output.js';
import type { ApkInfo } from '../apk/apk-reader.js';
import { readApkInfoInWorker } from '../apk/apk-worker-client.js';
import { defaultApkWorkerUrl } from '../install/install-pipeline.js';
import { sessionStatus, unfreezeSession, type SessionRef } from '../runtime/session-client.js';
import type { SessionStatus } from '../runtime/session.js';
import { AppsError } from './apps-errors.js';
import type { AppsStateStore } from './apps-state.js';
import { checkPackageName } from './desktop-entry.js';
import { lastStartOptions } from './last-start.js';

/** What a launch talks to; every part has a default on the real runtime. */
export interface LaunchDeps extends SessionRef {
  status?: () => Promise<Pick<SessionStatus, 'state'>>;
  /** Starts the stopped session; default `startSession(await lastStartOptions(ref))`. */
  start?: () => Promise<void>;
  unfreeze?: () => Promise<void>;
  /** The executor of the running guest; default `lxc-attach` into it. */
  exec?: () => Promise<GuestExecutor>;
  /** The launcher activity of an installed package, or null (default: read from its APK). */
  launcherActivity?: (exec: GuestExecutor, pkg: string) => Promise<string | null>;
  /** Where launches are recorded; none records nothing. */
  store?: AppsStateStore;
}

/** What a launch did. */
export interface LaunchResult {
  packageName: string;
  /** The component Android started (`pkg/.Main`). */
  component: string;
  /** Whether the session had to be started (or resumed) first. */
  startedSession: boolean;
}

/**
 * Makes sure `deps`' session runs: starts it when stopped, thaws it when frozen. Resolves with
 * whether it had to. Rejects with `SESSION_START_FAILED` (with the runtime's reason) or
 * `SESSION_UNAVAILABLE` while it is starting, stopping or failed.
 */
export async function ensureSessionRunning(deps: LaunchDeps = {}): Promise<boolean> {
  const status = await (deps.status ?? (() => sessionStatus(deps)))();
  switch (status.state.name) {
    case 'running':
      return false;
    case 'frozen':
      try {
        await (deps.unfreeze ?? (async () => void (await unfreezeSession(deps))))();
      } catch (e) {
        throw new AppsError(
          'SESSION_START_FAILED',
          `the paused session could not be resumed: ${describe(e)}`,
          { cause: e },
        );
      }
      return true;
    case 'stopped':
      try {
        await (
          deps.start ?? (async () => void (await startSessionAsUser(await lastStartOptions(deps))))
        )();
      } catch (e) {
        throw new AppsError(
          'SESSION_START_FAILED',
          `the session could not be started: ${describe(e)}`,
          { cause: e },
        );
      }
      return true;
    default:
      throw new AppsError(
        'SESSION_UNAVAILABLE',
        `the session is ${status.state.name}; try again once it has settled`,
      );
  }
}

function describe(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return `${typeof code === 'string' ? `${code}: ` : ''}${message}`;
}

/**
 * The launcher activity of `pkg` as installed: `pm path` → its base APK through the guest data
 * mapping → the ApkReader. Rejects with `APP_NOT_INSTALLED` when the guest does not know it.
 */
export async function installedLauncherActivity(
  exec: GuestExecutor,
  pkg: string,
  ref: SessionRef & { readApk?: (file: string) => Promise<ApkInfo> } = {},
): Promise<string | null> {
  const paths = await packagePaths(exec, pkg);
  if (paths.length === 0)
    throw new AppsError('APP_NOT_INSTALLED', `${pkg} is not installed in the guest`);
  const host = await guestDataPathToHost(ref.instance ?? 'default', paths[0]!, ref);
  const readApk =
    ref.readApk ??
    ((file: string) =>
      readApkInfoInWorker(file, { workerUrl: defaultApkWorkerUrl(), timeoutMs: 30_000 }));
  const info = await readApk(host);
  if (info.packageName !== pkg)
    throw new AppsError(
      'APP_NOT_INSTALLED',
      `the guest's APK for ${pkg} says it is ${info.packageName}`,
    );
  return info.launcherActivity?.name ?? null;
}

async function guestExec(deps: LaunchDeps): Promise<GuestExecutor> {
  return (deps.exec ?? (async () => lxcGuestExecutor(await findRunningGuest(deps))))();
}

/**
 * Launches `pkg` (see the module doc). Rejects with `PACKAGE_NAME_INVALID`,
 * `SESSION_START_FAILED`, `SESSION_UNAVAILABLE`, `APP_NOT_INSTALLED`, `APP_NOT_LAUNCHABLE`, or
 * the Android layer's `ACTIVITY_NOT_FOUND` (Android's words).
 */
export async function launchApp(pkg: string, deps: LaunchDeps = {}): Promise<LaunchResult> {
  checkPackageName(pkg);
  const startedSession = await ensureSessionRunning(deps);
  const exec = await guestExec(deps);
  const activity = await (
    deps.launcherActivity ?? ((e, p) => installedLauncherActivity(e, p, deps))
  )(exec, pkg);
  if (activity === null)
    throw new AppsError(
      'APP_NOT_LAUNCHABLE',
      `${pkg} has no launcher activity, so it cannot be started`,
    );
  const component = await startActivity(exec, pkg, activity);
  await deps.store?.recordLaunch(pkg);
  return { packageName: pkg, component, startedSession };
}

/**
 * Opens `pkg`'s page in Android's settings (`am start -a
 * android.settings.APPLICATION_DETAILS_SETTINGS -d package:PKG`), starting the session first
 * when needed. Rejects like `launchApp`; Android's refusal is `APP_NOT_LAUNCHABLE` with its words.
 */
export async function openAppSettings(pkg: string, deps: LaunchDeps = {}): Promise<void> {
  checkPackageName(pkg);
  await ensureSessionRunning(deps);
  const exec = await guestExec(deps);
  const r = await exec([
    'am',
    'start',
    '-a',
    'android.settings.APPLICATION_DETAILS_SETTINGS',
    '-d',
    `package:${pkg}`,
  ]);
  const text = `${r.stdout}\n${r.stderr}`;
  const error = /^Error: (.*)$/m.exec(text)?.[1];
  if (r.exitCode !== 0 || error !== undefined)
    throw new AppsError(
      'APP_NOT_LAUNCHABLE',
      `Android did not open the settings of ${pkg}: ${verbatim(error ?? text) || `exit ${r.exitCode}`}`,
    );
}
