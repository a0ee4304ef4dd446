/** Failures of the session orchestration itself (runtime and policy failures keep their own). */

/** Codes of `SessionServiceError`. */
export type SessionServiceErrorCode =
  /** `--image` names something this build cannot boot. */
  | 'IMAGE_UNSUPPORTED'
  /** The policy cannot boot an Android image (no CAP_SYS_ADMIN, mount denied, no binder). */
  | 'POLICY_UNSUITABLE'
  /** Image mounts an earlier, crashed session left could not be released. */
  | 'IMAGE_MOUNTS_STALE'
  /** Neither or both of a preset and a policy file were given, or the file cannot be read. */
  | 'POLICY_SOURCE_INVALID'
  /** The isolation probe is not built, or this session was started without it. */
  | 'PROBE_UNAVAILABLE'
  /** The compiled session host entry point (`out/…/session-host-main.js`) is missing. */
  | 'HOST_ENTRY_MISSING'
  /** The running session has no readable record of its policy's promises. */
  | 'SESSION_RECORD_INVALID'
  /** `androidTools` is not a folder, or was given for an Android image (which has its own). */
  | 'ANDROID_TOOLS_INVALID';

/** A failure of the service itself (runtime and policy failures keep their own errors). */
export class SessionServiceError extends Error {
  readonly code: SessionServiceErrorCode;
  constructor(code: SessionServiceErrorCode, message: string) {
    super(message);
    this.name = 'SessionServiceError';
    this.code = code;
  }
}
