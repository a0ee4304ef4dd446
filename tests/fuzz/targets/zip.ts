/**
 * Fuzz target: the zip layer (end records, central directory, local headers, data descriptors)
 * through `openApkZip` on a scratch file, then reading every entry (inflate, size and CRC-32
 * checks, the inflate budget).
 */
import { openApkZip } from '../../../electron/core/apk/zip-reader.js';
import { crc32 } from 'node:zlib';
import { craftZip } from '../../unit/core/apk/zip-writer.js';
import { signingBlock, withBlock } from './signatures.js';
import type { FuzzTarget } from '../engine.js';
import { isApkError, scratchFile } from './common.js';

const scratch = scratchFile('zip');

/** `zip` with zip64 end records (record + locator) and zip64 markers in the classic record. */
function withZip64(zip: Buffer): Buffer {
  const e = zip.length - 22;
  const count = zip.readUInt16LE(e + 10);
  const size = zip.readUInt32LE(e + 12);
  const offset = zip.readUInt32LE(e + 16);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(size), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + size), 8);
  locator.writeUInt32LE(1, 16);
  const eocd = Buffer.from(zip.subarray(e));
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  eocd.writeUInt32LE(0xffffffff, 12);
  eocd.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([zip.subarray(0, offset + size), record, locator, eocd]);
}

/** A one-entry zip whose entry has a data descriptor (local sizes and CRC zero, flag 0x8). */
function withDescriptor(data: Buffer): Buffer {
  const zip = craftZip([
    { name: 'AndroidManifest.xml', data, local: { flags: 0x808, crc: 0, size: 0 } },
  ]);
  const cd = zip.readUInt32LE(zip.length - 22 + 16);
  const d = Buffer.alloc(16);
  d.writeUInt32LE(0x08074b50, 0);
  d.writeUInt32LE(crc32(data) >>> 0, 4);
  d.writeUInt32LE(data.length, 8);
  d.writeUInt32LE(data.length, 12);
  const out = Buffer.concat([zip.subarray(0, cd), d, zip.subarray(cd)]);
  out.writeUInt32LE(cd + 16, out.length - 22 + 16);
  out.writeUInt32LE(0, 18);
  return out;
}

/** `zip` with an end-record comment. */
function withComment(zip: Buffer): Buffer {
  const out = Buffer.concat([zip, Buffer.from('a comment')]);
  out.writeUInt16LE(9, zip.length - 22 + 20);
  return out;
}

export const target: FuzzTarget = {
  name: 'zip',
  seeds: () => [
    craftZip([
      { name: 'AndroidManifest.xml', data: Buffer.from('manifest bytes '.repeat(20)), method: 8 },
      { name: 'res/raw/a.txt', data: Buffer.from('stored') },
      { name: 'classes.dex', data: Buffer.alloc(300, 7), method: 8 },
    ]),
    craftZip([{ name: 'a', data: Buffer.alloc(0) }]),
    withZip64(
      craftZip([{ name: 'AndroidManifest.xml', data: Buffer.from('zip64 seed'), method: 8 }]),
    ),
    craftZip([{ name: 'x/y', data: Buffer.from('hello'), method: 8 }], { prefix: Buffer.alloc(0) }),
    withDescriptor(Buffer.from('descriptor seed')),
    withComment(craftZip([{ name: 'a.txt', data: Buffer.from('commented'), method: 8 }])),
    withBlock(signingBlock([[0x7109871a, Buffer.alloc(12, 1)]])),
  ],
  run: async (input) => {
    const zip = await openApkZip(scratch.write(input), {
      inflateBaseBytes: 4 * 1024 * 1024,
      maxEntries: 1000,
    });
    try {
      let n = 0;
      for (const name of zip.entries.keys()) {
        if (n++ >= 16) break;
        await zip.readEntry(name, { maxBytes: 1024 * 1024 });
      }
    } finally {
      await zip.close();
    }
  },
  typed: isApkError,
  dictionary: [Buffer.from('PK\x01\x02', 'latin1'), Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('PK\x05\x06', 'latin1'), Buffer.from('PK\x06\x06', 'latin1'), Buffer.from('PK\x06\x07', 'latin1'), Buffer.from('PK\x07\x08', 'latin1'), '../', 'APK Sig Block 42'], // prettier-ignore
  maxLength: 16 * 1024,
  close: () => scratch.remove(),
};
