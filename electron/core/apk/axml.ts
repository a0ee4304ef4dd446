/**
 * Decoder of Android's binary XML (AXML, the compiled `AndroidManifest.xml`). The input is
 * hostile: every chunk's header size, size and 4-byte alignment are checked against its parent
 * before anything inside is read, string offsets must stay inside the pool, and the number of
 * strings, elements, attributes and the nesting depth are capped, so a crafted file fails fast
 * with `APK_AXML_INVALID` instead of looping or allocating without bound. The result is a small
 * element tree with typed attribute values; namespaces are resolved to URIs.
 */
import { ApkError } from './apk-errors.js';

/** Caps applied while decoding. */
export interface AxmlLimits {
  maxStrings: number;
  /** Longest string, in UTF-16 code units. */
  maxStringLength: number;
  maxElements: number;
  maxAttributesPerElement: number;
  maxAttributes: number;
  maxDepth: number;
}

/** Defaults well above any real manifest (the largest known have a few thousand elements). */
export const DEFAULT_AXML_LIMITS: Readonly<AxmlLimits> = Object.freeze({
  maxStrings: 65_536,
  maxStringLength: 32_768,
  maxElements: 65_536,
  maxAttributesPerElement: 256,
  maxAttributes: 262_144,
  maxDepth: 64,
});

/** A typed attribute value, as `Res_value` holds it. */
export type AxmlValue =
  | { type: 'string'; value: string }
  | { type: 'int'; value: number }
  | { type: 'bool'; value: boolean }
  /** A resource id (`@string/app_name` → 0x7f0b0001). */
  | { type: 'reference'; value: number }
  /** A theme attribute reference (`?attr/x`). */
  | { type: 'attribute'; value: number }
  /** Any other type: the raw `dataType` and 32-bit `data`. */
  | { type: 'other'; dataType: number; value: number };

/** One decoded attribute. */
export interface AxmlAttribute {
  /** Namespace URI, or '' when none. */
  readonly namespace: string;
  readonly name: string;
  /** Resource id of the attribute from the resource map (`android:name` = 0x01010003), if any. */
  readonly resourceId: number | undefined;
  readonly value: AxmlValue;
}

/** One decoded element. */
export interface AxmlElement {
  readonly namespace: string;
  readonly name: string;
  readonly attributes: readonly AxmlAttribute[];
  readonly children: readonly AxmlElement[];
}

const RES_STRING_POOL_TYPE = 0x0001;
const RES_XML_TYPE = 0x0003;
const RES_XML_START_NAMESPACE_TYPE = 0x0100;
const RES_XML_END_NAMESPACE_TYPE = 0x0101;
const RES_XML_START_ELEMENT_TYPE = 0x0102;
const RES_XML_END_ELEMENT_TYPE = 0x0103;
const RES_XML_CDATA_TYPE = 0x0104;
const RES_XML_RESOURCE_MAP_TYPE = 0x0180;
const UTF8_FLAG = 0x100;
const NO_INDEX = 0xffffffff;

function bad(message: string): ApkError {
  return new ApkError('APK_AXML_INVALID', `binary XML: ${message}`);
}

/** A checked chunk: type, header size and bounds inside the buffer. */
export interface Chunk {
  type: number;
  headerSize: number;
  start: number;
  end: number;
}

/** Reads and checks the chunk header at `offset`, which must fit inside `[offset, limit)`. */
export function readChunk(buf: Buffer, offset: number, limit: number): Chunk {
  if (offset % 4 !== 0) throw bad(`chunk at ${offset} is not 4-byte aligned`);
  if (limit - offset < 8) throw bad(`chunk header at ${offset} runs past the end`);
  const type = buf.readUInt16LE(offset);
  const headerSize = buf.readUInt16LE(offset + 2);
  const size = buf.readUInt32LE(offset + 4);
  if (headerSize < 8 || size < headerSize)
    throw bad(`chunk 0x${type.toString(16)} at ${offset} has size ${size}, header ${headerSize}`);
  if (size > limit - offset)
    throw bad(`chunk 0x${type.toString(16)} at ${offset} (size ${size}) runs past the end`);
  if (size % 4 !== 0 || headerSize % 4 !== 0)
    throw bad(`chunk 0x${type.toString(16)} at ${offset} has a size that is not 4-byte aligned`);
  return { type, headerSize, start: offset, end: offset + size };
}

/**
 * Where a string pool or resources table reads its bytes: a Buffer holding all of them, or a
 * source that reads a large table from the file as it is looked up.
 */
export interface ByteSource {
  readonly length: number;
  u8(at: number): number;
  u16(at: number): number;
  u32(at: number): number;
  text(encoding: 'utf8' | 'utf16le', from: number, to: number): string;
}

/** A `ByteSource` over bytes in memory. */
export function bufferSource(buf: Buffer): ByteSource {
  return {
    length: buf.length,
    u8: (at) => buf[at]!,
    u16: (at) => buf.readUInt16LE(at),
    u32: (at) => buf.readUInt32LE(at),
    text: (encoding, from, to) => buf.toString(encoding, from, to),
  };
}

/** A decoded string pool: strings are decoded lazily and checked on first use. */
export class StringPool {
  private readonly cache = new Map<number, string>();

  private constructor(
    private readonly src: ByteSource,
    private readonly offsets: number,
    readonly count: number,
    private readonly stringsStart: number,
    private readonly end: number,
    private readonly utf8: boolean,
    private readonly maxLength: number,
    private readonly fail: (message: string) => ApkError,
  ) {}

  /**
   * Checks a `RES_STRING_POOL_TYPE` chunk and returns a pool over it.
   * @param fail makes the error for a problem (default: `APK_AXML_INVALID`)
   * @throws ApkError for a pool whose counts or areas do not fit the chunk
   */
  static parse(
    buf: Buffer | ByteSource,
    chunk: Chunk,
    limits: AxmlLimits,
    fail: (message: string) => ApkError = bad,
  ): StringPool {
    const bad = fail;
    const src = Buffer.isBuffer(buf) ? bufferSource(buf) : buf;
    if (chunk.headerSize < 28) throw bad('string pool header too small');
    const h = chunk.start;
    const stringCount = src.u32(h + 8);
    const styleCount = src.u32(h + 12);
    const flags = src.u32(h + 16);
    const stringsStart = src.u32(h + 20);
    if (stringCount > limits.maxStrings)
      throw bad(`string pool holds ${stringCount} strings, more than ${limits.maxStrings}`);
    const offsets = h + chunk.headerSize;
    const indexEnd = offsets + (stringCount + styleCount) * 4;
    if (styleCount > limits.maxStrings || indexEnd > chunk.end)
      throw bad('string pool index runs past its chunk');
    if (stringCount > 0 && (stringsStart === 0 || h + stringsStart < indexEnd))
      throw bad('string pool data overlaps its index');
    if (h + stringsStart > chunk.end) throw bad('string pool data starts past its chunk');
    return new StringPool(
      src,
      offsets,
      stringCount,
      h + stringsStart,
      chunk.end,
      (flags & UTF8_FLAG) !== 0,
      limits.maxStringLength,
      fail,
    );
  }

  /** String `index`; throws `APK_AXML_INVALID` when the index or its bytes are out of the pool. */
  get(index: number): string {
    const hit = this.cache.get(index);
    if (hit !== undefined) return hit;
    if (index >= this.count)
      throw this.fail(`string index ${index} out of the pool (${this.count})`);
    const at = this.stringsStart + this.src.u32(this.offsets + index * 4);
    const s = this.utf8 ? this.readUtf8(at) : this.readUtf16(at);
    this.cache.set(index, s);
    return s;
  }

  /** String `index`, or '' for the "no string" index 0xFFFFFFFF. */
  optional(index: number): string {
    return index === NO_INDEX ? '' : this.get(index);
  }

  private need(at: number, n: number): void {
    if (at + n > this.end) throw this.fail('string runs past the string pool');
  }

  private readUtf8(at: number): string {
    let p = at;
    const len8 = (): number => {
      this.need(p, 1);
      let n = this.src.u8(p++);
      if (n & 0x80) {
        this.need(p, 1);
        n = ((n & 0x7f) << 8) | this.src.u8(p++);
      }
      return n;
    };
    const chars = len8();
    const bytes = len8();
    if (chars > this.maxLength) throw this.fail(`string longer than ${this.maxLength}`);
    this.need(p, bytes + 1);
    if (this.src.u8(p + bytes) !== 0) throw this.fail('string is not NUL-terminated');
    return this.src.text('utf8', p, p + bytes);
  }

  private readUtf16(at: number): string {
    let p = at;
    this.need(p, 2);
    let chars = this.src.u16(p);
    p += 2;
    if (chars & 0x8000) {
      this.need(p, 2);
      chars = ((chars & 0x7fff) << 16) | this.src.u16(p);
      p += 2;
    }
    if (chars > this.maxLength) throw this.fail(`string longer than ${this.maxLength}`);
    this.need(p, chars * 2 + 2);
    return this.src.text('utf16le', p, p + chars * 2);
  }
}

function typedValue(dataType: number, data: number, pool: StringPool): AxmlValue {
  switch (dataType) {
    case 0x01:
      return { type: 'reference', value: data >>> 0 };
    case 0x02:
      return { type: 'attribute', value: data >>> 0 };
    case 0x03:
      return { type: 'string', value: pool.get(data >>> 0) };
    case 0x10:
      return { type: 'int', value: data | 0 };
    case 0x11:
      return { type: 'int', value: data >>> 0 };
    case 0x12:
      return { type: 'bool', value: data !== 0 };
    default:
      return { type: 'other', dataType, value: data >>> 0 };
  }
}

interface MutableElement {
  namespace: string;
  name: string;
  attributes: AxmlAttribute[];
  children: MutableElement[];
}

/**
 * Decodes a binary XML document into its root element.
 * @param buf the whole document (for example `AndroidManifest.xml` from an APK)
 * @param limits caps (defaults `DEFAULT_AXML_LIMITS`)
 * @throws ApkError `APK_AXML_INVALID` naming the first problem found
 */
export function decodeAxml(buf: Buffer, limits: Partial<AxmlLimits> = {}): AxmlElement {
  const caps: AxmlLimits = { ...DEFAULT_AXML_LIMITS, ...limits };
  if (buf.length >= 5 && buf.toString('latin1', 0, 5) === '<?xml')
    throw bad('this is plain-text XML, not compiled binary XML');
  const doc = readChunk(buf, 0, buf.length);
  if (doc.type !== RES_XML_TYPE)
    throw bad(`not binary XML (first chunk type 0x${doc.type.toString(16)})`);
  let pool: StringPool | undefined;
  let resourceMap: Uint32Array = new Uint32Array(0);
  const stack: MutableElement[] = [];
  let root: MutableElement | undefined;
  let elements = 0;
  let attributes = 0;

  for (let at = doc.start + doc.headerSize; at < doc.end;) {
    const c = readChunk(buf, at, doc.end);
    at = c.end;
    if (c.type === RES_STRING_POOL_TYPE) {
      if (pool !== undefined) throw bad('two string pools');
      pool = StringPool.parse(buf, c, caps);
      continue;
    }
    if (c.type === RES_XML_RESOURCE_MAP_TYPE) {
      const n = (c.end - c.start - c.headerSize) / 4;
      if (n > caps.maxStrings) throw bad('resource map larger than the string cap');
      resourceMap = new Uint32Array(n);
      for (let i = 0; i < n; i++) resourceMap[i] = buf.readUInt32LE(c.start + c.headerSize + i * 4);
      continue;
    }
    if (c.type < RES_XML_START_NAMESPACE_TYPE || c.type > RES_XML_CDATA_TYPE) continue;
    if (pool === undefined) throw bad('XML node before the string pool');
    if (c.headerSize < 16) throw bad('XML node header too small');
    const ext = c.start + c.headerSize;
    switch (c.type) {
      // Elements and attributes carry their namespace URI themselves; prefixes are not needed.
      case RES_XML_START_NAMESPACE_TYPE:
      case RES_XML_END_NAMESPACE_TYPE:
      case RES_XML_CDATA_TYPE:
        break;
      case RES_XML_START_ELEMENT_TYPE: {
        if (c.end - ext < 20) throw bad('element node too small');
        if (stack.length >= caps.maxDepth)
          throw bad(`elements nested deeper than ${caps.maxDepth}`);
        if (++elements > caps.maxElements) throw bad(`more than ${caps.maxElements} elements`);
        const attrStart = buf.readUInt16LE(ext + 8);
        const attrSize = buf.readUInt16LE(ext + 10);
        const attrCount = buf.readUInt16LE(ext + 12);
        if (attrCount > caps.maxAttributesPerElement)
          throw bad(
            `element with ${attrCount} attributes, more than ${caps.maxAttributesPerElement}`,
          );
        attributes += attrCount;
        if (attributes > caps.maxAttributes)
          throw bad(`more than ${caps.maxAttributes} attributes in the document`);
        if (attrCount > 0 && attrSize < 20) throw bad('attribute record too small');
        if (ext + attrStart + attrCount * attrSize > c.end)
          throw bad('attributes run past their element node');
        const el: MutableElement = {
          namespace: pool.optional(buf.readUInt32LE(ext)),
          name: pool.get(buf.readUInt32LE(ext + 4)),
          attributes: [],
          children: [],
        };
        for (let i = 0; i < attrCount; i++) {
          const a = ext + attrStart + i * attrSize;
          const nameIndex = buf.readUInt32LE(a + 4);
          el.attributes.push({
            namespace: pool.optional(buf.readUInt32LE(a)),
            name: pool.get(nameIndex),
            resourceId: nameIndex < resourceMap.length ? resourceMap[nameIndex] : undefined,
            value: typedValue(buf[a + 15]!, buf.readUInt32LE(a + 16), pool),
          });
        }
        const parent = stack[stack.length - 1];
        if (parent !== undefined) parent.children.push(el);
        else if (root === undefined) root = el;
        else throw bad('more than one root element');
        stack.push(el);
        break;
      }
      case RES_XML_END_ELEMENT_TYPE: {
        if (stack.pop() === undefined) throw bad('end of an element that was never started');
        break;
      }
    }
  }
  if (root === undefined) throw bad('no root element');
  if (stack.length !== 0) throw bad('document ends inside an element');
  return root;
}
