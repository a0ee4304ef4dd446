/**
 * The error of the apps layer (catalog, launch, desktop entries, pins): a plain `Error` with a
 * stable `code`, which crosses IPC through `toResultError`.
 */

/** Stable codes of `AppsError`. */
export type AppsErrorCode =
  /** A package name that is not an Android package name. */
  | 'PACKAGE_NAME_INVALID'
  /** The package is not installed in the guest. */
  | 'APP_NOT_INSTALLED'
  /** The package has no launcher activity, so there is nothing to start. */
  | 'APP_NOT_LAUNCHABLE'
  /** The session was stopped and starting it failed (the message says why). */
  | 'SESSION_START_FAILED'
  /** The session is in a state a launch cannot use (starting, stopping, error). */
  | 'SESSION_UNAVAILABLE'
  /** Android refused the uninstall. */
  | 'APP_REMOVE_FAILED'
  /** A desktop entry or icon could not be written. */
  | 'DESKTOP_ENTRY_FAILED';

/** Thrown by the apps layer. */
export class AppsError extends Error {
  readonly code: AppsErrorCode;
  constructor(code: AppsErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppsError';
    this.code = code;
  }
}
