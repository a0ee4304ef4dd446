/**
 * Fuzz target: the PNG decoder. Chunk CRCs are recomputed before decoding (a structure-aware
 * fix-up: a mutant with a broken CRC only reaches the CRC check, which unit tests cover).
 */
import { crc32, deflateSync } from 'node:zlib';
import { pngChunk } from '../../../electron/core/apk/png-core.js';
import { decodePng, encodePng, readPngHeader, solidImage } from '../../../electron/core/apk/png.js';
import type { FuzzTarget } from '../engine.js';
import { isApkError } from './common.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG of `width`×`height` with the given colour type and depth, rows of pattern bytes. */
function craftPng(width: number, height: number, colorType: number, depth: number, extra: Buffer[] = []): Buffer {
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType]!;
  const stride = Math.ceil((width * channels * depth) / 8);
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = y % 5;
    for (let x = 0; x < stride; x++) raw[y * (stride + 1) + 1 + x] = (x * 37 + y * 11) & 0xff;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdr), ...extra, pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
} // prettier-ignore

/** Recomputes every chunk's CRC in place (stops at the first chunk that runs past the end). */
function fixCrcs(input: Buffer): Buffer {
  const buf = Buffer.from(input);
  let at = 8;
  while (at + 12 <= buf.length) {
    const len = buf.readUInt32BE(at);
    if (at + 12 + len > buf.length) break;
    buf.writeUInt32BE(crc32(buf.subarray(at + 4, at + 8 + len)) >>> 0, at + 8 + len);
    at += 12 + len;
  }
  return buf;
}

export const target: FuzzTarget = {
  name: 'png',
  seeds: () => [
    encodePng(solidImage(4, 3, 0xff336699)),
    craftPng(5, 4, 0, 1),
    craftPng(3, 3, 0, 16),
    craftPng(4, 2, 2, 8, [pngChunk('tRNS', Buffer.from([0, 1, 0, 2, 0, 3]))]),
    craftPng(6, 2, 3, 4, [pngChunk('PLTE', Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255])), pngChunk('tRNS', Buffer.from([128]))]),
    craftPng(2, 2, 4, 8),
    craftPng(2, 3, 6, 16),
  ], // prettier-ignore
  run: (input) => {
    const fixed = fixCrcs(input);
    readPngHeader(fixed);
    return decodePng(fixed);
  },
  typed: isApkError,
  dictionary: ['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND'],
  maxLength: 16 * 1024,
};
