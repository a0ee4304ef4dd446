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
 * choice (100,000 of them would hold 1.5 GiB of the APK worker).
 */
import { Unzlib } from 'fflate';
import { crc32, deflateSync } from 'node:zlib';
import { ApkError } from './apk-errors.js';

/** Largest width × height decoded (4096²). */
export const MAX_PNG_PIXELS = 4096 * 4096;
/** Largest PNG file accepted. */
export const MAX_PNG_BYTES = 32 * 1024 * 1024;
/**
 * Largest width × height `decodePng` decodes by default (1024²: about 12 MiB while decoding).
 * Launchers draw icons at a few hundred pixels; a bigger layer only costs memory.
 */
export const MAX_DECODE_PIXELS = 1024 * 1024;
const MAX_CHUNKS = 10_000;
/**
 * Compressed bytes given to the inflater per step; deflate expands at most about 1032×, so one
 * step yields a few MiB at most before the output cap is checked again.
 */
const INFLATE_STEP = 4096;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What IHDR says. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
}

/** A decoded image: `rgba` holds width × height × 4 bytes, rows top to bottom. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

function bad(message: string): ApkError {
  return new ApkError('APK_PNG_INVALID', `PNG: ${message}`);
}

/** Channels per pixel by color type, and the bit depths PNG allows for it. */
const COLOR_TYPES = new Map<number, { channels: number; depths: number[] }>([
  [0, { channels: 1, depths: [1, 2, 4, 8, 16] }],
  [2, { channels: 3, depths: [8, 16] }],
  [3, { channels: 1, depths: [1, 2, 4, 8] }],
  [4, { channels: 2, depths: [8, 16] }],
  [6, { channels: 4, depths: [8, 16] }],
]);

interface Chunk {
  type: string;
  data: Buffer;
}

function* chunks(buf: Buffer): Generator<Chunk> {
  if (buf.length > MAX_PNG_BYTES) throw bad(`file larger than ${MAX_PNG_BYTES} bytes`);
  if (buf.length < SIGNATURE.length || !buf.subarray(0, 8).equals(SIGNATURE))
    throw bad('not a PNG (bad signature)');
  let at = 8;
  for (let n = 0; ; n++) {
    if (n >= MAX_CHUNKS) throw bad('too many chunks');
    if (at + 12 > buf.length) throw bad('truncated (chunk header past the end)');
    const length = buf.readUInt32BE(at);
    if (length > 0x7fffffff || at + 12 + length > buf.length)
      throw bad('chunk length runs past the end');
    const type = buf.toString('latin1', at + 4, at + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw bad('invalid chunk type');
    const crc = buf.readUInt32BE(at + 8 + length);
    if (crc32(buf.subarray(at + 4, at + 8 + length)) >>> 0 !== crc)
      throw bad(`CRC mismatch in ${type}`);
    yield { type, data: buf.subarray(at + 8, at + 8 + length) };
    at += 12 + length;
    if (type === 'IEND') return;
  }
}

function parseHeader(c: Chunk | undefined): PngHeader {
  if (c === undefined || c.type !== 'IHDR') throw bad('IHDR is not the first chunk');
  if (c.data.length !== 13) throw bad('IHDR has the wrong length');
  const d = c.data;
  const header: PngHeader = {
    width: d.readUInt32BE(0),
    height: d.readUInt32BE(4),
    bitDepth: d[8]!,
    colorType: d[9]!,
    interlaced: d[12] === 1,
  };
  if (header.width === 0 || header.height === 0) throw bad('zero width or height');
  if (header.width > MAX_PNG_PIXELS || header.width * header.height > MAX_PNG_PIXELS)
    throw bad(`${header.width}×${header.height} is larger than 4096×4096 pixels`);
  const ct = COLOR_TYPES.get(header.colorType);
  if (ct === undefined) throw bad(`unknown color type ${header.colorType}`);
  if (!ct.depths.includes(header.bitDepth))
    throw bad(`bit depth ${header.bitDepth} invalid for color type ${header.colorType}`);
  if (d[10] !== 0 || d[11] !== 0 || d[12]! > 1) throw bad('unknown compression/filter/interlace');
  return header;
}

/**
 * Reads and checks the PNG signature and IHDR (dimensions within the caps).
 * @throws ApkError `APK_PNG_INVALID`
 */
export function readPngHeader(buf: Buffer): PngHeader {
  return parseHeader(chunks(buf).next().value as Chunk | undefined);
}

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

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes an RGBA image as an 8-bit RGBA PNG (no filtering; deflate does the work). */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, rgba } = image;
  if (width === 0 || height === 0 || width * height > MAX_PNG_PIXELS)
    throw bad(`cannot encode a ${width}×${height} image`);
  if (rgba.length !== width * height * 4) throw bad('pixel buffer does not match the size');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++)
    raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A solid image of one ARGB color. */
export function solidImage(width: number, height: number, argb: number): RgbaImage {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = (argb >>> 16) & 0xff;
    rgba[i + 1] = (argb >>> 8) & 0xff;
    rgba[i + 2] = argb & 0xff;
    rgba[i + 3] = (argb >>> 24) & 0xff;
  }
  return { width, height, rgba };
}

/**
 * Draws `top` over `bottom` (both scaled, nearest neighbour, to `width` × `height`) with
 * source-over alpha blending, then keeps the centred `crop` fraction of it.
 */
export function composeLayers(
  bottom: RgbaImage,
  top: RgbaImage,
  width: number,
  height: number,
  crop = 1,
): RgbaImage {
  const cw = Math.max(1, Math.round(width * crop));
  const ch = Math.max(1, Math.round(height * crop));
  const x0 = Math.floor((width - cw) / 2);
  const y0 = Math.floor((height - ch) / 2);
  const out = new Uint8Array(cw * ch * 4);
  // Nearest-neighbour source columns and rows of each layer, computed once.
  const map = (img: RgbaImage): { xs: Int32Array; ys: Int32Array } => {
    const xs = new Int32Array(cw);
    const ys = new Int32Array(ch);
    for (let x = 0; x < cw; x++)
      xs[x] = Math.min(img.width - 1, Math.floor(((x + x0) * img.width) / width)) * 4;
    for (let y = 0; y < ch; y++)
      ys[y] =
        Math.min(img.height - 1, Math.floor(((y + y0) * img.height) / height)) * img.width * 4;
    return { xs, ys };
  };
  const bm = map(bottom);
  const tm = map(top);
  const br = bottom.rgba;
  const tr = top.rgba;
  for (let y = 0; y < ch; y++)
    for (let x = 0; x < cw; x++) {
      const b = bm.ys[y]! + bm.xs[x]!;
      const t = tm.ys[y]! + tm.xs[x]!;
      const ta = tr[t + 3]! / 255;
      const ba = br[b + 3]! / 255;
      const oa = ta + ba * (1 - ta);
      const o = (y * cw + x) * 4;
      for (let k = 0; k < 3; k++)
        out[o + k] = oa === 0 ? 0 : Math.round((tr[t + k]! * ta + br[b + k]! * ba * (1 - ta)) / oa);
      out[o + 3] = Math.round(oa * 255);
    }
  return { width: cw, height: ch, rgba: out };
}
