import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  composeLayers,
  decodePng,
  encodePng,
  readPngHeader,
  solidImage,
} from '../../../../electron/core/apk/png.js';

const SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer, crc?: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc ?? crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, c]);
}

function ihdr(width: number, height: number, depth = 8, colorType = 6, interlace = 0): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = depth;
  d[9] = colorType;
  d[12] = interlace;
  return chunk('IHDR', d);
}

const iend = chunk('IEND', Buffer.alloc(0));

function png(parts: Buffer[]): Buffer {
  return Buffer.concat([SIG, ...parts]);
}

describe('PNG codec', () => {
  it('round-trips RGBA through encodePng/decodePng and reads the header', () => {
    const img = solidImage(3, 2, 0x80102030);
    const bytes = encodePng(img);
    expect(readPngHeader(bytes)).toEqual({
      width: 3,
      height: 2,
      bitDepth: 8,
      colorType: 6,
      interlaced: false,
    });
    const back = decodePng(bytes);
    expect(back.width).toBe(3);
    expect([...back.rgba.subarray(0, 4)]).toEqual([0x10, 0x20, 0x30, 0x80]);
  });

  it('decodes a 2-bit palette image with tRNS and every filter type', () => {
    // 4×5 pixels, 2 bits each: one byte per row; rows use filters 0..4.
    const plte = chunk('PLTE', Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]));
    const trns = chunk('tRNS', Buffer.from([255, 128]));
    const row = 0b00011011; // indices 0,1,2,3
    const raw = Buffer.from([0, row, 1, row, 2, 0, 3, row, 4, 0]);
    const bytes = png([ihdr(4, 5, 2, 3), plte, trns, chunk('IDAT', deflateSync(raw)), iend]);
    const img = decodePng(bytes);
    // Filter 2 (up) with 0 repeats the row above, so every row decodes to the same indices
    // except row 3 (average with a=left, b=up) which is checked only for being in range.
    expect([...img.rgba.subarray(0, 16)]).toEqual([
      255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255, 9, 9, 9, 255,
    ]);
    expect([...img.rgba.subarray(32, 48)]).toEqual([...img.rgba.subarray(0, 16)]);
  });

  it('decodes 16-bit gray+alpha and 8-bit RGB', () => {
    const ga = Buffer.from([0, 0xff, 0xff, 0x80, 0x00]);
    const img = decodePng(png([ihdr(1, 1, 16, 4), chunk('IDAT', deflateSync(ga)), iend]));
    expect([...img.rgba]).toEqual([255, 255, 255, 0x80]);
    const rgb = Buffer.from([0, 1, 2, 3]);
    expect([
      ...decodePng(png([ihdr(1, 1, 8, 2), chunk('IDAT', deflateSync(rgb)), iend])).rgba,
    ]).toEqual([1, 2, 3, 255]);
  });

  it('composes a layer over a color and crops the centre', () => {
    const fg = solidImage(4, 4, 0x00000000);
    fg.rgba.set([255, 255, 255, 255], (1 * 4 + 1) * 4);
    const out = composeLayers(solidImage(1, 1, 0xff0000ff), fg, 4, 4, 0.5);
    expect(out.width).toBe(2);
    expect([...out.rgba.subarray(0, 4)]).toEqual([255, 255, 255, 255]);
    expect([...out.rgba.subarray(4, 8)]).toEqual([0, 0, 255, 255]);
  });

  describe('refuses malformed PNGs with a reason', () => {
    const good = Buffer.from([0, 1, 2, 3, 4]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['text', Buffer.from('not a png at all'), /bad signature/],
      ['only the signature', SIG, /truncated/],
      ['IDAT before IHDR', png([chunk('IDAT', deflateSync(good)), iend]), /IHDR is not the first/],
      ['short IHDR', png([chunk('IHDR', Buffer.alloc(12)), iend]), /IHDR has the wrong length/],
      ['zero width', png([ihdr(0, 1), iend]), /zero width/],
      ['5000×5000', png([ihdr(5000, 5000), iend]), /larger than 4096/],
      ['65536×1 width over the cap', png([ihdr(0x7fffffff, 1), iend]), /larger than 4096/],
      ['color type 5', png([ihdr(1, 1, 8, 5), iend]), /unknown color type/],
      ['RGB at 4 bits', png([ihdr(1, 1, 4, 2), iend]), /bit depth 4 invalid/],
      [
        'bad CRC',
        png([ihdr(1, 1), chunk('IDAT', deflateSync(good), 1234), iend]),
        /CRC mismatch in IDAT/,
      ],
      [
        'chunk length past the end',
        Buffer.concat([SIG, ihdr(1, 1), Buffer.from([0x7f, 0, 0, 0]), Buffer.from('IDATxxxxxxxx')]),
        /runs past the end/,
      ],
      ['no IEND', png([ihdr(1, 1), chunk('IDAT', deflateSync(good))]), /truncated/],
      ['no IDAT', png([ihdr(1, 1), iend]), /no image data/],
      [
        'palette without PLTE',
        png([ihdr(1, 1, 8, 3), chunk('IDAT', deflateSync(Buffer.from([0, 0]))), iend]),
        /without PLTE/,
      ],
      [
        'not zlib',
        png([ihdr(1, 1), chunk('IDAT', Buffer.from('garbage')), iend]),
        /does not inflate/,
      ],
      [
        'more data than the dimensions (bomb)',
        png([ihdr(1, 1), chunk('IDAT', deflateSync(Buffer.alloc(10_000_000))), iend]),
        /inflates past its dimensions/,
      ],
      [
        'Adler-32 trailer wrong',
        (() => {
          const z = deflateSync(good);
          z.writeUInt32BE((z.readUInt32BE(z.length - 4) + 1) >>> 0, z.length - 4);
          return png([ihdr(1, 1), chunk('IDAT', z), iend]);
        })(),
        /does not inflate/,
      ],
      [
        'zlib stream cut short',
        png([ihdr(1, 1), chunk('IDAT', deflateSync(good).subarray(0, 6)), iend]),
        /does not inflate/,
      ],
      [
        'zlib header with a preset dictionary',
        png([ihdr(1, 1), chunk('IDAT', Buffer.from([0x78, 0xbb, 0, 0, 0, 1, 0, 0, 0, 1])), iend]),
        /does not inflate/,
      ],
      [
        'less data than the dimensions',
        png([ihdr(2, 2), chunk('IDAT', deflateSync(good)), iend]),
        /expected for its dimensions/,
      ],
      [
        'filter type 9',
        png([ihdr(1, 1), chunk('IDAT', deflateSync(Buffer.from([9, 1, 2, 3, 4]))), iend]),
        /unknown filter type 9/,
      ],
      [
        'palette index out of range',
        png([
          ihdr(1, 1, 8, 3),
          chunk('PLTE', Buffer.from([1, 2, 3])),
          chunk('IDAT', deflateSync(Buffer.from([0, 7]))),
          iend,
        ]),
        /palette index 7 out of range/,
      ],
      [
        'interlaced',
        png([ihdr(1, 1, 8, 6, 1), chunk('IDAT', deflateSync(good)), iend]),
        /interlaced/,
      ],
    ];
    for (const [name, bytes, re] of cases)
      it(name, () => {
        expect(() => decodePng(bytes)).toThrow(re);
        try {
          decodePng(bytes);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('APK_PNG_INVALID');
        }
      });
  });

  it('keeps memory bounded over 20,000 corrupt image streams (no leak per failed inflate)', () => {
    // Node 20's zlib.inflateSync keeps ~16 KiB per failure: 20,000 would hold ~310 MiB.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const corrupt = [
      png([ihdr(64, 64), chunk('IDAT', Buffer.from('not zlib at all')), iend]),
      png([ihdr(64, 64), chunk('IDAT', Buffer.from([0x78, 0x9c, 0xff, 0xff, 0, 0, 0, 0])), iend]),
      png([ihdr(64, 64), chunk('IDAT', deflateSync(Buffer.alloc(64 * 257)).subarray(0, 12)), iend]),
    ];
    const run = (n: number) => {
      for (let i = 0; i < n; i++)
        expect(() => decodePng(corrupt[i % corrupt.length]!)).toThrow(/does not inflate/);
    };
    run(1000);
    gc();
    const before = process.memoryUsage().arrayBuffers;
    run(20_000);
    gc();
    gc();
    // Freed backing stores are returned lazily, so some megabytes may still count; a leak of
    // even 3 KiB per failure (a fifth of zlib's) would exceed this bound.
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  }, 30_000);
});
