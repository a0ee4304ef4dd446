/**
 * The zip layer of the APK reader: its own parser of the end records and the central directory
 * (no second zip library with its own reading of them), checking every entry the way an
 * installer must, because an APK is hostile input and Android's own zip reader is the one that
 * decides what gets installed: duplicate names are refused (the "Master Key" class: two readers
 * picking different copies), names must be valid UTF-8 without `..`, a leading `/`, backslashes
 * or control characters, each local header must agree with its central entry, entries may not
 * overlap each other, the APK Signing Block or the central directory, nothing may precede the
 * first local header, and declared sizes and entry count are capped. There is one view of the
 * zip: the end of central directory record, the zip64 records (when present) and the central
 * directory must agree with each other and tile the end of the file (no "split view" where
 * aapt, Android and the signature verifier would each read another central directory), local
 * headers, zip64 extra fields and data descriptors must agree with the central entries.
 * Reading counts inflated bytes as they stream against a budget for the whole APK, so a bomb
 * stops early.
 */
import { closeSync, read as readFd, readSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createInflateRaw, crc32 } from 'node:zlib';
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
  /**
   * Budget of inflated bytes for all reads of one opened APK together (manifest, resources,
   * icons, v1 digests): `inflateBaseBytes` plus `inflatePerFileByte` × the file's size. A
   * per-entry ratio cap would refuse real APKs (a 4 MiB zero-filled asset deflates ~1000:1);
   * a budget on the total bounds the work a bomb can cause instead.
   */
  inflateBaseBytes: number;
  inflatePerFileByte: number;
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
  inflateBaseBytes: 256 * 1024 * 1024,
  inflatePerFileByte: 8,
  maxNameBytes: 1024,
  maxFileBytes: DEFAULT_MAX_APK_BYTES,
});

/** Where the zip's parts are, as checked (one view for parsing and signature digests). */
export interface ZipGeometry {
  /** Offset of the central directory. */
  centralOffset: number;
  /** Offset of the end of central directory record. */
  eocdOffset: number;
  /** True when the zip has zip64 end records (apksigner and Android refuse v2/v3 there). */
  zip64: boolean;
  /** Where the entries must end: the APK Signing Block's start, else the central directory. */
  entriesEnd: number;
}

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
  /** Offset just past the entry's data and data descriptor. */
  readonly end: number;
}

/** Options of `ApkZip.readEntry`. */
export interface ReadEntryOptions {
  /** Most bytes accepted after inflating (default: the entry's declared size). */
  maxBytes?: number;
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
const ZIP64_EXTRA_ID = 0x0001;
const SIGNING_BLOCK_MAGIC = Buffer.from('APK Sig Block 42', 'latin1');
const LOCAL_HEADER_SIZE = 30;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;
const ZIP64_MARKER = 0xffffffff;
const READ_CHUNK = 64 * 1024;
/** Where the end of central directory record is looked for (and a zip64 locator). */
const TAIL_BYTES = 22 + 0xffff + 20 + 56;
/** Most bytes of entry names in all (they are kept in memory: a budget, not per entry only). */
const MAX_TOTAL_NAME_BYTES = 6 * 1024 * 1024;

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

/** One central directory record, as read (sizes and offset after zip64 extras). */
interface CentralEntry {
  fileName: Buffer;
  generalPurposeBitFlag: number;
  compressionMethod: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  relativeOffsetOfLocalHeader: number;
}

const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_HEADER_SIZE = 46;
/** How much of a central directory too large to hold is read at a time. */
const CD_WINDOW = 1024 * 1024;

/**
 * An opened, fully checked APK zip. Obtain one with `openApkZip`; `close()` it when done (it
 * owns a file descriptor).
 */
export class ApkZip {
  /** Checked entries by name, in central directory order. */
  readonly entries: ReadonlyMap<string, ZipEntryInfo>;
  private readonly file: string;
  /** The open descriptor (valid until `close()`); for readers of the signing block. */
  readonly fd: number;
  /** File size at open time. */
  readonly size: number;
  /** Where the central directory and its end records are (the one view signatures digest). */
  readonly geometry: ZipGeometry;
  private closed = false;
  /** Inflated bytes left in this APK's budget (see `ZipLimits.inflateBaseBytes`). */
  private budget: number;

  /** @internal use `openApkZip` */
  constructor(
    file: string,
    entries: Map<string, ZipEntryInfo>,
    fd: number,
    size: number,
    geometry: ZipGeometry,
    budget: number,
  ) {
    this.file = file;
    this.entries = entries;
    this.fd = fd;
    this.size = size;
    this.geometry = geometry;
    this.budget = budget;
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
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
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
    if (this.closed) throw new Error('ApkZip used after close()');
    const info = this.entries.get(name);
    if (info === undefined) throw fail(this.file, 'APK_MISSING_ENTRY', `no entry ${shown(name)}`);
    const cap = Math.min(options.maxBytes ?? info.uncompressedSize, info.uncompressedSize);
    if (info.uncompressedSize > (options.maxBytes ?? info.uncompressedSize))
      throw fail(
        this.file,
        'APK_TOO_LARGE',
        `${shown(name)} declares ${info.uncompressedSize} bytes, more than the ${options.maxBytes} allowed`,
      );
    let total = 0;
    let crc = 0;
    const take = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > cap)
        throw fail(
          this.file,
          'APK_ZIP_INVALID',
          `${shown(name)} inflates to too many bytes for its declared size`,
        );
      this.budget -= chunk.length;
      if (this.budget < 0)
        throw fail(
          this.file,
          'APK_TOO_LARGE',
          'reading the APK inflates more bytes than its budget (a compression bomb?)',
        );
      crc = crc32(chunk, crc);
      onChunk(chunk);
    };
    const end = info.dataOffset + info.compressedSize;
    if (info.method === 0) {
      for (let at = info.dataOffset; at < end;) {
        const chunk = await this.read(at, Math.min(READ_CHUNK * 16, end - at));
        at += chunk.length;
        take(chunk);
      }
    } else {
      const inflate = createInflateRaw({ chunkSize: READ_CHUNK });
      const done = new Promise<void>((resolve, reject) => {
        inflate.on('data', (chunk: Buffer) => {
          try {
            take(chunk);
          } catch (e) {
            inflate.destroy(e as Error);
          }
        });
        inflate.on('end', resolve);
        inflate.on('error', reject);
      });
      const feed = async (): Promise<void> => {
        for (let at = info.dataOffset; at < end;) {
          const chunk = await this.read(at, Math.min(READ_CHUNK, end - at));
          at += chunk.length;
          if (inflate.destroyed) return;
          if (!inflate.write(chunk))
            await new Promise<void>((resolve) => {
              inflate.once('drain', resolve);
              inflate.once('close', resolve);
            });
        }
        inflate.end();
      };
      try {
        await Promise.all([feed(), done]);
      } catch (e) {
        inflate.destroy();
        if (e instanceof ApkError) throw e;
        throw fail(this.file, 'APK_ZIP_INVALID', `${shown(name)} does not inflate`, e);
      }
    }
    if (total !== info.uncompressedSize)
      throw fail(this.file, 'APK_ZIP_INVALID', `${shown(name)} has the wrong size`);
    if (crc >>> 0 !== info.crc32 >>> 0)
      throw fail(this.file, 'APK_ZIP_INVALID', `${shown(name)} fails its CRC-32 check`);
    return total;
  }

  private read(at: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    return new Promise((resolve, reject) =>
      readFd(this.fd, buf, 0, length, at, (err, n) => {
        if (err !== null) reject(err);
        else if (n === 0)
          reject(fail(this.file, 'APK_ZIP_INVALID', 'truncated zip: unexpected end of file'));
        else resolve(buf.subarray(0, n));
      }),
    );
  }

  /** Releases the file descriptor. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    return Promise.resolve();
  }
}

/**
 * A small positioned read. Synchronous on purpose: one local header per entry is a short pread
 * from the page cache, and a thread-pool round trip for each of 20,000 entries costs seconds;
 * the reader runs in its own process (`apk-worker-client.ts`), so this never blocks the app.
 */
function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const bytesRead = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

/**
 * Every record of the central directory `[offset, offset + size)`, read in windows so memory
 * stays flat for a huge directory. Each record's zip64 extra replaces the fields that hold the
 * zip64 marker; a record that runs past the directory, or a missing zip64 value, is refused.
 */
function* centralEntries(
  file: string,
  fd: number,
  offset: number,
  size: number,
  count: number,
): Generator<CentralEntry> {
  const end = offset + size;
  // One buffer, refilled in place: a record (and the view of its name) is used up before the
  // next one is read.
  let buffer = Buffer.allocUnsafe(Math.min(CD_WINDOW, Math.max(size, 1)));
  let windowLength = 0;
  let windowStart = offset;
  let at = offset;
  /** Makes `[at, at + n)` present in `buffer`; returns where it starts there. */
  const need = (n: number): number => {
    if (at + n > end)
      throw fail(file, 'APK_ZIP_INVALID', 'a central directory record runs past the directory');
    if (at + n > windowStart + windowLength) {
      const length = Math.min(end - at, Math.max(n, CD_WINDOW));
      if (length > buffer.length) buffer = Buffer.allocUnsafe(length);
      windowLength = readSync(fd, buffer, 0, length, at);
      windowStart = at;
      if (windowLength < n) throw fail(file, 'APK_ZIP_INVALID', 'truncated central directory');
    }
    return at - windowStart;
  };
  // One record object, refilled: each is used up before the next is read (fewer objects for
  // the collector in a directory of tens of thousands).
  const entry: CentralEntry = {
    fileName: buffer.subarray(0, 0),
    generalPurposeBitFlag: 0,
    compressionMethod: 0,
    crc32: 0,
    compressedSize: 0,
    uncompressedSize: 0,
    relativeOffsetOfLocalHeader: 0,
  };
  for (let n = 0; n < count; n++) {
    let h = need(CENTRAL_HEADER_SIZE);
    if (buffer.readUInt32LE(h) !== CENTRAL_SIGNATURE)
      throw fail(file, 'APK_ZIP_INVALID', 'invalid central directory record signature');
    const nameLength = buffer.readUInt16LE(h + 28);
    const extraLength = buffer.readUInt16LE(h + 30);
    const commentLength = buffer.readUInt16LE(h + 32);
    const recordLength = CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    h = need(recordLength);
    const disk = buffer.readUInt16LE(h + 34);
    entry.generalPurposeBitFlag = buffer.readUInt16LE(h + 8);
    entry.compressionMethod = buffer.readUInt16LE(h + 10);
    entry.crc32 = buffer.readUInt32LE(h + 16);
    entry.compressedSize = buffer.readUInt32LE(h + 20);
    entry.uncompressedSize = buffer.readUInt32LE(h + 24);
    entry.relativeOffsetOfLocalHeader = buffer.readUInt32LE(h + 42);
    // A view, not a copy: it is read before the next window replaces this one.
    const nameAt = h + CENTRAL_HEADER_SIZE;
    entry.fileName = buffer.subarray(nameAt, nameAt + nameLength);
    const extraAt = nameAt + nameLength;
    at += recordLength;
    if (
      entry.uncompressedSize === ZIP64_MARKER ||
      entry.compressedSize === ZIP64_MARKER ||
      entry.relativeOffsetOfLocalHeader === ZIP64_MARKER ||
      disk === 0xffff
    ) {
      const z64 = zip64Extra(buffer.subarray(extraAt, extraAt + extraLength));
      let i = 0;
      const wide = (what: string): number => {
        if (z64 === undefined || i + 8 > z64.length)
          throw fail(file, 'APK_ZIP_INVALID', `zip64 extra field lacks the ${what}`);
        const v = Number(z64.readBigUInt64LE(i));
        i += 8;
        return v;
      };
      if (entry.uncompressedSize === ZIP64_MARKER)
        entry.uncompressedSize = wide('uncompressed size');
      if (entry.compressedSize === ZIP64_MARKER) entry.compressedSize = wide('compressed size');
      if (entry.relativeOffsetOfLocalHeader === ZIP64_MARKER)
        entry.relativeOffsetOfLocalHeader = wide('local header offset');
      if (disk === 0xffff && (z64 === undefined || i + 4 > z64.length || z64.readUInt32LE(i) !== 0))
        throw fail(file, 'APK_ZIP_INVALID', 'multi-disk zip');
    } else if (disk !== 0) throw fail(file, 'APK_ZIP_INVALID', 'multi-disk zip');
    yield entry;
  }
  if (at !== end)
    throw fail(
      file,
      'APK_ZIP_INVALID',
      'the central directory’s size disagrees with the entries it holds',
    );
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
  try {
    const geometry = readGeometry(file, fd, size);
    if (geometry.count > caps.maxEntries)
      throw fail(file, 'APK_TOO_LARGE', `${geometry.count} entries, more than ${caps.maxEntries}`);
    const entries = new Map<string, ZipEntryInfo>();
    const ranges: ZipEntryInfo[] = [];
    let declaredTotal = 0;
    let nameBytes = 0;
    let count = 0;
    const header = Buffer.alloc(LOCAL_HEADER_SIZE + caps.maxNameBytes);
    for (const entry of centralEntries(
      file,
      fd,
      geometry.centralOffset,
      geometry.cdSize,
      geometry.count,
    )) {
      count++;
      nameBytes += entry.fileName.length;
      if (nameBytes > MAX_TOTAL_NAME_BYTES)
        throw fail(
          file,
          'APK_TOO_LARGE',
          `entry names take more than ${MAX_TOTAL_NAME_BYTES} bytes`,
        );
      const info = checkEntry(file, fd, entry, caps, header);
      if (entries.has(info.name))
        throw fail(file, 'APK_DUPLICATE_ENTRY', `entry ${shown(info.name)} appears twice`);
      declaredTotal += info.uncompressedSize;
      if (declaredTotal > caps.maxTotalBytes)
        throw fail(file, 'APK_TOO_LARGE', `entries declare more than ${caps.maxTotalBytes} bytes`);
      entries.set(info.name, info);
      ranges.push(info);
    }
    if (count !== geometry.count)
      throw fail(
        file,
        'APK_ZIP_INVALID',
        'the central directory’s size disagrees with the entries it holds',
      );
    checkLayout(file, ranges, geometry.entriesEnd);
    const { centralOffset, eocdOffset, zip64, entriesEnd } = geometry;
    const budget = caps.inflateBaseBytes + caps.inflatePerFileByte * size;
    return new ApkZip(
      file,
      entries,
      fd,
      size,
      { centralOffset, eocdOffset, zip64, entriesEnd },
      budget,
    );
  } catch (e) {
    await opened.close();
    throw e;
  }
}

/**
 * Reads the end records (the last end of central directory signature, whose
 * comment must reach exactly to the end of the file; a zip64 locator right before it) and
 * checks that they tell one story: classic fields equal the zip64 ones or hold the zip64
 * marker, the zip64 record is followed directly by its locator, and the central directory ends
 * exactly where the end records begin. Anything else is a zip that two readers would read
 * differently, and is refused.
 */
function readGeometry(
  file: string,
  fd: number,
  size: number,
): ZipGeometry & { cdSize: number; count: number } {
  const tailLength = Math.min(size, TAIL_BYTES);
  const tail = readAt(fd, size - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
      at = i;
      break;
    }
  if (at < 0) throw fail(file, 'APK_ZIP_INVALID', 'not a zip file, or truncated');
  const eocdOffset = size - tailLength + at;
  if (at + 22 + tail.readUInt16LE(at + 20) !== tail.length)
    throw fail(file, 'APK_ZIP_INVALID', 'bytes after the end of central directory record');
  const count16 = tail.readUInt16LE(at + 10);
  const size32 = tail.readUInt32LE(at + 12);
  const offset32 = tail.readUInt32LE(at + 16);
  if (
    tail.readUInt16LE(at + 4) !== 0 ||
    tail.readUInt16LE(at + 6) !== 0 ||
    tail.readUInt16LE(at + 8) !== count16
  )
    throw fail(file, 'APK_ZIP_INVALID', 'multi-disk zip');
  const zip64 = at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR_SIGNATURE;
  let count = count16;
  let cdSize = size32;
  let centralOffset = offset32;
  let recordsStart = eocdOffset;
  if (zip64) {
    const recordOffset = Number(tail.readBigUInt64LE(at - 20 + 8));
    if (tail.readUInt32LE(at - 20 + 4) !== 0 || tail.readUInt32LE(at - 20 + 16) > 1)
      throw fail(file, 'APK_ZIP_INVALID', 'multi-disk zip64');
    // A 64-bit offset from the file: it must leave room for the record before the locator (and
    // so be a valid read position) before it is read at.
    if (recordOffset + 56 > eocdOffset - 20)
      throw fail(file, 'APK_ZIP_INVALID', 'zip64 locator points at no zip64 end record');
    const record = readAt(fd, recordOffset, 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE)
      throw fail(file, 'APK_ZIP_INVALID', 'zip64 locator points at no zip64 end record');
    if (recordOffset + 12 + Number(record.readBigUInt64LE(4)) !== eocdOffset - 20)
      throw fail(
        file,
        'APK_ZIP_INVALID',
        'zip64 end record is not directly followed by its locator (split view)',
      );
    const count64 = Number(record.readBigUInt64LE(32));
    const size64 = Number(record.readBigUInt64LE(40));
    const offset64 = Number(record.readBigUInt64LE(48));
    if (Number(record.readBigUInt64LE(24)) !== count64)
      throw fail(file, 'APK_ZIP_INVALID', 'multi-disk zip64');
    const agrees = (classic: number, marker: number, wide: number): boolean =>
      classic === marker || classic === wide;
    if (
      !agrees(count16, 0xffff, count64) ||
      !agrees(size32, 0xffffffff, size64) ||
      !agrees(offset32, 0xffffffff, offset64)
    )
      throw fail(
        file,
        'APK_ZIP_INVALID',
        'the zip64 end record and the end of central directory record name different central directories (split view)',
      );
    count = count64;
    cdSize = size64;
    centralOffset = offset64;
    recordsStart = recordOffset;
  } else if (count16 === 0xffff || size32 === 0xffffffff || offset32 === 0xffffffff) {
    throw fail(file, 'APK_ZIP_INVALID', 'zip64 markers without zip64 end records');
  }
  if (centralOffset + cdSize !== recordsStart)
    throw fail(
      file,
      'APK_ZIP_INVALID',
      'the central directory does not end where its end record begins',
    );
  let entriesEnd = centralOffset;
  if (centralOffset >= 24) {
    const footer = readAt(fd, centralOffset - 24, 24);
    if (footer.length === 24 && footer.subarray(8).equals(SIGNING_BLOCK_MAGIC)) {
      const blockSize = Number(footer.readBigUInt64LE(0));
      if (blockSize >= 24 && blockSize + 8 <= centralOffset)
        entriesEnd = centralOffset - blockSize - 8;
    }
  }
  return { centralOffset, eocdOffset, zip64, entriesEnd, cdSize, count };
}

/** Entries must tile the space before the central directory without overlap, starting at 0. */
function checkLayout(file: string, ranges: ZipEntryInfo[], centralOffset: number): void {
  ranges.sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  const first = ranges[0];
  if (first !== undefined && first.localHeaderOffset !== 0)
    throw fail(
      file,
      'APK_PREPENDED_DATA',
      `${first.localHeaderOffset} bytes precede the first local file header`,
    );
  if (first === undefined && centralOffset !== 0)
    throw fail(file, 'APK_PREPENDED_DATA', `${centralOffset} bytes precede the central directory`);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    if (cur.localHeaderOffset < prev.end)
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
      `entry ${shown(last.name)} overlaps the APK Signing Block or the central directory`,
    );
}

function checkEntry(
  file: string,
  fd: number,
  entry: CentralEntry,
  caps: ZipLimits,
  scratch: Buffer,
): ZipEntryInfo {
  const rawName = entry.fileName;
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

  const offset = entry.relativeOffsetOfLocalHeader;
  // The local name must equal the central one, so one read covers the header and the name.
  const want = LOCAL_HEADER_SIZE + rawName.length;
  const header = scratch;
  const got = readSync(fd, scratch, 0, want, offset);
  if (got < want || header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE)
    throw fail(file, 'APK_HEADER_MISMATCH', `no local file header for ${shown(name)}`);
  const flags = header.readUInt16LE(6);
  const method = header.readUInt16LE(8);
  const crc = header.readUInt32LE(14);
  const compressed = header.readUInt32LE(18);
  const uncompressed = header.readUInt32LE(22);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  if (
    nameLength !== rawName.length ||
    header.compare(
      rawName,
      0,
      rawName.length,
      LOCAL_HEADER_SIZE,
      LOCAL_HEADER_SIZE + nameLength,
    ) !== 0
  )
    throw fail(file, 'APK_HEADER_MISMATCH', `local header of ${shown(name)} names another file`);
  if (method !== entry.compressionMethod)
    throw fail(file, 'APK_HEADER_MISMATCH', `local header of ${shown(name)} has another method`);
  const dataOffset = offset + LOCAL_HEADER_SIZE + nameLength + extraLength;
  const mismatch = (what: string): ApkError =>
    fail(
      file,
      'APK_HEADER_MISMATCH',
      `${what} of ${shown(name)} disagrees with the central directory on size or CRC`,
    );
  let end = dataOffset + entry.compressedSize;
  if ((flags & FLAG_DATA_DESCRIPTOR) === 0) {
    let localCompressed = compressed;
    let localUncompressed = uncompressed;
    if (compressed === ZIP64_MARKER || uncompressed === ZIP64_MARKER) {
      const extra = readAt(fd, offset + LOCAL_HEADER_SIZE + nameLength, extraLength);
      const z64 = zip64Extra(extra);
      let at = 0;
      const wide = (): number => {
        if (z64 === undefined || at + 8 > z64.length) throw mismatch('local zip64 extra field');
        const v = Number(z64.readBigUInt64LE(at));
        at += 8;
        return v;
      };
      if (uncompressed === ZIP64_MARKER) localUncompressed = wide();
      if (compressed === ZIP64_MARKER) localCompressed = wide();
    }
    if (
      crc !== entry.crc32 ||
      localCompressed !== entry.compressedSize ||
      localUncompressed !== entry.uncompressedSize
    )
      throw mismatch('local header');
  } else {
    // The descriptor follows the data: an optional signature, the CRC and both sizes (8 bytes
    // each for a zip64 entry). It must repeat what the central directory says.
    const wide = entry.compressedSize >= ZIP64_MARKER || entry.uncompressedSize >= ZIP64_MARKER;
    const d = readAt(fd, end, 24);
    const skip = d.length >= 4 && d.readUInt32LE(0) === DATA_DESCRIPTOR_SIGNATURE ? 4 : 0;
    const length = skip + (wide ? 20 : 12);
    if (d.length < length) throw mismatch('data descriptor');
    const dCrc = d.readUInt32LE(skip);
    const dCompressed = wide ? Number(d.readBigUInt64LE(skip + 4)) : d.readUInt32LE(skip + 4);
    const dUncompressed = wide ? Number(d.readBigUInt64LE(skip + 12)) : d.readUInt32LE(skip + 8);
    if (
      dCrc !== entry.crc32 ||
      dCompressed !== entry.compressedSize ||
      dUncompressed !== entry.uncompressedSize
    )
      throw mismatch('data descriptor');
    end += length;
  }
  return {
    name,
    method: entry.compressionMethod,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    crc32: entry.crc32,
    localHeaderOffset: offset,
    dataOffset,
    end,
  };
}

/** The data of the zip64 extended information extra field (id 1), if the extra has one. */
function zip64Extra(extra: Buffer): Buffer | undefined {
  for (let at = 0; at + 4 <= extra.length;) {
    const id = extra.readUInt16LE(at);
    const n = extra.readUInt16LE(at + 2);
    if (at + 4 + n > extra.length) return undefined;
    if (id === ZIP64_EXTRA_ID) return extra.subarray(at + 4, at + 4 + n);
    at += 4 + n;
  }
  return undefined;
}
