/**
 * A small, checked PNG codec for APK icons: reading the header (dimensions for the icon list),
 * decoding to 8-bit RGBA (to compose adaptive icon layers) and encoding RGBA back to PNG. Icons
 * come from untrusted APKs, so every chunk length, CRC and the IHDR fields are checked, the
 * image is capped at 4096 × 4096, and the inflated data must be exactly the size the header
 * implies (inflating stops past it, so a small IDAT cannot expand into a bomb).
 * Interlaced (Adam7) images are read for their header but not decoded.
 *
 * Image data is inflated with fflate, not node's zlib: in Node 20 every `inflateSync` that fails
 * keeps about 16 KiB alive for the life of the process, and corrupt icons are an attacker's
 * choice (100,000 of them would hold 1.5 GiB of the APK worker). Loading fflate costs the APK
 * reader's start about 10 ms, so all but the decoder lives in `png-core.ts`, which the reader
 * loads with every APK; it loads this module only to decode an icon's layers.
 */
import { Unzlib } from 'fflate';
import {
  bad,
  chunks,
  COLOR_TYPES,
  MAX_PNG_BYTES,
  parseHeader,
  type Chunk,
  type RgbaImage,
} from './png-core.js';

export {
  composeLayers,
  encodePng,
  MAX_PNG_BYTES,
  MAX_PNG_PIXELS,
  readPngHeader,
  solidImage,
  type PngHeader,
  type RgbaImage,
} from './png-core.js';

/**
 * Largest width × height `decodePng` decodes by default (1024²: about 12 MiB while decoding).
 * Launchers draw icons at a few hundred pixels; a bigger layer only costs memory.
 */
export const MAX_DECODE_PIXELS = 1024 * 1024;
/**
 * Compressed bytes given to the inflater per step; deflate expands at most about 1032×, so one
 * step yields a few MiB at most before the output cap is checked again.
 */
const INFLATE_STEP = 4096;

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Adler-32 of `data` (the zlib stream's trailer). */
function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552: the most bytes summed before b can pass 2^32 (zlib's NMAX).
  for (let at = 0; at < data.length; at += 5552) {
    const end = Math.min(at + 5552, data.length);
    for (let i = at; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * Inflates a zlib stream of image data that must come to `expected` bytes: stops as soon as the
 * output passes that, and checks the stream's Adler-32.
 * @throws ApkError `APK_PNG_INVALID` for a corrupt stream or one past `expected` bytes
 */
function inflateImageData(data: Buffer, expected: number): Buffer {
  const corrupt = () => bad('image data does not inflate (corrupt zlib stream)');
  if (data.length < 6) throw corrupt();
  const out = Buffer.alloc(expected);
  let length = 0;
  let over = false;
  const inflater = new Unzlib((chunk) => {
    if (over || length + chunk.length > expected) {
      over = true;
      return;
    }
    out.set(chunk, length);
    length += chunk.length;
  });
  try {
    for (let at = 0; at < data.length && !over; at += INFLATE_STEP) {
      const end = Math.min(at + INFLATE_STEP, data.length);
      inflater.push(data.subarray(at, end), end === data.length);
    }
  } catch {
    throw corrupt();
  }
  if (over) throw bad('image data inflates past its dimensions');
  if (adler32(out.subarray(0, length)) !== data.readUInt32BE(data.length - 4)) throw corrupt();
  return length === expected ? out : out.subarray(0, length);
}

/**
 * Decodes a PNG to 8-bit RGBA: every chunk checked (CRC, lengths, order), palette and tRNS
 * applied, 16-bit samples reduced to 8.
 * @param maxPixels most width × height decoded (default `MAX_DECODE_PIXELS`)
 * @throws ApkError `APK_PNG_INVALID` when malformed, interlaced or over the caps
 */
export function decodePng(buf: Buffer, maxPixels = MAX_DECODE_PIXELS): RgbaImage {
  const it = chunks(buf);
  const header = parseHeader(it.next().value as Chunk | undefined);
  const { width, height, bitDepth, colorType } = header;
  // Checked before a byte is inflated: the decoded image is what costs memory.
  if (width * height > maxPixels)
    throw bad(`${width}×${height} is more than the ${maxPixels} pixels decoded for an icon`);
  if (header.interlaced) throw bad('interlaced images are not supported');
  let palette: Buffer | undefined;
  let trns: Buffer | undefined;
  const idat: Buffer[] = [];
  let idatBytes = 0;
  let ended = false;
  for (const c of it) {
    if (c.type === 'IHDR') throw bad('second IHDR');
    else if (c.type === 'PLTE') {
      if (palette !== undefined || idat.length > 0) throw bad('misplaced PLTE');
      if (c.data.length === 0 || c.data.length % 3 !== 0 || c.data.length / 3 > 256)
        throw bad('PLTE has an invalid length');
      palette = c.data;
    } else if (c.type === 'tRNS') trns = c.data;
    else if (c.type === 'IDAT') {
      idatBytes += c.data.length;
      if (idatBytes > MAX_PNG_BYTES) throw bad('image data too large');
      idat.push(c.data);
    } else if (c.type === 'IEND') ended = true;
  }
  if (!ended) throw bad('truncated (no IEND)');
  if (idat.length === 0) throw bad('no image data (IDAT)');
  if (colorType === 3 && palette === undefined) throw bad('palette image without PLTE');

  const channels = COLOR_TYPES.get(colorType)!.channels;
  const bitsPerPixel = channels * bitDepth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const expected = (stride + 1) * height;
  const raw = inflateImageData(Buffer.concat(idat, idatBytes), expected);
  if (raw.length !== expected)
    throw bad(`image data is ${raw.length} bytes, ${expected} expected for its dimensions`);

  // Unfilter in place, row by row.
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    if (filter > 4) throw bad(`unknown filter type ${filter} in row ${y}`);
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride;
    if (filter === 0 || (filter === 2 && y === 0)) {
      raw.copy(rows, dst, src, src + stride);
      continue;
    }
    if (filter === 2) {
      for (let x = 0; x < stride; x++) rows[dst + x] = raw[src + x]! + rows[up + x]!;
      continue;
    }
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? rows[dst + x - bpp]! : 0;
      const b = y > 0 ? rows[up + x]! : 0;
      const c = y > 0 && x >= bpp ? rows[up + x - bpp]! : 0;
      const v = raw[src + x]!;
      rows[dst + x] = filter === 1 ? v + a : filter === 3 ? v + ((a + b) >> 1) : v + paeth(a, b, c);
    }
  }
  // The common icon format: 8-bit RGBA rows are already the output.
  if (colorType === 6 && bitDepth === 8)
    return { width, height, rgba: new Uint8Array(rows.buffer, rows.byteOffset, rows.length) };

  const out = new Uint8Array(width * height * 4);
  const sample = (row: number, index: number): number => {
    // The index-th sample of a row, scaled to 8 bits.
    if (bitDepth === 8) return rows[row + index]!;
    if (bitDepth === 16) return rows[row + index * 2]!;
    const perByte = 8 / bitDepth;
    const byte = rows[row + Math.floor(index / perByte)]!;
    const shift = 8 - bitDepth * ((index % perByte) + 1);
    const v = (byte >> shift) & ((1 << bitDepth) - 1);
    return colorType === 3 ? v : Math.round((v * 255) / ((1 << bitDepth) - 1));
  };
  const raw16 = (row: number, index: number): number =>
    bitDepth === 16 ? rows.readUInt16BE(row + index * 2) : -1;
  const paletteCount = palette === undefined ? 0 : palette.length / 3;
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      let r: number;
      let g: number;
      let b: number;
      let alpha = 255;
      if (colorType === 3) {
        const i = sample(row, x);
        if (i >= paletteCount) throw bad(`palette index ${i} out of range`);
        r = palette![i * 3]!;
        g = palette![i * 3 + 1]!;
        b = palette![i * 3 + 2]!;
        if (trns !== undefined && i < trns.length) alpha = trns[i]!;
      } else if (colorType === 0 || colorType === 4) {
        r = g = b = sample(row, x * channels);
        if (colorType === 4) alpha = sample(row, x * channels + 1);
        else if (trns !== undefined && trns.length >= 2) {
          const key = trns.readUInt16BE(0);
          const v = bitDepth === 16 ? raw16(row, x) : rawLowDepth(rows, row, x, bitDepth);
          if (v === key) alpha = 0;
        }
      } else {
        r = sample(row, x * channels);
        g = sample(row, x * channels + 1);
        b = sample(row, x * channels + 2);
        if (colorType === 6) alpha = sample(row, x * channels + 3);
        else if (trns !== undefined && trns.length >= 6) {
          const same =
            bitDepth === 16
              ? raw16(row, x * 3) === trns.readUInt16BE(0) &&
                raw16(row, x * 3 + 1) === trns.readUInt16BE(2) &&
                raw16(row, x * 3 + 2) === trns.readUInt16BE(4)
              : r === trns.readUInt16BE(0) &&
                g === trns.readUInt16BE(2) &&
                b === trns.readUInt16BE(4);
          if (same) alpha = 0;
        }
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = alpha;
    }
  }
  return { width, height, rgba: out };
}

/** The unscaled gray value of pixel `x` for bit depths up to 8 (for tRNS color keys). */
function rawLowDepth(rows: Buffer, row: number, x: number, bitDepth: number): number {
  if (bitDepth === 8) return rows[row + x]!;
  const perByte = 8 / bitDepth;
  const byte = rows[row + Math.floor(x / perByte)]!;
  return (byte >> (8 - bitDepth * ((x % perByte) + 1))) & ((1 << bitDepth) - 1);
}
