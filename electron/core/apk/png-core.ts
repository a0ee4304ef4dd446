/**
 * The parts of the PNG codec for APK icons (see `png.ts`) that need no inflater: checking the
 * chunks and reading the header (dimensions for the icon list), encoding RGBA to PNG, and
 * composing adaptive icon layers. The APK reader loads these with every APK, and `png.ts`'s
 * decoder (with its inflater) only when an icon's layers must be decoded. Icons come from
 * untrusted APKs, so every chunk length, CRC and the IHDR fields are checked, and images are
 * capped at 4096 × 4096.
 */
import { crc32, deflateSync } from 'node:zlib';
import { ApkError } from './apk-errors.js';

/** Largest width × height decoded (4096²). */
export const MAX_PNG_PIXELS = 4096 * 4096;
/** Largest PNG file accepted. */
export const MAX_PNG_BYTES = 32 * 1024 * 1024;
const MAX_CHUNKS = 10_000;
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

/** The error of a malformed PNG (for `png.ts`). */
export function bad(message: string): ApkError {
  return new ApkError('APK_PNG_INVALID', `PNG: ${message}`);
}

/** Channels per pixel by color type, and the bit depths PNG allows for it. */
export const COLOR_TYPES = new Map<number, { channels: number; depths: number[] }>([
  [0, { channels: 1, depths: [1, 2, 4, 8, 16] }],
  [2, { channels: 3, depths: [8, 16] }],
  [3, { channels: 1, depths: [1, 2, 4, 8] }],
  [4, { channels: 2, depths: [8, 16] }],
  [6, { channels: 4, depths: [8, 16] }],
]);

/** One chunk of a PNG, CRC checked. */
export interface Chunk {
  type: string;
  data: Buffer;
}

/** The chunks of `buf`, each checked (length, type, CRC) as it is reached, up to IEND. */
export function* chunks(buf: Buffer): Generator<Chunk> {
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

/** Checks the IHDR chunk `c` and returns what it says. */
export function parseHeader(c: Chunk | undefined): PngHeader {
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

/** One PNG chunk: length, type, `data` and its CRC (the encoder's, and the tests' crafted PNGs). */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * An 8-bit RGBA PNG of `rows` (each row a filter byte, 0, then its pixels), unchecked: the
 * encoder's last step, and the tests' crafted images past the decoder's caps.
 */
export function rgbaPngOfRows(
  width: number,
  height: number,
  rows: Buffer,
  deflateLevel?: number,
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([
    SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows, deflateLevel === undefined ? {} : { level: deflateLevel })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Encodes an RGBA image as an 8-bit RGBA PNG (no filtering; deflate does the work). */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, rgba } = image;
  if (width === 0 || height === 0 || width * height > MAX_PNG_PIXELS)
    throw bad(`cannot encode a ${width}×${height} image`);
  if (rgba.length !== width * height * 4) throw bad('pixel buffer does not match the size');
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++)
    raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  return rgbaPngOfRows(width, height, raw);
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
