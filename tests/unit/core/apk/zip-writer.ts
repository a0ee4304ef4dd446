/**
 * A tiny zip writer for crafting well-formed and hostile zips in tests: every header field can
 * be overridden, entries can share local headers, and bytes can be prepended.
 */
import { deflateRawSync, crc32 } from 'node:zlib';

/** One entry to write. */
export interface CraftEntry {
  name: string | Buffer;
  data: Buffer;
  /** 0 stored (default), 8 deflate. */
  method?: number;
  /** Overrides in the local header. */
  local?: { name?: Buffer; method?: number; size?: number; crc?: number; flags?: number };
  /** Overrides in the central entry. */
  central?: { size?: number; compressedSize?: number; flags?: number; localIndex?: number };
}

/** Options of `craftZip`. */
export interface CraftOptions {
  /** Bytes written before the first local header. */
  prefix?: Buffer;
}

/** Builds a zip (no zip64) from `entries`. */
export function craftZip(entries: CraftEntry[], options: CraftOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    offset += b.length;
  };
  if (options.prefix !== undefined) push(options.prefix);
  const locals: Array<{ offset: number; comp: Buffer; crc: number; name: Buffer }> = [];
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const method = e.method ?? 0;
    const comp = method === 8 ? deflateRawSync(e.data) : e.data;
    const crc = crc32(e.data) >>> 0;
    const lname = e.local?.name ?? name;
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(e.local?.flags ?? 0x800, 6);
    h.writeUInt16LE(e.local?.method ?? method, 8);
    h.writeUInt32LE(e.local?.crc ?? crc, 14);
    h.writeUInt32LE(comp.length, 18);
    h.writeUInt32LE(e.local?.size ?? e.data.length, 22);
    h.writeUInt16LE(lname.length, 26);
    locals.push({ offset, comp, crc, name });
    push(Buffer.concat([h, lname, comp]));
  }
  const cdStart = offset;
  entries.forEach((e, i) => {
    const l = locals[i]!;
    const target = locals[e.central?.localIndex ?? i]!;
    const h = Buffer.alloc(46);
    h.writeUInt32LE(0x02014b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(20, 6);
    h.writeUInt16LE(e.central?.flags ?? 0x800, 8);
    h.writeUInt16LE(e.method ?? 0, 10);
    h.writeUInt32LE(l.crc, 16);
    h.writeUInt32LE(e.central?.compressedSize ?? l.comp.length, 20);
    h.writeUInt32LE(e.central?.size ?? e.data.length, 24);
    h.writeUInt16LE(l.name.length, 28);
    h.writeUInt32LE(target.offset, 42);
    push(Buffer.concat([h, l.name]));
  });
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(offset - cdStart, 12);
  eocd.writeUInt32LE(cdStart, 16);
  push(eocd);
  return Buffer.concat(parts);
}
