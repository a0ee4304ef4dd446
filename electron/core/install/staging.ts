/**
 * The first steps of an install: open the user's file exactly once, safely, and copy it into a
 * private staging folder while hashing it. Everything after works on the staged copy, so a file
 * swapped or grown after the drop cannot change what is checked and what is installed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_MAX_APK_BYTES, openApkFile, readFdAt, type ApkFile } from '../apk/apk-file.js';
import { InstallError } from './install-errors.js';

/** Default size cap of one input file (APK or bundle). */
export const DEFAULT_MAX_INPUT_BYTES = DEFAULT_MAX_APK_BYTES;

/** An opened input (the ApkReader's `ApkFile`: fd, size at open time, `close()`). */
export type OpenedInput = ApkFile;

/**
 * Opens `file` through the ApkReader's safe open (`O_NOFOLLOW | O_NONBLOCK`, `fstat` on the
 * descriptor: a regular file within `maxBytes`). Rejects with the reader's `APK_NOT_A_FILE`
 * (missing, symlink, folder, FIFO, device) or `APK_TOO_LARGE`; nothing stays open then.
 */
export function openInput(
  file: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
): Promise<OpenedInput> {
  return openApkFile(file, maxBytes);
}

/**
 * Creates a fresh private folder (0700) under `root` (created 0700 when missing). Rejects with
 * `STAGING_FAILED`.
 */
export async function makeStagingDir(root: string): Promise<string> {
  try {
    await fs.mkdir(root, { recursive: true, mode: 0o700 });
    const dir = path.join(root, `install-${process.pid}-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.chmod(dir, 0o700);
    return dir;
  } catch (e) {
    throw new InstallError(
      'STAGING_FAILED',
      `cannot create a staging folder under ${root}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Options of `copyAndHash`. */
export interface CopyOptions {
  signal?: AbortSignal;
  /** Called with the bytes copied so far, as chunks arrive. */
  onBytes?: (bytes: number) => void;
}

/**
 * Copies exactly `input.size` bytes of `input` into the new file `dest` (mode 0600, must not
 * exist) and resolves with their SHA-256 (hex). Rejects with `CANCELLED` when `signal` aborts,
 * `INPUT_UNREADABLE` when the file shrank or cannot be read.
 */
export async function copyAndHash(
  input: OpenedInput,
  dest: string,
  options: CopyOptions = {},
): Promise<string> {
  const hash = createHash('sha256');
  let copied = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      copied += chunk.length;
      options.onBytes?.(copied);
      done(null, chunk);
    },
  });
  // Read through the descriptor itself: an fs stream would close it when destroyed, and the
  // descriptor belongs to the caller.
  const source = readRange(input.fd, input.size);
  try {
    await pipeline(source, tap, createWriteStream(dest, { flags: 'wx', mode: 0o600 }), {
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
  } catch (e) {
    if (options.signal?.aborted) throw new InstallError('CANCELLED', 'cancelled', { cause: e });
    throw new InstallError('INPUT_UNREADABLE', `copying the file failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (copied !== input.size)
    throw new InstallError(
      'INPUT_UNREADABLE',
      `the file changed while it was copied (${copied} of ${input.size} bytes)`,
    );
  return hash.digest('hex');
}

/** Chunk size of the staging copy. */
const COPY_CHUNK_BYTES = 1024 * 1024;

/** The first `size` bytes of `fd`, read by position; ends early if the file shrank. */
async function* readRange(fd: number, size: number): AsyncGenerator<Buffer> {
  let position = 0;
  while (position < size) {
    const chunk = await readFdAt(fd, position, Math.min(COPY_CHUNK_BYTES, size - position));
    if (chunk.length === 0) return;
    position += chunk.length;
    yield chunk;
  }
}
