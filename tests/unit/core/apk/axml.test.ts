import { describe, expect, it } from 'vitest';
import { ApkError } from '../../../../electron/core/apk/apk-errors.js';
import { decodeAxml } from '../../../../electron/core/apk/axml.js';
import { ANDROID_NS, stringPool, writeAxml, type WElement } from './axml-writer.js';

const doc: WElement = {
  name: 'manifest',
  attrs: [
    { ns: ANDROID_NS, name: 'versionCode', resourceId: 0x0101021b, value: 42 },
    { name: 'package', value: 'org.example.app' },
  ],
  children: [
    {
      name: 'application',
      attrs: [
        { ns: ANDROID_NS, name: 'label', resourceId: 0x01010001, value: { ref: 0x7f0b0001 } },
        { ns: ANDROID_NS, name: 'debuggable', resourceId: 0x0101000f, value: false },
      ],
      children: [{ name: 'activity' }],
    },
  ],
};

function refusal(buf: Buffer, why: RegExp): void {
  const started = Date.now();
  let err: unknown;
  try {
    decodeAxml(buf);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ApkError);
  expect((err as ApkError).code).toBe('APK_AXML_INVALID');
  expect((err as ApkError).message).toMatch(why);
  expect(Date.now() - started).toBeLessThan(2000);
}

/** Wraps raw chunks in an RES_XML_TYPE document header. */
function docOf(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0x0003, 0);
  h.writeUInt16LE(8, 2);
  h.writeUInt32LE(8 + body.length, 4);
  return Buffer.concat([h, body]);
}

describe('decodeAxml', () => {
  it.each([false, true])('decodes elements and typed attributes (utf8 pool: %s)', (utf8) => {
    const root = decodeAxml(writeAxml(doc, { utf8 }));
    expect(root.name).toBe('manifest');
    expect(root.attributes).toEqual([
      {
        namespace: ANDROID_NS,
        name: 'versionCode',
        resourceId: 0x0101021b,
        value: { type: 'int', value: 42 },
      },
      {
        namespace: '',
        name: 'package',
        resourceId: undefined,
        value: { type: 'string', value: 'org.example.app' },
      },
    ]);
    const app = root.children[0]!;
    expect(app.attributes.map((a) => a.value)).toEqual([
      { type: 'reference', value: 0x7f0b0001 },
      { type: 'bool', value: false },
    ]);
    expect(app.children.map((c) => c.name)).toEqual(['activity']);
  });

  it('refuses plain-text XML', () => {
    refusal(Buffer.from('<?xml version="1.0"?><manifest/>'), /plain-text XML/);
    refusal(Buffer.from('<manifest package="x"/>'), /not binary XML|past the end/);
  });

  it('refuses a 16-byte document with a zero-size chunk, fast', () => {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(0x0003, 0);
    b.writeUInt16LE(8, 2);
    b.writeUInt32LE(16, 4);
    // The inner chunk at 8 declares size 0: a reader that advances by size loops forever.
    b.writeUInt16LE(0x0102, 8);
    b.writeUInt16LE(0, 10);
    refusal(b, /size 0/);
    const zeroDoc = Buffer.alloc(16);
    zeroDoc.writeUInt16LE(0x0003, 0);
    zeroDoc.writeUInt16LE(8, 2);
    refusal(zeroDoc, /size 0/);
  });

  it('refuses chunk sizes past the end and unaligned sizes', () => {
    const good = writeAxml(doc);
    const past = Buffer.from(good);
    past.writeUInt32LE(good.length + 100, 4);
    refusal(past, /runs past the end/);
    const inner = Buffer.from(good);
    inner.writeUInt32LE(0x7ffffff0, 12);
    refusal(inner, /runs past the end/);
    const odd = Buffer.from(good);
    odd.writeUInt32LE(good.length - 2, 4);
    refusal(odd.subarray(0, good.length - 2), /aligned/);
    refusal(good.subarray(0, 6), /past the end/);
  });

  it('refuses stringCount 0xFFFFFFFF', () => {
    const pool = stringPool(['a', 'b']);
    pool.writeUInt32LE(0xffffffff, 8);
    refusal(docOf(pool), /4294967295 strings/);
  });

  it('refuses string offsets out of the pool and indexes out of range', () => {
    const pool = stringPool(['manifest']);
    pool.writeUInt32LE(0x00fffff0, 28);
    // lineNumber, comment, then the element: ns none, name 0, attributes at 20, size 20, none.
    const start = Buffer.alloc(28);
    start.writeUInt32LE(1, 0);
    start.writeUInt32LE(0xffffffff, 4);
    start.writeUInt32LE(0xffffffff, 8);
    start.writeUInt32LE(0, 12);
    start.writeUInt16LE(20, 16);
    start.writeUInt16LE(20, 18);
    const el = Buffer.alloc(8);
    el.writeUInt16LE(0x0102, 0);
    el.writeUInt16LE(16, 2);
    el.writeUInt32LE(36, 4);
    const elementNode = Buffer.concat([el, start]);
    refusal(docOf(pool, elementNode), /past the string pool/);
    const okPool = stringPool(['manifest']);
    const badIndex = Buffer.from(elementNode);
    badIndex.writeUInt32LE(7, 8 + 8 + 4);
    refusal(docOf(okPool, badIndex), /string index 7 out of the pool/);
  });

  it('refuses nesting 10^5 deep within the depth cap, fast', () => {
    refusal(nestedDoc(100_000), /nested deeper than 64/);
  });

  it('refuses 10^6 attributes: per element and per document', () => {
    refusal(manyAttributes(1, 0xffff), /65535 attributes/);
    refusal(manyAttributes(4000, 250, true), /more than 262144 attributes/);
  });

  it('refuses a node before the string pool, two roots and unbalanced ends', () => {
    const good = writeAxml(doc);
    const poolSize = good.readUInt32LE(8 + 4);
    const afterPool = good.subarray(8 + poolSize);
    refusal(docOf(afterPool), /before the string pool/);
    const body = good.subarray(8);
    const stripEnd = body.subarray(0, body.length - 24);
    refusal(docOf(stripEnd), /ends inside an element/);
  });
});

/** A document of `depth` nested `x` elements, built flat. */
function nestedDoc(depth: number): Buffer {
  const pool = stringPool(['x']);
  const start = Buffer.alloc(36);
  start.writeUInt16LE(0x0102, 0);
  start.writeUInt16LE(16, 2);
  start.writeUInt32LE(36, 4);
  start.writeUInt32LE(0xffffffff, 16);
  start.writeUInt32LE(0, 20);
  start.writeUInt16LE(20, 24);
  start.writeUInt16LE(20, 26);
  return docOf(pool, Buffer.concat(Array.from({ length: depth }, () => start)));
}

/** `elements` sibling elements under one root, each declaring `perElement` attributes. */
function manyAttributes(elements: number, perElement: number, withData = false): Buffer {
  const pool = stringPool(['x']);
  const attrBytes = withData ? perElement * 20 : 0;
  const start = Buffer.alloc(36 + attrBytes);
  start.writeUInt16LE(0x0102, 0);
  start.writeUInt16LE(16, 2);
  start.writeUInt32LE(36 + attrBytes, 4);
  start.writeUInt32LE(0xffffffff, 16);
  start.writeUInt32LE(0, 20);
  start.writeUInt16LE(20, 24);
  start.writeUInt16LE(20, 26);
  start.writeUInt16LE(perElement, 28);
  for (let i = 0; i < perElement && withData; i++) {
    const p = 36 + i * 20;
    start.writeUInt32LE(0xffffffff, p);
    start.writeUInt32LE(0, p + 4);
    start.writeUInt16LE(8, p + 12);
    start.writeUInt8(0x10, p + 15);
  }
  const end = Buffer.alloc(24);
  end.writeUInt16LE(0x0103, 0);
  end.writeUInt16LE(16, 2);
  end.writeUInt32LE(24, 4);
  const root = Buffer.from(start.subarray(0, 36));
  root.writeUInt32LE(36, 4);
  root.writeUInt16LE(0, 28);
  const parts = [pool, root];
  for (let i = 0; i < elements; i++) parts.push(start, end);
  return docOf(...parts);
}
