/**
 * The error every part of the container runtime throws: a plain `Error` with a stable `code`
 * the CLI and the app can branch on, and, for failures inside LXC, the tail of the LXC log so
 * the reader sees why without hunting for the file.
 */

/** Stable codes of runtime errors. */
export type RuntimeErrorCode =
  /** An instance name outside `[a-z0-9][a-z0-9-]{0,31}`. */
  | 'INSTANCE_NAME_INVALID'
  /** A rootfs that is missing, not a directory, or has a symlinked `proc`, `sys` or `dev`. */
  | 'ROOTFS_UNSAFE'
  /** The demo guest could not be built (no static busybox, unwritable cache …). */
  | 'GUEST_BUILD_FAILED'
  /** An LXC config text the runtime cannot use (no rootfs, a key the runtime owns …). */
  | 'LXC_CONFIG_INVALID'
  /** An LXC tool could not be run or exited non-zero. */
  | 'LXC_TOOL_FAILED'
  /** An LXC tool did not finish in time. */
  | 'LXC_TIMEOUT'
  /** `lxc-start` exited, or the guest never became ready, during start. */
  | 'LXC_START_FAILED'
  /** An operation the session's current state does not allow (freeze while stopped …). */
  | 'SESSION_BAD_STATE'
  /** Another live session host owns the instance. */
  | 'SESSION_ALREADY_RUNNING'
  /** No session host answers for the instance. */
  | 'SESSION_NOT_RUNNING'
  /** The session stopped, but its host did not exit and remove its files in time. */
  | 'SESSION_HOST_STUCK'
  /** A control request that is not valid JSON, too long, or has a wrong method or parameter. */
  | 'CONTROL_BAD_REQUEST'
  /** The control socket's peer is neither the host's user nor root. */
  | 'CONTROL_PEER_REFUSED'
  /** The control connection failed or closed before an answer arrived. */
  | 'CONTROL_UNAVAILABLE'
  /** The session host was handed display bridge settings it cannot use. */
  | 'BRIDGE_SETTINGS_INVALID'
  /** The session's display bridge is off or never ran (no host display …). */
  | 'BRIDGE_OFF'
  /** No subordinate id range could be claimed for the instance (registry full or locked). */
  | 'ID_RANGE_UNAVAILABLE'
  /** The instance's writable layers could not be prepared (mount, copy, ownership). */
  | 'STORAGE_SETUP_FAILED';

/** Thrown by the runtime; `code` says what kind of failure, `logTail` carries LXC's last words. */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  /** Last lines of the LXC log when the failure happened inside LXC, else undefined. */
  readonly logTail: string | undefined;

  /**
   * @param code stable code
   * @param message what went wrong, for a person
   * @param options `logTail`: last lines of the LXC log; `cause`: the underlying error
   */
  constructor(
    code: RuntimeErrorCode,
    message: string,
    options: { logTail?: string; cause?: unknown } = {},
  ) {
    super(
      options.logTail
        ? `${message}\n--- last lines of the LXC log ---\n${options.logTail}`
        : message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'RuntimeError';
    this.code = code;
    this.logTail = options.logTail;
  }
}

/** Whether `e` is a Node system error with the given `code` (`'ENOENT'`, …). */
export function isErrno(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}
