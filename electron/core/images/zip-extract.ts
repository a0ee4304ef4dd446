/**
 * Taking one image file out of a Waydroid OTA zip (`system.img` from the system zip,
 * `vendor.img` from the vendor zip) with yauzl, treating the zip as hostile: every entry name is
 * checked (no absolute path, no `..`, no backslash, no control characters), entry count and
 * sizes are capped, the wanted entry must be unique, and its bytes must match the size and
 * CRC-32 the central directory declares. The file is written under a temporary name and renamed
 * into place only once complete.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { ImageError, shown } from './image-errors.js';

/** Most entries a Waydroid zip may list (real ones hold one). */
export const MAX_ZIP_ENTRIES = 64;
/** Largest image accepted from a zip (Waydroid system images are 1–4 GiB). */
export const MAX_IMAGE_BYTES = 16 * 1024 * 1024 * 1024;
/** Longest entry name accepted. */
const MAX_ENTRY_NAME_LENGTH = 512;

/**
 * Why a zip entry name is unsafe to extract, or null when it is safe: empty, too long, absolute
 * (`/x`, `C:x`), containing a backslash, a NUL or other control character, or a `..` component.
 */
export function unsafeEntryName(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name.length > MAX_ENTRY_NAME_LENGTH) return `name longer than ${MAX_ENTRY_NAME_LENGTH}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'control character in the name';
  if (name.includes('\\')) return 'backslash in the name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'absolute path';
  if (name.split('/').some((part) => part === '..')) return 'path escapes the target folder';
  return null;
}

/** The result of `extractZipEntry`. */
export interface ExtractedFile {
  path: string;
  size: number;
}

/** Options of `extractZipEntry`. */
export interface ExtractOptions {
  /** Largest uncompressed size accepted (default `MAX_IMAGE_BYTES`). */
  maxBytes?: number;
}

function zipError(zipPath: string, message: string, cause?: unknown): ImageError {
  return new ImageError('ZIP_INVALID', `${path.basename(zipPath)}: ${message}`, { cause });
}

/** Rewords yauzl's errors for a person; keeps the original as the cause. */
function fromYauzl(zipPath: string, error: Error): ImageError {
  const m = error.message;
  if (/end of central directory record signature not found/i.test(m))
    return zipError(zipPath, 'not a zip file, or truncated (no end of central directory)', error);
  const unsafe =
    /^(?:invalid relative path|absolute path|invalid characters in fileName): (.*)$/s.exec(m);
  if (unsafe !== null) {
    const name = unsafe[1] ?? '';
    return zipError(
      zipPath,
      `unsafe entry name ${shown(name)}: ${unsafeEntryName(name) ?? 'refused by the zip reader'}`,
      error,
    );
  }
  if (/unexpected EOF|too (many|few) bytes|exceeds|out of range|invalid .* signature/i.test(m))
    return zipError(zipPath, `truncated or corrupt: ${m}`, error);
  return zipError(zipPath, m, error);
}

function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      zipPath,
      {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: true,
        strictFileNames: true,
        validateEntrySizes: true,
      },
      (err, zip) =>
        err !== null || zip === undefined ? reject(err ?? new Error('no zip')) : resolve(zip),
    );
  });
}

/** Every entry of the central directory, validated; rejects on the first bad one. */
function readEntries(zipPath: string, zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('error', (e: Error) => reject(fromYauzl(zipPath, e)));
    zip.on('entry', (entry: yauzl.Entry) => {
      const why = unsafeEntryName(entry.fileName);
      if (why !== null) {
        reject(zipError(zipPath, `unsafe entry name ${shown(entry.fileName)}: ${why}`));
        return;
      }
      entries.push(entry);
      if (entries.length > MAX_ZIP_ENTRIES) {
        reject(zipError(zipPath, `more than ${MAX_ZIP_ENTRIES} entries`));
        return;
      }
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.readEntry();
  });
}

function openEntryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) =>
      err !== null || stream === undefined
        ? reject(err ?? new Error('no stream'))
        : resolve(stream),
    );
  });
}

/**
 * Extracts entry `entryName` (at the zip's root, e.g. `system.img`) of `zipPath` to
 * `<targetDir>/<entryName>`. Nothing but that one file is ever written, and it appears only when
 * complete and checked (size and CRC-32); on any failure no file is left behind.
 *
 * Throws `ImageError` `ZIP_INVALID` for a truncated or corrupt zip, an unsafe entry name
 * anywhere in it, too many entries, a duplicate or oversized wanted entry, an encrypted entry or
 * an unsupported compression; `ZIP_MISSING_ENTRY` when the entry is not there.
 */
export async function extractZipEntry(
  zipPath: string,
  entryName: string,
  targetDir: string,
  options: ExtractOptions = {},
): Promise<ExtractedFile> {
  const maxBytes = options.maxBytes ?? MAX_IMAGE_BYTES;
  if (unsafeEntryName(entryName) !== null || entryName.includes('/'))
    throw new ImageError(
      'ZIP_MISSING_ENTRY',
      `cannot extract ${shown(entryName)}: not a plain file name`,
    );
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(zipPath);
  } catch (e) {
    if (e instanceof ImageError) throw e;
    if ((e as NodeJS.ErrnoException).code !== undefined) throw e;
    throw fromYauzl(zipPath, e as Error);
  }
  const target = path.join(targetDir, entryName);
  const temp = path.join(targetDir, `.${entryName}.extracting-${process.pid}`);
  try {
    const entries = await readEntries(zipPath, zip);
    const matches = entries.filter((e) => e.fileName === entryName);
    if (matches.length === 0) {
      throw new ImageError(
        'ZIP_MISSING_ENTRY',
        `${path.basename(zipPath)} has no ${entryName} (it holds ${entries.map((e) => shown(e.fileName, 40)).join(', ') || 'nothing'})`,
      );
    }
    if (matches.length > 1) throw zipError(zipPath, `${entryName} appears ${matches.length} times`);
    const entry = matches[0]!;
    if (entry.uncompressedSize > maxBytes)
      throw zipError(
        zipPath,
        `${entryName} is ${entry.uncompressedSize} bytes, more than the ${maxBytes} accepted`,
      );
    if (entry.isEncrypted()) throw zipError(zipPath, `${entryName} is encrypted`);
    if (!entry.canDecodeFileData())
      throw zipError(
        zipPath,
        `${entryName} uses compression method ${entry.compressionMethod}, which is not supported`,
      );
    let stream: Readable;
    try {
      stream = await openEntryStream(zip, entry);
    } catch (e) {
      throw fromYauzl(zipPath, e as Error);
    }
    let crc = 0;
    let written = 0;
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        if (written > entry.uncompressedSize) {
          done(zipError(zipPath, `${entryName} holds more bytes than its declared size`));
          return;
        }
        crc = crc32(chunk, crc);
        done(null, chunk);
      },
    });
    try {
      await pipeline(stream, check, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
    } catch (e) {
      if (e instanceof ImageError) throw e;
      if ((e as NodeJS.ErrnoException).syscall !== undefined) throw e;
      throw fromYauzl(zipPath, e as Error);
    }
    if (written !== entry.uncompressedSize)
      throw zipError(
        zipPath,
        `${entryName} is truncated: ${written} of ${entry.uncompressedSize} bytes`,
      );
    if (crc >>> 0 !== entry.crc32 >>> 0)
      throw zipError(
        zipPath,
        `${entryName} is corrupt: its CRC-32 does not match the zip's directory`,
      );
    const handle = await open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    return { path: target, size: written };
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  } finally {
    zip.close();
  }
}
