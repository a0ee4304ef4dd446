/**
 * The zip layer of the APK reader. yauzl parses the end of central directory and the central
 * directory; on top of it every entry is checked the way an installer must, because an APK is
 * hostile input and Android's own zip reader is the one that decides what gets installed:
 * duplicate names are refused (the "Master Key" class: two readers picking different copies),
 * names must be valid UTF-8 without `..`, a leading `/`, backslashes or control characters, each
 * local header must agree with its central entry, entries may not overlap each other or the
 * central directory, nothing may precede the first local header, and declared sizes, entry
 * count and compression ratio are capped. Reading an entry counts inflated bytes as they stream
 * and stops at the cap, so a lying header cannot make us inflate a bomb.
 */
import { close as closeFd, read as readFd, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { ApkError, shown } from './apk-errors.js';
import { DEFAULT_MAX_APK_BYTES, openApkFile } from './apk-file.js';

/** Caps applied while reading an APK's zip structure. */
export interface ZipLimits {
  /** Most entries in the central directory. */
  maxEntries: number;
  /** Largest declared uncompressed size of one entry. */
  maxEntryBytes: number;
  /** Largest sum of declared uncompressed sizes. */
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio of a deflated entry above `ratioFloorBytes`. */
  maxRatio: number;
  /** Entries smaller than this are exempt from the ratio cap (tiny files compress well). */
  ratioFloorBytes: number;
  /** Longest entry name in bytes. */
  maxNameBytes: number;
  /** Largest APK file. */
  maxFileBytes: number;
}

/** Default caps: generous for real APKs (games reach a few GiB), tight against bombs. */
export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  maxEntries: 100_000,
  maxEntryBytes: 2 * 1024 * 1024 * 1024,
  maxTotalBytes: 8 * 1024 * 1024 * 1024,
  maxRatio: 200,
  ratioFloorBytes: 1024 * 1024,
  maxNameBytes: 1024,
  maxFileBytes: DEFAULT_MAX_APK_BYTES,
});

/** One checked central directory entry. */
export interface ZipEntryInfo {
  /** Entry name, valid UTF-8, checked safe. */
  readonly name: string;
  /** 0 (stored) or 8 (deflate). */
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  /** Offset of the local file header. */
  readonly localHeaderOffset: number;
  /** Offset of the entry's data, after the local header. */
  readonly dataOffset: number;
}

/** Options of `ApkZip.readEntry`. */
export interface ReadEntryOptions {
  /** Most bytes accepted after inflating (default: the entry's declared size). */
  maxBytes?: number;
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;
const ZIP64_MARKER = 0xffffffff;
const READ_CHUNK = 64 * 1024;
/** Where yauzl looks for the end of central directory record (and a zip64 locator/record). */
const TAIL_BYTES = 22 + 0xffff + 20 + 56;
/** Largest central directory read into memory at once; a bigger one is read piecewise. */
const MAX_CD_BUFFER = 64 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Why a decoded entry name is unsafe, or null: empty, a NUL or other control character, a
 * backslash, a leading `/`, a drive letter, or a `..` component.
 */
export function unsafeEntryName(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name.includes('\u0000')) return 'NUL in the name';
  // eslint-disable-next-line no-control-regex
  if (/[\u0001-\u001f\u007f]/.test(name)) return 'control character in the name';
  if (name.includes('\\')) return 'backslash in the name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'absolute path';
  if (name.includes('..') && name.split('/').some((part) => part === '..')) return '".." component';
  return null;
}

function isAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

function fail(file: string, code: ApkError['code'], message: string, cause?: unknown): ApkError {
  return new ApkError(code, `${path.basename(file)}: ${message}`, { cause });
}

/** Rewords yauzl's errors for a person; keeps the original as the cause. */
function fromYauzl(file: string, error: Error): ApkError {
  const m = error.message;
  if (/end of central directory record signature not found/i.test(m))
    return fail(file, 'APK_ZIP_INVALID', 'not a zip file, or truncated', error);
  if (/too many|too few|exceeds|invalid .* signature|unexpected EOF|out of range/i.test(m))
    return fail(file, 'APK_ZIP_INVALID', `truncated or corrupt zip: ${m}`, error);
  return fail(file, 'APK_ZIP_INVALID', m, error);
}

/**
 * An opened, fully checked APK zip. Obtain one with `openApkZip`; `close()` it when done (it
 * owns a file descriptor).
 */
export class ApkZip {
  /** Checked entries by name, in central directory order. */
  readonly entries: ReadonlyMap<string, ZipEntryInfo>;
  private readonly file: string;
  private readonly zip: yauzl.ZipFile;
  /** The open descriptor (valid until `close()`); for readers of the signing block. */
  readonly fd: number;
  /** File size at open time. */
  readonly size: number;
  private closed = false;

  /** @internal use `openApkZip` */
  constructor(
    file: string,
    zip: yauzl.ZipFile,
    entries: Map<string, ZipEntryInfo>,
    fd: number,
    size: number,
  ) {
    this.file = file;
    this.zip = zip;
    this.entries = entries;
    this.fd = fd;
    this.size = size;
  }

  /**
   * Reads one entry fully into memory, inflating with a running byte count: more bytes than
   * `maxBytes` (or than the declared size) stop the stream with `APK_TOO_LARGE`; a size or
   * CRC-32 mismatch is `APK_ZIP_INVALID`.
   * @throws ApkError `APK_MISSING_ENTRY` when there is no such entry
   */
  async readEntry(name: string, options: ReadEntryOptions = {}): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const total = await this.streamEntry(name, options, (chunk) => chunks.push(chunk));
    return Buffer.concat(chunks, total);
  }

  /**
   * Digests one entry while it streams (memory stays flat for large entries), with the same
   * size, cap and CRC-32 checks as `readEntry`.
   * @param algorithm a node hash name (`sha256`, `sha1` …)
   */
  async hashEntry(
    name: string,
    algorithm: string,
    options: ReadEntryOptions = {},
  ): Promise<Buffer> {
    const hash = createHash(algorithm);
    await this.streamEntry(name, options, (chunk) => hash.update(chunk));
    return hash.digest();
  }

  /** Streams an entry's inflated bytes to `onChunk`, counting and checking; returns the size. */
  private async streamEntry(
    name: string,
    options: ReadEntryOptions,
    onChunk: (chunk: Buffer) => void,
  ): Promise<number> {
    const info = this.entries.get(name);
    if (info === undefined) throw fail(this.file, 'APK_MISSING_ENTRY', `no entry ${shown(name)}`);
    const cap = options.maxBytes ?? info.uncompressedSize;
    if (info.uncompressedSize > cap)
      throw fail(
        this.file,
        'APK_TOO_LARGE',
        `${shown(name)} declares ${info.uncompressedSize} bytes, more than the ${cap} allowed`,
      );
    // yauzl reads from an Entry only these fields; building it here spares keeping one per
    // entry (tens of thousands in large APKs) for the few entries ever read.
    const entry = Object.assign(new yauzl.Entry(), {
      fileName: name,
      relativeOffsetOfLocalHeader: info.localHeaderOffset,
      compressedSize: info.compressedSize,
      uncompressedSize: info.uncompressedSize,
      compressionMethod: info.method,
      generalPurposeBitFlag: 0,
    });
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
      this.zip.openReadStream(entry, (err, s) => {
        if (err !== null) reject(fromYauzl(this.file, err));
        else resolve(s);
      });
    });
    let total = 0;
    let crc = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > cap)
          throw fail(this.file, 'APK_TOO_LARGE', `${shown(name)} inflates past ${cap} bytes`);
        crc = crc32(chunk, crc);
        onChunk(chunk);
      }
    } catch (e) {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      if (e instanceof ApkError) throw e;
      throw fromYauzl(this.file, e instanceof Error ? e : new Error(String(e)));
    }
    if (total !== info.uncompressedSize)
      throw fail(this.file, 'APK_ZIP_INVALID', `${shown(name)} has the wrong size`);
    if (crc >>> 0 !== info.crc32 >>> 0)
      throw fail(this.file, 'APK_ZIP_INVALID', `${shown(name)} fails its CRC-32 check`);
    return total;
  }

  /** Releases the file descriptor (once the last open read stream ends). Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zip.close();
    return Promise.resolve();
  }
}

/**
 * yauzl's reader over our fd. yauzl reads the central directory entry by entry (two small
 * reads each: seconds through the thread pool for 20,000 entries), so the tail of the file and
 * then the whole central directory are read once into a buffer (`preload`) and yauzl's reads are
 * served from it; other small reads are synchronous preads, while entry data still streams. The
 * fd is closed when yauzl releases the reader (the zip closed and every read stream ended).
 */
class FdReader extends yauzl.RandomAccessReader {
  private cacheStart = 0;
  private cache: Buffer = Buffer.alloc(0);

  constructor(private readonly fd: number) {
    super();
  }

  /** Reads `[start, end)` once; later reads inside it are served from memory. */
  preload(start: number, end: number): void {
    this.cache = readAt(this.fd, start, end - start);
    this.cacheStart = start;
  }

  // Not fs.createReadStream: destroying one closes its fd even with autoClose off, and yauzl
  // destroys streams it is done with; the fd must live until yauzl releases the reader.
  override _readStreamForRange(start: number, end: number): Readable {
    const fd = this.fd;
    let at = start;
    return new Readable({
      highWaterMark: READ_CHUNK,
      read(): void {
        const n = Math.min(READ_CHUNK, end - at);
        if (n <= 0) {
          this.push(null);
          return;
        }
        const buf = Buffer.allocUnsafe(n);
        readFd(fd, buf, 0, n, at, (err, bytes) => {
          if (err !== null) this.destroy(err);
          else if (bytes === 0) this.destroy(new Error('unexpected EOF'));
          else {
            at += bytes;
            this.push(buf.subarray(0, bytes));
          }
        });
      },
    });
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    const at = position - this.cacheStart;
    if (at >= 0 && at + length <= this.cache.length) {
      this.cache.copy(buffer, offset, at, at + length);
      callback(null, length);
      return;
    }
    let n: number;
    try {
      n = readSync(this.fd, buffer, offset, length, position);
    } catch (e) {
      callback(e as Error);
      return;
    }
    callback(null, n);
  }

  override close(callback: (err: Error | null) => void): void {
    closeFd(this.fd, callback);
  }
}

/**
 * A small positioned read. Synchronous on purpose: one local header per entry is a short pread
 * from the page cache, and a thread-pool round trip for each of 20,000 entries costs seconds;
 * the reader runs in a worker (`apk-worker-client.ts`), so this never blocks the app's thread.
 */
function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const bytesRead = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

/**
 * Walks the central directory: `onEntry` runs synchronously for each entry (it may throw to
 * stop). One set of listeners for the whole walk: a promise per entry costs more than parsing
 * the entry when there are tens of thousands.
 */
function walkEntries(
  zip: yauzl.ZipFile,
  file: string,
  onEntry: (e: yauzl.Entry) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const stop = (err: unknown): void => {
      if (done) return;
      done = true;
      zip.removeAllListeners('entry');
      zip.removeAllListeners('end');
      if (err === undefined) resolve();
      else reject(err);
    };
    // Our reader answers synchronously, so yauzl emits the next entry from inside readEntry();
    // asking for it from the handler would recurse once per entry. A loop asks instead.
    let inRead = false;
    let more = false;
    const pump = (): void => {
      do {
        more = false;
        inRead = true;
        zip.readEntry();
        inRead = false;
      } while (more && !done);
    };
    zip.on('entry', (e: yauzl.Entry) => {
      try {
        onEntry(e);
      } catch (err) {
        stop(err);
        return;
      }
      if (inRead) more = true;
      else pump();
    });
    zip.on('end', () => stop(undefined));
    zip.on('error', (err: Error) => stop(err instanceof ApkError ? err : fromYauzl(file, err)));
    pump();
  });
}

/**
 * Opens `file` as an APK zip and checks its whole structure (see the module comment) before
 * returning. Every refusal is an `ApkError` whose `code` names the problem; on failure the file
 * descriptor is closed.
 * @param file path of the APK
 * @param limits caps (defaults `DEFAULT_ZIP_LIMITS`)
 */
export async function openApkZip(file: string, limits: Partial<ZipLimits> = {}): Promise<ApkZip> {
  const caps: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const opened = await openApkFile(file, caps.maxFileBytes);
  const { fd, size } = opened;
  let zip: yauzl.ZipFile | undefined;
  try {
    // yauzl owns the fd from here: `zip.close()` closes it once no read stream uses it.
    const reader = new FdReader(fd);
    reader.preload(Math.max(0, size - TAIL_BYTES), size);
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
      yauzl.fromRandomAccessReader(
        reader,
        size,
        {
          lazyEntries: true,
          autoClose: false,
          decodeStrings: false,
          validateEntrySizes: true,
        },
        (err, z) => {
          if (err !== null) reject(fromYauzl(file, err));
          else resolve(z);
        },
      );
    });
    if (zip.entryCount > caps.maxEntries)
      throw fail(file, 'APK_TOO_LARGE', `${zip.entryCount} entries, more than ${caps.maxEntries}`);
    // yauzl keeps the central directory offset only as its read cursor, which still points
    // there before the first readEntry(); checked so a yauzl upgrade cannot silently skip
    // the layout checks.
    const centralOffset = (zip as unknown as { readEntryCursor?: unknown }).readEntryCursor;
    if (typeof centralOffset !== 'number')
      throw new Error('yauzl no longer exposes the central directory offset (readEntryCursor)');
    if (centralOffset >= 0 && centralOffset < size && size - centralOffset <= MAX_CD_BUFFER)
      reader.preload(centralOffset, size);
    const entries = new Map<string, ZipEntryInfo>();
    const ranges: Array<{ start: number; end: number; name: string }> = [];
    let declaredTotal = 0;
    const header = Buffer.alloc(LOCAL_HEADER_SIZE + caps.maxNameBytes);
    await walkEntries(zip, file, (entry) => {
      const info = checkEntry(file, fd, entry, caps, header);
      if (entries.has(info.name))
        throw fail(file, 'APK_DUPLICATE_ENTRY', `entry ${shown(info.name)} appears twice`);
      declaredTotal += info.uncompressedSize;
      if (declaredTotal > caps.maxTotalBytes)
        throw fail(file, 'APK_TOO_LARGE', `entries declare more than ${caps.maxTotalBytes} bytes`);
      entries.set(info.name, info);
      // A data descriptor's length (12 to 24 bytes) is unknown without reading it, so the range
      // ends at the data; overlaps into a descriptor still fail the header checks of the next.
      ranges.push({
        start: info.localHeaderOffset,
        end: info.dataOffset + info.compressedSize,
        name: info.name,
      });
    });
    checkLayout(file, ranges, centralOffset);
    return new ApkZip(file, zip, entries, fd, size);
  } catch (e) {
    if (zip !== undefined) zip.close();
    else await opened.close();
    throw e;
  }
}

/** Entries must tile the space before the central directory without overlap, starting at 0. */
function checkLayout(
  file: string,
  ranges: Array<{ start: number; end: number; name: string }>,
  centralOffset: number,
): void {
  ranges.sort((a, b) => a.start - b.start);
  const first = ranges[0];
  if (first !== undefined && first.start !== 0)
    throw fail(
      file,
      'APK_PREPENDED_DATA',
      `${first.start} bytes precede the first local file header`,
    );
  if (first === undefined && centralOffset !== 0)
    throw fail(file, 'APK_PREPENDED_DATA', `${centralOffset} bytes precede the central directory`);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    if (cur.start < prev.end)
      throw fail(
        file,
        'APK_OVERLAPPING_ENTRIES',
        `entries ${shown(prev.name)} and ${shown(cur.name)} overlap`,
      );
  }
  const last = ranges[ranges.length - 1];
  if (last !== undefined && last.end > centralOffset)
    throw fail(
      file,
      'APK_OVERLAPPING_ENTRIES',
      `entry ${shown(last.name)} overlaps the central directory`,
    );
}

function checkEntry(
  file: string,
  fd: number,
  entry: yauzl.Entry,
  caps: ZipLimits,
  scratch: Buffer,
): ZipEntryInfo {
  const rawName = entry.fileName as unknown as Buffer;
  if (rawName.length > caps.maxNameBytes)
    throw fail(file, 'APK_UNSAFE_ENTRY_NAME', `entry name longer than ${caps.maxNameBytes} bytes`);
  let name: string;
  if (isAscii(rawName)) name = rawName.toString('latin1');
  else
    try {
      name = utf8.decode(rawName);
    } catch {
      throw fail(file, 'APK_UNSAFE_ENTRY_NAME', 'entry name is not valid UTF-8');
    }
  const unsafe = unsafeEntryName(name);
  if (unsafe !== null)
    throw fail(file, 'APK_UNSAFE_ENTRY_NAME', `unsafe entry name ${shown(name)}: ${unsafe}`);
  if (entry.generalPurposeBitFlag & FLAG_ENCRYPTED)
    throw fail(file, 'APK_UNSUPPORTED_ENTRY', `entry ${shown(name)} is encrypted`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
    throw fail(
      file,
      'APK_UNSUPPORTED_ENTRY',
      `entry ${shown(name)} uses compression method ${entry.compressionMethod}`,
    );
  if (entry.compressionMethod === 0 && entry.compressedSize !== entry.uncompressedSize)
    throw fail(file, 'APK_ZIP_INVALID', `stored entry ${shown(name)} has two different sizes`);
  if (entry.uncompressedSize > caps.maxEntryBytes)
    throw fail(
      file,
      'APK_TOO_LARGE',
      `entry ${shown(name)} declares ${entry.uncompressedSize} bytes, more than ${caps.maxEntryBytes}`,
    );
  if (
    entry.compressionMethod === 8 &&
    entry.uncompressedSize > caps.ratioFloorBytes &&
    entry.uncompressedSize > entry.compressedSize * caps.maxRatio
  )
    throw fail(
      file,
      'APK_TOO_LARGE',
      `entry ${shown(name)} compresses more than ${caps.maxRatio}:1 (a compression bomb?)`,
    );

  const offset = entry.relativeOffsetOfLocalHeader;
  // The local name must equal the central one, so one read covers the header and the name.
  const want = LOCAL_HEADER_SIZE + rawName.length;
  const header = scratch.subarray(0, readSync(fd, scratch, 0, want, offset));
  if (header.length < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE)
    throw fail(file, 'APK_HEADER_MISMATCH', `no local file header for ${shown(name)}`);
  const flags = header.readUInt16LE(6);
  const method = header.readUInt16LE(8);
  const crc = header.readUInt32LE(14);
  const compressed = header.readUInt32LE(18);
  const uncompressed = header.readUInt32LE(22);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const localName = header.subarray(LOCAL_HEADER_SIZE, LOCAL_HEADER_SIZE + nameLength);
  if (nameLength !== rawName.length || !localName.equals(rawName))
    throw fail(file, 'APK_HEADER_MISMATCH', `local header of ${shown(name)} names another file`);
  if (method !== entry.compressionMethod)
    throw fail(file, 'APK_HEADER_MISMATCH', `local header of ${shown(name)} has another method`);
  if ((flags & FLAG_DATA_DESCRIPTOR) === 0) {
    const sizesAgree =
      crc === entry.crc32 &&
      (compressed === ZIP64_MARKER || compressed === entry.compressedSize) &&
      (uncompressed === ZIP64_MARKER || uncompressed === entry.uncompressedSize);
    if (!sizesAgree)
      throw fail(
        file,
        'APK_HEADER_MISMATCH',
        `local header of ${shown(name)} disagrees with the central directory on size or CRC`,
      );
  }
  return {
    name,
    method: entry.compressionMethod,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    crc32: entry.crc32,
    localHeaderOffset: offset,
    dataOffset: offset + LOCAL_HEADER_SIZE + nameLength + extraLength,
  };
}
