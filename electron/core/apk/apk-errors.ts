/**
 * The error every part of the APK reader throws: a plain `Error` with a stable `code` the CLI
 * and the app can branch on, and a message that names the problem without echoing untrusted
 * bytes at length.
 */

/** Stable codes of APK reader errors. */
export type ApkErrorCode =
  /** Not a zip, truncated, or a structure yauzl or our own checks refuse. */
  | 'APK_ZIP_INVALID'
  /** Two central directory entries with the same name (the "Master Key" class). */
  | 'APK_DUPLICATE_ENTRY'
  /** Two entries whose local header + data ranges overlap, or overlap the central directory. */
  | 'APK_OVERLAPPING_ENTRIES'
  /** A local file header that disagrees with its central directory entry. */
  | 'APK_HEADER_MISMATCH'
  /** Bytes before the first local file header (a prepended payload). */
  | 'APK_PREPENDED_DATA'
  /** An entry name with `..`, a leading `/`, a backslash, a NUL, a control character or bad UTF-8. */
  | 'APK_UNSAFE_ENTRY_NAME'
  /** Declared or inflated sizes, entry count or compression ratio over the caps. */
  | 'APK_TOO_LARGE'
  /** An encrypted entry or a compression method other than stored/deflate. */
  | 'APK_UNSUPPORTED_ENTRY'
  /** A required entry (`AndroidManifest.xml`) is absent. */
  | 'APK_MISSING_ENTRY'
  /** Binary XML that is malformed or over its caps. */
  | 'APK_AXML_INVALID'
  /** A `resources.arsc` that is malformed or over its caps. */
  | 'APK_ARSC_INVALID'
  /** A v2/v3 signing block that is malformed, a signature that fails, or tampered content. */
  | 'APK_SIGNATURE_INVALID'
  /** The reader did not finish within its time limit (the worker was stopped). */
  | 'APK_TIMEOUT'
  /** The reader's worker died (heap limit, crash) or failed in an unexpected way. */
  | 'APK_READ_FAILED'
  /** A decodable manifest that lacks what every APK must have (package name …). */
  | 'APK_MANIFEST_INVALID'
  /** The path is not a readable regular file: missing, a symlink, a directory, FIFO or device. */
  | 'APK_NOT_A_FILE'
  /** An icon PNG that is malformed or over its caps (width × height, sizes). */
  | 'APK_PNG_INVALID';

/** Thrown by the APK reader; `code` says what kind of failure. */
export class ApkError extends Error {
  readonly code: ApkErrorCode;

  /**
   * @param code stable code
   * @param message what went wrong, for a person
   * @param options `cause`: the underlying error
   */
  constructor(code: ApkErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApkError';
    this.code = code;
  }
}

/** A short, printable rendering of untrusted text for an error message. */
export function shown(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}
