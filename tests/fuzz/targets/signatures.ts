/**
 * Fuzz target: the APK Signing Block and its v2/v3/v3.1 scheme blocks. The input is the signing
 * block alone; the target places it between the entries and the central directory of a fixed
 * zip (fixing up the end record's central directory offset), so every mutant reaches the block
 * parser instead of the zip layer's checks. Seeds of real signed blocks (ECDSA P-256 keys made
 * by openssl) are in `tests/fuzz/corpus/signatures/`.
 */
import { readSignatures, type ApkSignatures } from '../../../electron/core/apk/signatures.js';
import { openApkZip } from '../../../electron/core/apk/zip-reader.js';
import { craftZip } from '../../unit/core/apk/zip-writer.js';
import type { FuzzTarget } from '../engine.js';
import { isApkError, scratchFile } from './common.js';

/** The zip every block is placed in (the content its signatures digest). */
export const BASE_ZIP = craftZip([
  { name: 'AndroidManifest.xml', data: Buffer.from('fuzz manifest'), method: 8 },
  { name: 'classes.dex', data: Buffer.alloc(64, 1) },
]);

/** `BASE_ZIP` with `block` before its central directory. */
export function withBlock(block: Buffer): Buffer {
  const eocd = BASE_ZIP.length - 22;
  const cd = BASE_ZIP.readUInt32LE(eocd + 16);
  const out = Buffer.concat([BASE_ZIP.subarray(0, cd), block, BASE_ZIP.subarray(cd)]);
  out.writeUInt32LE((cd + block.length) >>> 0, out.length - 22 + 16);
  return out;
}

const MAGIC = Buffer.from('APK Sig Block 42', 'latin1');

/** A signing block around `body` (its pairs): both size fields and the magic. */
function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(body.length + 24));
  return Buffer.concat([head, body, head, MAGIC]);
}

/** A signing block holding `pairs` (id, value), framed as the format says. */
export function signingBlock(pairs: Array<[number, Buffer]>): Buffer {
  return frame(
    Buffer.concat(
      pairs.map(([id, value]) => {
        const h = Buffer.alloc(12);
        h.writeBigUInt64LE(BigInt(value.length + 4), 0);
        h.writeUInt32LE(id, 8);
        return Buffer.concat([h, value]);
      }),
    ),
  );
}

const scratch = scratchFile('signatures');

export const target: FuzzTarget = {
  name: 'signatures',
  seeds: () => [
    signingBlock([[0x42726577, Buffer.alloc(16)]]),
    signingBlock([[0x7109871a, Buffer.from([4, 0, 0, 0, 0, 0, 0, 0])]]),
  ],
  run: async (input) => {
    // An input that does not end in the block magic is a block body (its id-value pairs): it is
    // framed, so a mutant that broke the framing still reaches the scheme parsers.
    const framed = input.subarray(-16).equals(MAGIC) ? input : frame(input);
    const zip = await openApkZip(scratch.write(withBlock(framed)));
    try {
      return await readSignatures(zip.fd, zip.entries.keys(), zip.geometry);
    } finally {
      await zip.close();
    }
  },
  typed: isApkError,
  outcome: (r) => {
    const s = r as ApkSignatures;
    return `${JSON.stringify(s.schemes)} v2:${s.v2Verified} v3:${s.v3Verified} signers:${s.signers.length}`;
  },
  dictionary: ['APK Sig Block 42', Buffer.from([0x1a, 0x87, 0x09, 0x71]), Buffer.from([0xc0, 0x68, 0x53, 0xf0]), Buffer.from([0x61, 0xad, 0x93, 0x1b]), Buffer.from([0x01, 0x02, 0, 0]), Buffer.from([0x30, 0x82])], // prettier-ignore
  maxLength: 32 * 1024,
  close: () => scratch.remove(),
};
