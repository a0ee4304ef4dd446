/**
 * Decoder of `resources.arsc`, only as far as the APK reader needs it: resolving a resource id
 * to its string values per locale (the app label) and to its file paths per screen density (the
 * icon). The table is hostile input like the manifest: every chunk is bounds- and
 * alignment-checked with the same reader as the binary XML, entry offsets must stay inside their
 * chunk, and counts are capped; problems are `APK_ARSC_INVALID`. References are followed as
 * Android follows them: up to 20 deep, a cycle or a chain past that gives no value (not a
 * refusal); the work one lookup may cost is capped, and past it the table is refused.
 */
import { ApkError } from './apk-errors.js';
import {
  bufferSource,
  DEFAULT_AXML_LIMITS,
  readChunk,
  StringPool,
  type AxmlLimits,
  type ByteSource,
} from './axml.js';

const RES_STRING_POOL_TYPE = 0x0001;
const RES_TABLE_TYPE = 0x0002;
const RES_TABLE_PACKAGE_TYPE = 0x0200;
const RES_TABLE_TYPE_TYPE = 0x0201;
const NO_ENTRY = 0xffffffff;
const FLAG_SPARSE = 0x01;
const FLAG_OFFSET16 = 0x02;
const ENTRY_FLAG_COMPLEX = 0x0001;
const ENTRY_FLAG_COMPACT = 0x0008;
const TYPE_REFERENCE = 0x01;
const TYPE_STRING = 0x03;
const TYPE_FIRST_COLOR = 0x1c;
const TYPE_LAST_COLOR = 0x1f;
/** `#rgb` and `#rrggbb` colors: opaque whatever the alpha bits say. */
const OPAQUE_COLOR_TYPES = new Set([0x1d, 0x1f]);
/** Android's AssetManager2 follows at most 20 references; past that a value does not resolve. */
export const MAX_REFERENCE_DEPTH = 20;
/** Most candidates visited while resolving one id (fan-out of references is multiplicative). */
const MAX_RESOLVE_STEPS = 10_000;
/** Most type chunks examined while resolving one id (each step looks at its type's chunks). */
const MAX_RESOLVE_WORK = 500_000;
const MAX_PACKAGES = 256;
const MAX_TYPE_CHUNKS = 65_536;

/** String pools in a resources table are far larger than in a manifest. */
const ARSC_POOL_LIMITS: AxmlLimits = {
  ...DEFAULT_AXML_LIMITS,
  maxStrings: 4 * 1024 * 1024,
  maxStringLength: 65_536,
};

function bad(message: string): ApkError {
  return new ApkError('APK_ARSC_INVALID', `resources.arsc: ${message}`);
}

/** The configuration of one value, reduced to what label and icon choice need. */
export interface ResourceConfig {
  /** BCP-47-ish locale (`fr`, `de-DE`), or '' for the default. */
  locale: string;
  /** Screen density in dpi; 0 for any/default, 0xfffe for anydpi, 0xffff for nodpi. */
  density: number;
}

/** One value of a resource under one configuration. */
export interface ResourceCandidate {
  config: ResourceConfig;
  /** Res_value dataType and data; strings are resolved. */
  value:
    | { type: 'string'; value: string }
    | { type: 'reference'; id: number }
    /** A color resource, as 0xAARRGGBB. */
    | { type: 'color'; argb: number }
    | { type: 'other' };
}

interface TypeChunk {
  start: number;
  end: number;
  entriesStart: number;
  entryCount: number;
  flags: number;
  offsetsAt: number;
  config: ResourceConfig;
}

function twoLetters(b0: number, b1: number, base: number): string {
  if (b0 === 0) return '';
  if ((b0 & 0x80) === 0) return String.fromCharCode(b0, b1);
  // Packed three-letter code: 5 bits each, first letter in the low bits of b1.
  const first = b1 & 0x1f;
  const second = ((b1 & 0xe0) >> 5) | ((b0 & 0x03) << 3);
  const third = (b0 & 0x7c) >> 2;
  return String.fromCharCode(first + base, second + base, third + base);
}

/**
 * A table read from the APK as it is looked up (memory follows what a lookup touches, not the
 * table's size): its bytes, and `peek`, a copy of a few bytes (for chunk headers, read once).
 */
export interface LazyTable {
  source: ByteSource;
  peek: (at: number, n: number) => Buffer;
}

/** A parsed resources table; resolve ids with `candidates`, `strings` and `files`. */
export class ResourceTable {
  private constructor(
    private readonly src: ByteSource,
    private readonly values: StringPool,
    /** package id → type id → chunks */
    private readonly types: Map<number, Map<number, TypeChunk[]>>,
  ) {}

  /**
   * Parses a table, checking every chunk header, pool and type chunk.
   * @param table the whole table in memory, or one read on demand (`LazyTable`)
   * @throws ApkError `APK_ARSC_INVALID`
   */
  static parse(table: Buffer | LazyTable): ResourceTable {
    const src = Buffer.isBuffer(table) ? bufferSource(table) : table.source;
    const peek = Buffer.isBuffer(table)
      ? (at: number, n: number): Buffer => table.subarray(at, at + n)
      : table.peek;
    let head;
    try {
      head = readChunk(peek(0, Math.min(12, src.length)), 0, src.length);
    } catch (e) {
      throw bad((e as Error).message.replace(/^binary XML: /, ''));
    }
    if (head.type !== RES_TABLE_TYPE || head.headerSize < 12) throw bad('not a resources table');
    let values: StringPool | undefined;
    const types = new Map<number, Map<number, TypeChunk[]>>();
    let typeChunks = 0;
    const chunk = (at: number, end: number): ReturnType<typeof readChunk> => {
      try {
        if (at % 4 !== 0) throw bad(`chunk at ${at} is not 4-byte aligned`);
        const c = readChunk(peek(at, Math.min(8, end - at)), 0, end - at);
        return { ...c, start: at, end: at + c.end };
      } catch (e) {
        throw bad((e as Error).message.replace(/^binary XML: /, ''));
      }
    };
    for (let at = head.start + head.headerSize; at < head.end;) {
      const c = chunk(at, head.end);
      at = c.end;
      if (c.type === RES_STRING_POOL_TYPE) {
        if (values !== undefined) throw bad('two global string pools');
        values = StringPool.parse(src, c, ARSC_POOL_LIMITS, bad);
      } else if (c.type === RES_TABLE_PACKAGE_TYPE) {
        if (types.size >= MAX_PACKAGES) throw bad('too many packages');
        if (c.headerSize < 284) throw bad('package header too small');
        const id = peek(c.start, 12).readUInt32LE(8);
        if (id > 0xff) throw bad(`package id ${id} out of range`);
        const byType = types.get(id) ?? new Map<number, TypeChunk[]>();
        types.set(id, byType);
        for (let p = c.start + c.headerSize; p < c.end;) {
          const t = chunk(p, c.end);
          p = t.end;
          if (t.type !== RES_TABLE_TYPE_TYPE) continue;
          if (++typeChunks > MAX_TYPE_CHUNKS) throw bad('too many type chunks');
          if (t.headerSize < 20 + 28) throw bad('type chunk header too small');
          const th = peek(t.start, t.headerSize);
          const typeId = th[8]!;
          const flags = th[9]!;
          const entryCount = th.readUInt32LE(12);
          const entriesStart = th.readUInt32LE(16);
          const cfgSize = th.readUInt32LE(20);
          if (cfgSize < 28 || 20 + cfgSize > t.headerSize) throw bad('type config size invalid');
          const offsetsAt = t.start + t.headerSize;
          // Sparse: (index u16, offset/4 u16) pairs; OFFSET16: offset/4 u16; else offset u32.
          const width = flags & FLAG_SPARSE ? 4 : flags & FLAG_OFFSET16 ? 2 : 4;
          if (
            entryCount > 0x10000 ||
            offsetsAt + entryCount * width > t.start + entriesStart ||
            t.start + entriesStart > t.end
          )
            throw bad('type chunk entries run past the chunk');
          const lang = twoLetters(th[28]!, th[29]!, 0x61);
          const country = twoLetters(th[30]!, th[31]!, 0x30);
          const list = byType.get(typeId) ?? [];
          byType.set(typeId, list);
          list.push({
            start: t.start,
            end: t.end,
            entriesStart: t.start + entriesStart,
            entryCount,
            flags,
            offsetsAt,
            config: {
              locale: lang === '' ? '' : country === '' ? lang : `${lang}-${country}`,
              density: th.readUInt16LE(34),
            },
          });
        }
      }
    }
    if (values === undefined) throw bad('no global string pool');
    return new ResourceTable(src, values, types);
  }

  /** Every value the table has for `id`, one per configuration (references not followed). */
  candidates(id: number): ResourceCandidate[] {
    const chunks = this.types.get(id >>> 24)?.get((id >>> 16) & 0xff) ?? [];
    const entry = id & 0xffff;
    const out: ResourceCandidate[] = [];
    for (const t of chunks) {
      const offset = this.entryOffset(t, entry);
      if (offset === undefined) continue;
      const at = t.entriesStart + offset;
      if (at + 8 > t.end) throw bad('entry runs past its type chunk');
      const size = this.src.u16(at);
      const flags = this.src.u16(at + 2);
      let dataType: number;
      let data: number;
      if (flags & ENTRY_FLAG_COMPACT) {
        dataType = flags >>> 8;
        data = this.src.u32(at + 4);
      } else {
        if (flags & ENTRY_FLAG_COMPLEX) {
          out.push({ config: t.config, value: { type: 'other' } });
          continue;
        }
        if (size < 8 || at + size + 8 > t.end) throw bad('entry value runs past its type chunk');
        dataType = this.src.u8(at + size + 3);
        data = this.src.u32(at + size + 4);
      }
      const value: ResourceCandidate['value'] =
        dataType === TYPE_STRING
          ? { type: 'string', value: this.values.get(data) }
          : dataType === TYPE_REFERENCE
            ? { type: 'reference', id: data >>> 0 }
            : dataType >= TYPE_FIRST_COLOR && dataType <= TYPE_LAST_COLOR
              ? {
                  type: 'color',
                  argb: (OPAQUE_COLOR_TYPES.has(dataType) ? data | 0xff000000 : data) >>> 0,
                }
              : { type: 'other' };
      out.push({ config: t.config, value });
    }
    return out;
  }

  private entryOffset(t: TypeChunk, entry: number): number | undefined {
    if (t.flags & FLAG_SPARSE) {
      // Sorted (index u16, offset/4 u16) pairs.
      let lo = 0;
      let hi = t.entryCount - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const idx = this.src.u16(t.offsetsAt + mid * 4);
        if (idx === entry) return this.src.u16(t.offsetsAt + mid * 4 + 2) * 4;
        if (idx < entry) lo = mid + 1;
        else hi = mid - 1;
      }
      return undefined;
    }
    if (entry >= t.entryCount) return undefined;
    if (t.flags & FLAG_OFFSET16) {
      const o = this.src.u16(t.offsetsAt + entry * 2);
      return o === 0xffff ? undefined : o * 4;
    }
    const o = this.src.u32(t.offsetsAt + entry * 4);
    return o === NO_ENTRY ? undefined : o;
  }

  /**
   * Follows references from `id` (bounded). A reference found under the default configuration
   * yields every configuration of its target; one found under a specific configuration yields
   * the target's value for that locale (or its default), reported under the referring config.
   */
  private resolved(id: number): ResourceCandidate[] {
    const out: ResourceCandidate[] = [];
    let steps = 0;
    let work = 0;
    const memo = new Map<number, ResourceCandidate[]>();
    const lookup = (rid: number): ResourceCandidate[] => {
      let found = memo.get(rid);
      if (found === undefined) {
        work += (this.types.get(rid >>> 24)?.get((rid >>> 16) & 0xff)?.length ?? 0) + 1;
        if (work > MAX_RESOLVE_WORK) throw bad('resolving a reference takes too much work');
        found = this.candidates(rid);
        memo.set(rid, found);
      }
      return found;
    };
    const chain = new Set<number>();
    const walk = (rid: number, depth: number, inherited: ResourceConfig | undefined): void => {
      // Past Android's depth, or back to an id already on this chain: no value, as on a device.
      if (depth > MAX_REFERENCE_DEPTH || chain.has(rid)) return;
      if (++steps > MAX_RESOLVE_STEPS) throw bad('references fan out too widely');
      let found = lookup(rid);
      if (inherited !== undefined) {
        const exact = found.filter((c) => c.config.locale === inherited.locale);
        found = exact.length > 0 ? exact : found.filter((c) => c.config.locale === '');
      }
      chain.add(rid);
      for (const c of found) {
        // Every candidate visited is work, leaves included: a fan-out ends in many leaves.
        if (++steps > MAX_RESOLVE_STEPS) throw bad('references fan out too widely');
        const config = inherited ?? c.config;
        const specific = config.locale !== '' || config.density !== 0;
        if (c.value.type === 'reference')
          walk(c.value.id, depth + 1, specific ? config : undefined);
        else out.push({ config, value: c.value });
      }
      chain.delete(rid);
    };
    walk(id, 0, undefined);
    return out;
  }

  /**
   * The string values of `id` by locale ('' = default), as a launcher shows the label.
   * Only values without a density qualifier or other locale variants are kept per locale.
   */
  strings(id: number): Map<string, string> {
    const byLocale = new Map<string, string>();
    for (const c of this.resolved(id))
      if (c.value.type === 'string' && !byLocale.has(c.config.locale))
        byLocale.set(c.config.locale, c.value.value);
    return byLocale;
  }

  /** The color value of `id` (0xAARRGGBB) for the default configuration, if it is a color. */
  color(id: number): number | undefined {
    let first: number | undefined;
    for (const c of this.resolved(id)) {
      if (c.value.type !== 'color') continue;
      if (c.config.locale === '' && c.config.density === 0) return c.value.argb;
      first ??= c.value.argb;
    }
    return first;
  }

  /** The file paths of `id` (a drawable or mipmap) with their densities. */
  files(id: number): Array<{ path: string; density: number }> {
    const out: Array<{ path: string; density: number }> = [];
    for (const c of this.resolved(id))
      if (c.value.type === 'string') out.push({ path: c.value.value, density: c.config.density });
    return out;
  }
}
