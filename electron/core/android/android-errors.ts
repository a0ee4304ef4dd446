/**
 * The error of the guest-side Android layer (guest commands, `pm`/`am` wrappers, guest paths):
 * a plain `Error` with a stable `code`, which crosses IPC through `toResultError`.
 */

/** Stable codes of `AndroidError`. */
export type AndroidErrorCode =
  /** Running a command in the guest needs root (or the app's privileged helper). */
  | 'GUEST_NEEDS_ROOT'
  /** No session runs for the instance, or it is frozen. */
  | 'GUEST_NOT_RUNNING'
  /** `lxc-attach` could not run, or the argv was unusable. */
  | 'GUEST_EXEC_FAILED'
  /** The guest command outlived its time limit and was killed. */
  | 'GUEST_EXEC_TIMEOUT'
  /** The caller aborted the command. */
  | 'CANCELLED'
  /** A guest tool answered with output this layer does not understand. */
  | 'GUEST_OUTPUT_INVALID'
  /** A guest path outside `/data`, with `..`, or reaching through a symlink. */
  | 'GUEST_PATH_UNSAFE'
  /** A package name that is not one. */
  | 'PACKAGE_NAME_INVALID'
  /** `am start` refused: no such package or activity. */
  | 'ACTIVITY_NOT_FOUND'
  /** The guest has no Android package manager (a demo guest, or Android not up). */
  | 'GUEST_NOT_ANDROID';

/** Thrown by the guest-side Android layer. */
export class AndroidError extends Error {
  readonly code: AndroidErrorCode;
  constructor(code: AndroidErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AndroidError';
    this.code = code;
  }
}
