/**
 * A small `resources.arsc` writer for tests: one package, type chunks with a locale and density,
 * and plain (non-complex) entries.
 */
import { stringPool } from './axml-writer.js';

/** A value: Res_value dataType and data, or null for "no entry". */
export type WValue = { dataType: number; data: number } | null;

/** One type chunk: type id, configuration and entries in id order. */
export interface WType {
  typeId: number;
  lang?: string;
  country?: string;
  density?: number;
  entries: WValue[];
}

function chunk(type: number, headerSize: number, header: Buffer, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(type, 0);
  h.writeUInt16LE(headerSize, 2);
  h.writeUInt32LE(8 + header.length + body.length, 4);
  return Buffer.concat([h, header, body]);
}

/** A type chunk (0x0201) with a 64-byte configuration. */
export function typeChunk(t: WType): Buffer {
  const config = Buffer.alloc(64);
  config.writeUInt32LE(64, 0);
  if (t.lang !== undefined) config.write(t.lang, 8, 'latin1');
  if (t.country !== undefined) config.write(t.country, 10, 'latin1');
  config.writeUInt16LE(t.density ?? 0, 14);
  const offsets = Buffer.alloc(t.entries.length * 4);
  const bodies: Buffer[] = [];
  let off = 0;
  t.entries.forEach((e, i) => {
    if (e === null) {
      offsets.writeUInt32LE(0xffffffff, i * 4);
      return;
    }
    const b = Buffer.alloc(16);
    b.writeUInt16LE(8, 0);
    b.writeUInt32LE(i, 4);
    b.writeUInt16LE(8, 8);
    b.writeUInt8(e.dataType, 11);
    b.writeUInt32LE(e.data >>> 0, 12);
    offsets.writeUInt32LE(off, i * 4);
    off += b.length;
    bodies.push(b);
  });
  const header = Buffer.alloc(12);
  header.writeUInt8(t.typeId, 0);
  header.writeUInt32LE(t.entries.length, 4);
  header.writeUInt32LE(84 + offsets.length, 8);
  return chunk(0x0201, 84, Buffer.concat([header, config]), Buffer.concat([offsets, ...bodies]));
}

/** A whole table: global `strings`, package `pkgId` holding `types`. */
export function writeArsc(strings: string[], types: WType[], pkgId = 0x7f): Buffer {
  const typeNames = stringPool(['attr', 'drawable', 'string']);
  const keyNames = stringPool(['k']);
  const ph = Buffer.alloc(280);
  ph.writeUInt32LE(pkgId, 0);
  ph.write('org.example', 4, 'utf16le');
  ph.writeUInt32LE(288, 260);
  ph.writeUInt32LE(288 + typeNames.length, 268);
  const pkg = chunk(0x0200, 288, ph, Buffer.concat([typeNames, keyNames, ...types.map(typeChunk)]));
  const th = Buffer.alloc(4);
  th.writeUInt32LE(1, 0);
  return chunk(0x0002, 12, th, Buffer.concat([stringPool(strings, true), pkg]));
}
