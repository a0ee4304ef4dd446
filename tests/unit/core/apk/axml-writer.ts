/**
 * A small binary XML (AXML) writer for tests: builds well-formed documents from a tree, and
 * exposes the chunk pieces so tests can corrupt them.
 */

/** An attribute to write; `value` picks the Res_value type. */
export interface WAttr {
  ns?: string;
  name: string;
  resourceId?: number;
  value: string | number | boolean | { ref: number };
}

/** An element to write. */
export interface WElement {
  ns?: string;
  name: string;
  attrs?: WAttr[];
  children?: WElement[];
}

export const ANDROID_NS = 'http://schemas.android.com/apk/res/android';

function chunk(type: number, headerSize: number, header: Buffer, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(type, 0);
  h.writeUInt16LE(headerSize, 2);
  h.writeUInt32LE(8 + header.length + body.length, 4);
  return Buffer.concat([h, header, body]);
}

function pad4(b: Buffer): Buffer {
  const rest = (4 - (b.length % 4)) % 4;
  return rest === 0 ? b : Buffer.concat([b, Buffer.alloc(rest)]);
}

/** A string pool chunk holding `strings` (UTF-16 unless `utf8`). */
export function stringPool(strings: string[], utf8 = false): Buffer {
  const datas: Buffer[] = [];
  const offsets = Buffer.alloc(strings.length * 4);
  let off = 0;
  strings.forEach((s, i) => {
    let d: Buffer;
    if (utf8) {
      const bytes = Buffer.from(s, 'utf8');
      d = Buffer.concat([Buffer.from([s.length, bytes.length]), bytes, Buffer.from([0])]);
    } else {
      const len = Buffer.alloc(2);
      len.writeUInt16LE(s.length);
      d = Buffer.concat([len, Buffer.from(s, 'utf16le'), Buffer.alloc(2)]);
    }
    offsets.writeUInt32LE(off, i * 4);
    off += d.length;
    datas.push(d);
  });
  const header = Buffer.alloc(20);
  header.writeUInt32LE(strings.length, 0);
  header.writeUInt32LE(0, 4);
  header.writeUInt32LE(utf8 ? 0x100 : 0, 8);
  header.writeUInt32LE(28 + offsets.length, 12);
  header.writeUInt32LE(0, 16);
  return chunk(0x0001, 28, header, pad4(Buffer.concat([offsets, ...datas])));
}

function node(type: number, ext: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(1, 0);
  h.writeUInt32LE(0xffffffff, 4);
  return chunk(type, 16, h, ext);
}

/** Builds a complete AXML document for `root`. */
export function writeAxml(root: WElement, options: { utf8?: boolean } = {}): Buffer {
  // Attribute names with resource ids come first, in resource map order, as aapt writes them.
  const withIds: WAttr[] = [];
  const walk = (e: WElement, f: (e: WElement) => void): void => {
    f(e);
    e.children?.forEach((c) => walk(c, f));
  };
  walk(root, (e) => e.attrs?.forEach((a) => a.resourceId !== undefined && withIds.push(a)));
  const strings: string[] = [];
  const ids: number[] = [];
  for (const a of withIds) {
    if (!strings.includes(a.name)) {
      strings.push(a.name);
      ids.push(a.resourceId!);
    }
  }
  const idx = (s: string): number => {
    let i = strings.indexOf(s);
    if (i < 0) i = strings.push(s) - 1;
    return i;
  };
  const nodes: Buffer[] = [];
  const nsIdx = (ns: string | undefined): number => (ns === undefined ? 0xffffffff : idx(ns));
  const emit = (e: WElement): void => {
    const attrs = e.attrs ?? [];
    const ext = Buffer.alloc(20 + attrs.length * 20);
    ext.writeUInt32LE(nsIdx(e.ns), 0);
    ext.writeUInt32LE(idx(e.name), 4);
    ext.writeUInt16LE(20, 8);
    ext.writeUInt16LE(20, 10);
    ext.writeUInt16LE(attrs.length, 12);
    attrs.forEach((a, i) => {
      const p = 20 + i * 20;
      ext.writeUInt32LE(nsIdx(a.ns), p);
      ext.writeUInt32LE(idx(a.name), p + 4);
      ext.writeUInt16LE(8, p + 12);
      let type: number;
      let data: number;
      if (typeof a.value === 'string') {
        type = 0x03;
        data = idx(a.value);
        ext.writeUInt32LE(data, p + 8);
      } else {
        ext.writeUInt32LE(0xffffffff, p + 8);
        if (typeof a.value === 'number') [type, data] = [0x10, a.value];
        else if (typeof a.value === 'boolean') [type, data] = [0x12, a.value ? 0xffffffff : 0];
        else [type, data] = [0x01, a.value.ref];
      }
      ext.writeUInt8(type, p + 15);
      ext.writeInt32LE(data | 0, p + 16);
    });
    nodes.push(node(0x0102, ext));
    e.children?.forEach(emit);
    const end = Buffer.alloc(8);
    end.writeUInt32LE(nsIdx(e.ns), 0);
    end.writeUInt32LE(idx(e.name), 4);
    nodes.push(node(0x0103, end));
  };
  emit(root);
  const map = Buffer.alloc(ids.length * 4);
  ids.forEach((id, i) => map.writeUInt32LE(id, i * 4));
  const body = Buffer.concat([
    stringPool(strings, options.utf8 ?? false),
    chunk(0x0180, 8, Buffer.alloc(0), map),
    ...nodes,
  ]);
  return chunk(0x0003, 8, Buffer.alloc(0), body);
}
