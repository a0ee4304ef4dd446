/**
 * The error every part of the Android image code throws: a plain `Error` with a stable `code`
 * the CLI, the app and `session start` can branch on, and a message that says what was wrong and
 * where without echoing untrusted bytes at length.
 */

/** Stable codes of image errors. */
export type ImageErrorCode =
  /** A `build.prop` that is too large, has too many lines or holds binary data. */
  | 'BUILD_PROP_INVALID'
  /** An image name outside `[a-z0-9][a-z0-9._-]{0,63}`. */
  | 'IMAGE_NAME_INVALID'
  /** No image with that name or at that path; or a folder without `system.img` + `vendor.img`. */
  | 'IMAGE_NOT_FOUND'
  /** An image file that is not a regular file, is empty, or is neither ext4 nor erofs. */
  | 'IMAGE_INVALID'
  /** The store already has an image of that name. */
  | 'IMAGE_EXISTS'
  /** The image is mounted for a running session (a loop device is backed by its files). */
  | 'IMAGE_IN_USE'
  /** A channel JSON that is malformed, hostile or has no usable entry. */
  | 'CHANNEL_INVALID'
  /** A channel URL that is not absolute http(s). */
  | 'CHANNEL_URL_INVALID'
  /** The HTTP transfer failed (status, connection, size or redirect rules). */
  | 'DOWNLOAD_FAILED'
  /** The downloaded file's sha256 is not the one the channel names. */
  | 'DOWNLOAD_CHECKSUM_MISMATCH'
  /** A zip that is truncated, malformed, has unsafe entry names, or exceeds the size caps. */
  | 'ZIP_INVALID'
  /** A zip that does not hold the image file it should (`system.img` / `vendor.img`). */
  | 'ZIP_MISSING_ENTRY'
  /** A host tool (debugfs, mount, losetup …) could not be run, failed or timed out. */
  | 'TOOL_FAILED'
  /** Mounting the image layout failed (everything mounted so far was released). */
  | 'MOUNT_FAILED'
  /** A property override with a bad key or value. */
  | 'PROPS_INVALID'
  /** binderfs could not be mounted or gave no binder devices. */
  | 'BINDER_UNAVAILABLE'
  /** The host lacks something Android needs; the message lists what and how to fix it. */
  | 'ANDROID_NOT_READY';

/** Thrown by the image code; `code` says what kind of failure. */
export class ImageError extends Error {
  readonly code: ImageErrorCode;

  /**
   * @param code stable code
   * @param message what went wrong, for a person
   * @param options `cause`: the underlying error
   */
  constructor(code: ImageErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ImageError';
    this.code = code;
  }
}

/** Whether `e` is a Node system error with the given `code` (`'ENOENT'`, …). */
export function isErrnoCode(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}

/** A short, printable rendering of untrusted text for an error message. */
export function shown(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}
