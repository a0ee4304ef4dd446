/**
 * Fuzz target: the v1 (JAR) signature verifier's DER / PKCS#7 reader. The input is the
 * signature block (`META-INF/CERT.RSA`); the target wraps it in a zip with a manifest and a
 * signature file, so every mutant reaches the DER reader. A real openssl-made block is in
 * `tests/fuzz/corpus/v1-signature/`.
 */
import { createHash } from 'node:crypto';
import { verifyV1 } from '../../../electron/core/apk/v1-signature.js';
import { openApkZip } from '../../../electron/core/apk/zip-reader.js';
import { craftZip } from '../../unit/core/apk/zip-writer.js';
import type { FuzzTarget } from '../engine.js';
import { isApkError, scratchFile } from './common.js';

export const V1_DEX = Buffer.from('dex\n035\0fuzz');
const b64 = (b: Buffer): string => createHash('sha256').update(b).digest('base64');
/** The manifest: classes.dex's digest. */
export const V1_MF = Buffer.from(
  `Manifest-Version: 1.0\r\nCreated-By: droidway-fuzz\r\n\r\nName: classes.dex\r\nSHA-256-Digest: ${b64(V1_DEX)}\r\n\r\n`,
);
/** The signature file the corpus's real block signs: the manifest's digest. */
export const V1_SF = Buffer.from(
  `Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: ${b64(V1_MF)}\r\n\r\n`,
);

/** The zip around a signature block. */
export function v1Zip(block: Buffer): Buffer {
  return craftZip([
    { name: 'classes.dex', data: V1_DEX },
    { name: 'META-INF/MANIFEST.MF', data: V1_MF },
    { name: 'META-INF/CERT.SF', data: V1_SF },
    { name: 'META-INF/CERT.RSA', data: block },
  ]);
}

function tlv(tag: number, body: Buffer): Buffer {
  const len =
    body.length < 128
      ? Buffer.from([body.length])
      : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const OID_SIGNED_DATA = Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);
const OID_DATA = Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);

const scratch = scratchFile('v1');

export const target: FuzzTarget = {
  name: 'v1-signature',
  seeds: () => [
    tlv(0x30, Buffer.concat([tlv(0x06, OID_SIGNED_DATA), tlv(0xa0, tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([1])), tlv(0x31, Buffer.alloc(0)), tlv(0x30, tlv(0x06, OID_DATA)), tlv(0x31, Buffer.alloc(0))])))])),
  ], // prettier-ignore
  run: async (input) => {
    const zip = await openApkZip(scratch.write(v1Zip(input)));
    try {
      return await verifyV1(zip);
    } finally {
      await zip.close();
    }
  },
  typed: isApkError,
  dictionary: [OID_SIGNED_DATA, OID_DATA, Buffer.from([0x30, 0x82]), Buffer.from([0xa0, 0x82]), Buffer.from([0x31, 0x81]), Buffer.from([0x02, 0x01, 0x01])], // prettier-ignore
  maxLength: 16 * 1024,
  close: () => scratch.remove(),
};
