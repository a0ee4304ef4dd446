import { describe, expect, it } from 'vitest';
import { ApkError } from '../../../../electron/core/apk/apk-errors.js';
import { ResourceTable } from '../../../../electron/core/apk/resources.js';
import { writeArsc, type WType } from './arsc-writer.js';

const STRING = 0x03;
const REF = 0x01;
const STR_TYPE = 3;
const DRAWABLE_TYPE = 2;

const types: WType[] = [
  {
    typeId: STR_TYPE,
    entries: [
      { dataType: STRING, data: 0 },
      { dataType: REF, data: 0x7f030000 },
    ],
  },
  { typeId: STR_TYPE, lang: 'fr', entries: [{ dataType: STRING, data: 1 }, null] },
  { typeId: STR_TYPE, lang: 'de', country: 'DE', entries: [{ dataType: STRING, data: 2 }] },
  { typeId: DRAWABLE_TYPE, density: 160, entries: [{ dataType: STRING, data: 3 }] },
  { typeId: DRAWABLE_TYPE, density: 480, entries: [{ dataType: STRING, data: 4 }] },
];
const strings = [
  'Hello',
  'Bonjour',
  'Hallo',
  'res/drawable-mdpi/i.png',
  'res/drawable-xxhdpi/i.png',
];

function refusal(buf: Buffer, why: RegExp, id = 0x7f030000): void {
  const started = Date.now();
  let err: unknown;
  try {
    ResourceTable.parse(buf).strings(id);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ApkError);
  expect((err as ApkError).code).toBe('APK_ARSC_INVALID');
  expect((err as ApkError).message).toMatch(why);
  expect(Date.now() - started).toBeLessThan(2000);
}

describe('ResourceTable', () => {
  const table = ResourceTable.parse(writeArsc(strings, types));

  it('resolves a string by locale', () => {
    expect(Object.fromEntries(table.strings(0x7f030000))).toEqual({
      '': 'Hello',
      fr: 'Bonjour',
      'de-DE': 'Hallo',
    });
  });

  it('follows a reference to another string', () => {
    expect(Object.fromEntries(table.strings(0x7f030001))).toEqual({
      '': 'Hello',
      fr: 'Bonjour',
      'de-DE': 'Hallo',
    });
  });

  it('lists file paths with densities, and nothing for unknown ids', () => {
    expect(table.files(0x7f020000)).toEqual([
      { path: 'res/drawable-mdpi/i.png', density: 160 },
      { path: 'res/drawable-xxhdpi/i.png', density: 480 },
    ]);
    expect(table.files(0x7f020005)).toEqual([]);
    expect(table.files(0x01020000)).toEqual([]);
  });

  it('gives no value for a reference cycle, as Android does, without refusing the table', () => {
    const loop = ResourceTable.parse(
      writeArsc(
        ['x'],
        [
          {
            typeId: STR_TYPE,
            entries: [
              { dataType: REF, data: 0x7f030001 },
              { dataType: REF, data: 0x7f030000 },
              { dataType: REF, data: 0x7f030002 },
            ],
          },
        ],
      ),
    );
    expect(loop.strings(0x7f030000).size).toBe(0);
    expect(loop.strings(0x7f030002).size).toBe(0);
  });

  it('follows a chain of 20 references and gives no value past 20 (Android’s depth)', () => {
    const chainOf = (hops: number): ResourceTable => {
      const entries = Array.from({ length: hops }, (_, i) => ({
        dataType: REF,
        data: 0x7f030000 + i + 1,
      }));
      return ResourceTable.parse(
        writeArsc(
          ['end'],
          [{ typeId: STR_TYPE, entries: [...entries, { dataType: STRING, data: 0 }] }],
        ),
      );
    };
    expect(Object.fromEntries(chainOf(20).strings(0x7f030000))).toEqual({ '': 'end' });
    expect(Object.fromEntries(chainOf(9).strings(0x7f030000))).toEqual({ '': 'end' });
    expect(chainOf(21).strings(0x7f030000).size).toBe(0);
  });

  it('refuses a reference fan-out past its work cap quickly', () => {
    // Every entry refers to the next one under 64 densities; a density-qualified reference
    // yields every density of its target again: 64^6 paths.
    const depth = 6;
    const densities = Array.from({ length: 64 }, (_, i) => ({
      typeId: STR_TYPE,
      density: 100 + i,
      entries: [
        ...Array.from({ length: depth }, (_, i) => ({ dataType: REF, data: 0x7f030000 + i + 1 })),
        { dataType: STRING, data: 0 },
      ],
    }));
    const fan = ResourceTable.parse(writeArsc(['x'], densities));
    const started = performance.now();
    expect(() => fan.strings(0x7f030000)).toThrow(/fan out too widely|too much work/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses a table that is not one, truncated, or with sizes past the end', () => {
    refusal(Buffer.from('<resources/>'), /not a resources table|past the end/);
    const good = writeArsc(strings, types);
    refusal(good.subarray(0, good.length - 8), /past the end/);
    const inner = Buffer.from(good);
    inner.writeUInt32LE(0x7ffffff0, 16);
    refusal(inner, /past the end/);
  });

  it('refuses an entry offset outside its type chunk and a string index outside the pool', () => {
    const one = writeArsc(['x'], [{ typeId: STR_TYPE, entries: [{ dataType: STRING, data: 0 }] }]);
    const typeAt = one.lastIndexOf(Buffer.from([0x01, 0x02, 84, 0]));
    const offAt = typeAt + 84;
    const far = Buffer.from(one);
    far.writeUInt32LE(0x10000, offAt);
    refusal(far, /runs past its type chunk/);
    const badString = Buffer.from(one);
    badString.writeUInt32LE(9, offAt + 4 + 12);
    refusal(badString, /string index 9 out of the pool/);
  });

  it('refuses entryCount that does not fit the chunk', () => {
    const one = writeArsc(['x'], [{ typeId: STR_TYPE, entries: [{ dataType: STRING, data: 0 }] }]);
    const typeAt = one.lastIndexOf(Buffer.from([0x01, 0x02, 84, 0]));
    const huge = Buffer.from(one);
    huge.writeUInt32LE(0xffffffff, typeAt + 12);
    refusal(huge, /entries run past the chunk/);
  });
});
