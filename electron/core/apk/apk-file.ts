/**
 * Opening an untrusted APK path safely: one `open` with `O_NOFOLLOW` (a symlink, e.g. to
 * `/dev/zero`, is refused rather than followed) and `O_NONBLOCK` (a FIFO or device cannot make
 * the open hang waiting for a writer), then `fstat` on the descriptor itself to require a regular
 * file within the size cap. Everything afterwards reads through that descriptor, so the checked
 * file is the one read even if the path is swapped meanwhile.
 */
import { close, constants, fstat, open, read } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApkError } from './apk-errors.js';

/** Largest APK accepted by default (4 GiB: games ship 2–3 GiB base APKs). */
export const DEFAULT_MAX_APK_BYTES = 4 * 1024 * 1024 * 1024;

/** An opened, checked APK file; `close()` it when done. */
export interface ApkFile {
  /** The descriptor (opened read-only, close-on-exec). */
  readonly fd: number;
  /** Size in bytes at open time. */
  readonly size: number;
  /** Closes the descriptor; safe to call twice. */
  close(): Promise<void>;
}

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);

/**
 * The name of an APK a process inherited as an open descriptor (`fd:N`, N ≥ 3): the unprivileged
 * reader process started by a root parent gets the file this way (see `apk-worker-client.ts`).
 */
export const INHERITED_FD_PATTERN = /^fd:([3-9]|[1-9][0-9]{1,3})$/;

/**
 * Opens `file` read-only with `O_NOFOLLOW | O_NONBLOCK` and checks on the descriptor that it is
 * a regular file of at most `maxBytes`. On refusal the descriptor is closed.
 * @throws ApkError `APK_NOT_A_FILE` (missing, symlink, directory, FIFO, device, unreadable) or
 *   `APK_TOO_LARGE` (over the cap)
 */
export async function openApkFile(
  file: string,
  maxBytes: number = DEFAULT_MAX_APK_BYTES,
): Promise<ApkFile> {
  const name = path.basename(file);
  let fd: number;
  const inherited = INHERITED_FD_PATTERN.exec(file);
  try {
    // `fd:N`: an APK its parent opened (with these same checks) and handed to this process.
    fd =
      inherited !== null
        ? Number(inherited[1])
        : await openAsync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ELOOP'
        ? 'is a symbolic link (refused: pass the file itself)'
        : code === 'ENOENT'
          ? 'does not exist'
          : code === 'EACCES' || code === 'EPERM'
            ? 'is not readable (permission denied)'
            : code === 'ENXIO'
              ? 'is not a regular file (a socket or device)'
              : `cannot be opened (${code ?? String(e)})`;
    throw new ApkError('APK_NOT_A_FILE', `${name} ${why}`, { cause: e });
  }
  try {
    const st = await fstatAsync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory()
        ? 'a directory'
        : st.isFIFO()
          ? 'a FIFO'
          : st.isCharacterDevice() || st.isBlockDevice()
            ? 'a device'
            : st.isSocket()
              ? 'a socket'
              : 'not a regular file';
      throw new ApkError('APK_NOT_A_FILE', `${name} is ${kind}, not an APK file`);
    }
    if (st.size > maxBytes)
      throw new ApkError(
        'APK_TOO_LARGE',
        `${name} is ${st.size} bytes, more than the ${maxBytes} allowed`,
      );
    let closed = false;
    return {
      fd,
      size: st.size,
      close: async () => {
        if (closed) return;
        closed = true;
        await closeAsync(fd);
      },
    };
  } catch (e) {
    await closeAsync(fd).catch(() => undefined);
    throw e;
  }
}

/** Reads exactly `length` bytes at `position` from `fd`, or fewer at the end of the file. */
export async function readFdAt(fd: number, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = await new Promise<number>((resolve, reject) =>
      read(fd, buf, got, length - got, position + got, (err, bytes) =>
        err === null ? resolve(bytes) : reject(err),
      ),
    );
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}
