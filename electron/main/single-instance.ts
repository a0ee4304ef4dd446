/**
 * One Droidway per user: the first instance takes Electron's single-instance lock; a later start
 * (a desktop entry's `droidway --launch <pkg>`, a file manager's `--install <file>`) hands its
 * argv over and quits. The argv is parsed by `parseLaunchArgs` (core) and the requests go to the
 * handlers the app gives.
 */
import { app } from 'electron';
import {
  dispatchLaunchRequests,
  parseLaunchArgs,
  type LaunchRequestHandlers,
  type LaunchRequests,
} from '../core/apps/launch-args.js';

export { dispatchLaunchRequests, type LaunchRequestHandlers };

/**
 * Takes the single-instance lock. Returns false when another instance holds it (this one has
 * handed its argv over and should quit at once). Otherwise wires `second-instance` to
 * `handlers` and returns true; the first instance's own argv is for the caller to dispatch
 * once ready, with `firstInstanceRequests()`.
 */
export function claimSingleInstance(handlers: LaunchRequestHandlers): boolean {
  if (!app.requestSingleInstanceLock()) return false;
  app.on('second-instance', (_event, argv, workingDirectory) => {
    const run = (): void =>
      dispatchLaunchRequests(parseLaunchArgs(argv.slice(1), workingDirectory), handlers);
    if (app.isReady()) run();
    else void app.whenReady().then(run);
  });
  return true;
}

/** The requests of this (first) instance's own command line. */
export function firstInstanceRequests(): LaunchRequests {
  return parseLaunchArgs(process.argv.slice(1), process.cwd());
}
