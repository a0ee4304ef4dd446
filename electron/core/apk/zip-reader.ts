/**
 * The zip layer of the APK reader. yauzl parses the end of central directory and the central
 * directory; on top of it every entry is checked the way an installer must, because an APK is
 * hostile input and Android's own zip reader is the one that decides what gets installed:
 * duplicate names are refused (the "Master Key" class: two readers picking different copies),
 * names must be valid UTF-8 without `..`, a leading `/`, backslashes or control characters, each
 * local header must agree with its central entry, entries may not overlap each other or the
 * central directory or the APK Signing Block, nothing may precede the first local header,
 * and declared sizes and entry count are capped. There is one view of the zip: the end of
 * central directory record, the zip64 records (when present) and the central directory must
 * agree with each other and tile the end of the file (no "split view" where yauzl, aapt and
 * the signature verifier would each read another central directory), local headers, zip64 extra
 * fields and data descriptors must agree with the central entries. Reading counts inflated
 * bytes as they stream against a budget for the whole APK, so a bomb stops early.
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
  /** Where the central directory and its end records are (the one view signatures digest). */
  readonly geometry: ZipGeometry;
  private closed = false;
  /** Inflated bytes left in this APK's budget (see `ZipLimits.inflateBaseBytes`). */
  private budget: number;

  /** @internal use `openApkZip` */
  constructor(
    file: string,
    zip: yauzl.ZipFile,
    entries: Map<string, ZipEntryInfo>,
    fd: number,
    size: number,
    geometry: ZipGeometry,
    budget: number,
  ) {
    this.file = file;
    this.zip = zip;
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
        this.budget -= chunk.length;
        if (this.budget < 0)
          throw fail(
            this.file,
            'APK_TOO_LARGE',
            'reading the APK inflates more bytes than its budget (a compression bomb?)',
          );
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
    const geometry = readGeometry(file, fd, size);
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
    // there before the first readEntry(); it must be the one our own reading of the end
    // records found (one view), and after the walk it must stand at the directory's end.
    const cursor = (): unknown => (zip as unknown as { readEntryCursor?: unknown }).readEntryCursor;
    const centralOffset = cursor();
    if (typeof centralOffset !== 'number')
      throw new Error('yauzl no longer exposes the central directory offset (readEntryCursor)');
    if (centralOffset !== geometry.centralOffset || zip.entryCount !== geometry.count)
      throw fail(
        file,
        'APK_ZIP_INVALID',
        'the zip’s end records can be read two ways (split view)',
      );
    if (size - centralOffset <= MAX_CD_BUFFER) reader.preload(centralOffset, size);
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
      ranges.push({ start: info.localHeaderOffset, end: info.end, name: info.name });
    });
    if (cursor() !== geometry.centralOffset + geometry.cdSize)
      throw fail(
        file,
        'APK_ZIP_INVALID',
        'the central directory’s size disagrees with the entries it holds',
      );
    checkLayout(file, ranges, geometry.entriesEnd);
    const { centralOffset: c, eocdOffset, zip64, entriesEnd } = geometry;
    const budget = caps.inflateBaseBytes + caps.inflatePerFileByte * size;
    return new ApkZip(
      file,
      zip,
      entries,
      fd,
      size,
      { centralOffset: c, eocdOffset, zip64, entriesEnd },
      budget,
    );
  } catch (e) {
    if (zip !== undefined) zip.close();
    else await opened.close();
    throw e;
  }
}

/**
 * Reads the end records the way yauzl does (the last end of central directory signature, whose
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
      `entry ${shown(last.name)} overlaps the APK Signing Block or the central directory`,
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
