import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSignatures, type ApkSignatures } from '../../../../electron/core/apk/signatures.js';
import { openApkZip } from '../../../../electron/core/apk/zip-reader.js';
import {
  keyDir,
  lineageRecord,
  makeTestKey,
  PROOF_OF_ROTATION_ATTR,
  ROTATION_MIN_SDK_ATTR,
  signZip,
  STRIPPING_PROTECTION_ATTR,
  type TestKey,
} from './apk-sign-writer.js';
import { craftZip } from './zip-writer.js';

let dir: string;
let n = 0;
let keys: ReturnType<typeof keyDir>;
let a: TestKey;
let b: TestKey;
let c: TestKey;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apk-sig-'));
  keys = keyDir();
  [a, b, c] = ['a', 'b', 'c'].map((cn) => makeTestKey(keys.dir, cn)) as [TestKey, TestKey, TestKey];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  keys.remove();
});

/** Signatures of `file` through the zip reader's one view of it. */
async function sigOf(file: string, names?: string[]): Promise<ApkSignatures> {
  const zip = await openApkZip(file);
  try {
    return await readSignatures(zip.fd, names ?? zip.entries.keys(), zip.geometry);
  } finally {
    await zip.close();
  }
}

async function signed(schemes: Parameters<typeof signZip>[1]): Promise<string> {
  const zip = craftZip([{ name: 'a', data: Buffer.from('payload') }]);
  const file = path.join(dir, `h${n++}.apk`);
  await writeFile(file, signZip(zip, schemes));
  return file;
}

const u32 = (v: number): Buffer => {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(v);
  return out;
};

/** An APK Signing Block holding `pairs` (id, value), as apksigner lays it out. */
function signingBlock(pairs: Array<[number, Buffer]>, sizeOverride?: bigint): Buffer {
  const body = Buffer.concat(
    pairs.map(([id, value]) => {
      const h = Buffer.alloc(12);
      h.writeBigUInt64LE(BigInt(value.length + 4), 0);
      h.writeUInt32LE(id, 8);
      return Buffer.concat([h, value]);
    }),
  );
  const size = sizeOverride ?? BigInt(body.length + 24);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(size);
  const foot = Buffer.alloc(8);
  foot.writeBigUInt64LE(size);
  return Buffer.concat([head, body, foot, Buffer.from('APK Sig Block 42', 'latin1')]);
}

/** A one-entry zip with `block` inserted before its central directory. */
async function withBlock(block: Buffer): Promise<string> {
  const zip = craftZip([{ name: 'a', data: Buffer.from('payload') }]);
  const eocd = zip.length - 22;
  const cd = zip.readUInt32LE(eocd + 16);
  const out = Buffer.concat([zip.subarray(0, cd), block, zip.subarray(cd)]);
  out.writeUInt32LE(cd + block.length, out.length - 22 + 16);
  const file = path.join(dir, `s${n++}.apk`);
  await writeFile(file, out);
  return file;
}

function lp(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(4);
  h.writeUInt32LE(body.length);
  return Buffer.concat([h, body]);
}

describe('readSignatures', () => {
  it('reports an unsigned zip as having no schemes', async () => {
    const file = path.join(dir, 'plain.apk');
    await writeFile(file, craftZip([{ name: 'a', data: Buffer.from('x') }]));
    expect(await sigOf(file, ['a'])).toEqual({
      schemes: { v1: false, v2: false, v3: false },
      signerCertSha256: [],
      lineage: [],
      signers: [],
      v2Verified: null,
      v3Verified: null,
      v1Verified: null,
    });
    const v1 = await sigOf(file, ['META-INF/CERT.SF', 'META-INF/CERT.RSA']);
    expect(v1.schemes.v1).toBe(true);
  });

  it('refuses a signing block whose size reaches before the file start', async () => {
    const file = await withBlock(signingBlock([], 1n << 40n));
    await expect(sigOf(file, [])).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message: expect.stringMatching(/signing block size invalid/) as unknown,
    });
  });

  it('refuses a pair length past the block', async () => {
    const block = signingBlock([[0x7109871a, Buffer.alloc(8)]]);
    block.writeBigUInt64LE(0xffffn, 8);
    await expect(sigOf(await withBlock(block), [])).rejects.toMatchObject({
      message: expect.stringMatching(/pair length invalid/) as unknown,
    });
  });

  it('refuses a v2 block without signers and one with a truncated signer', async () => {
    const empty = await withBlock(signingBlock([[0x7109871a, lp()]]));
    await expect(sigOf(empty, [])).rejects.toMatchObject({
      message: expect.stringMatching(/without signers/) as unknown,
    });
    const bogus = Buffer.alloc(4);
    bogus.writeUInt32LE(0xfffffff0);
    const truncated = await withBlock(signingBlock([[0x7109871a, lp(lp(bogus))]]));
    await expect(sigOf(truncated, [])).rejects.toMatchObject({
      message: expect.stringMatching(/runs past its block/) as unknown,
    });
  });

  it('refuses a signer with no supported algorithm', async () => {
    const sig = lp(Buffer.from([0x99, 0x99, 0, 0]), lp(Buffer.from('sig')));
    const signer = lp(lp(Buffer.alloc(0)), lp(sig), lp(Buffer.from('key')));
    const file = await withBlock(signingBlock([[0x7109871a, lp(signer)]]));
    await expect(sigOf(file, [])).rejects.toMatchObject({
      message: expect.stringMatching(/no signature with a supported algorithm/) as unknown,
    });
  });

  it('verifies a hand-signed v2 + v3 APK and names its signer', async () => {
    const file = await signed({ v2: [{ key: a }], v3: [{ key: a }] });
    const sig = await sigOf(file);
    expect(sig).toMatchObject({
      schemes: { v2: true, v3: true },
      v2Verified: true,
      v3Verified: true,
      signerCertSha256: [a.sha256],
      lineage: [],
    });
    expect(sig.signers).toEqual([
      { certSha256: a.sha256, minSdk: 24, maxSdk: 0x7fffffff, lineage: [] },
    ]);
  });

  it('refuses a v2 signer whose key is not its certificate’s (a forged signer)', async () => {
    // Signed with B's key, listing A's certificate: the signature itself verifies.
    const file = await signed({ v2: [{ key: b, certs: [a.cert] }] });
    await expect(sigOf(file)).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message:
        'NOT verified: public key mismatch (the signature was made with another key than the certificate names) [v2 signature]',
    });
  });

  it('refuses the same forgery in v3 even when v2 is honest', async () => {
    const file = await signed({ v2: [{ key: a }], v3: [{ key: b, certs: [a.cert] }] });
    await expect(sigOf(file)).rejects.toMatchObject({
      message: expect.stringMatching(
        /^NOT verified: public key mismatch .*\[v3 signature\]$/,
      ) as unknown,
    });
  });

  it('refuses a record whose public key is the certificate’s but whose signature is another key’s', async () => {
    const file = await signed({ v2: [{ key: b, certs: [a.cert], publicKey: a.spki }] });
    await expect(sigOf(file)).rejects.toMatchObject({
      message: expect.stringMatching(/^NOT verified: bad signature/) as unknown,
    });
  });

  it('refuses a content digest that does not match (tampered)', async () => {
    const file = await signed({ v2: [{ key: a, badDigest: true }] });
    await expect(sigOf(file)).rejects.toMatchObject({
      message: expect.stringMatching(/does not match its v2 signature/) as unknown,
    });
  });

  it('refuses a v3 signer whose SDK range differs inside its signed data', async () => {
    const file = await signed({ v3: [{ key: a, signedSdk: { min: 1, max: 0x7fffffff } }] });
    await expect(sigOf(file)).rejects.toMatchObject({
      message: expect.stringMatching(/minSdk\/maxSdk differ/) as unknown,
    });
  });

  it('refuses v3 signers with overlapping SDK ranges, picks the newest range’s signer otherwise', async () => {
    const overlap = await signed({
      v3: [
        { key: a, minSdk: 24, maxSdk: 30 },
        { key: b, minSdk: 30, maxSdk: 0x7fffffff },
      ],
    });
    await expect(sigOf(overlap)).rejects.toMatchObject({
      message: expect.stringMatching(/overlapping SDK/) as unknown,
    });
    const split = await signed({
      v3: [
        { key: b, minSdk: 31, maxSdk: 0x7fffffff },
        { key: a, minSdk: 24, maxSdk: 30 },
      ],
    });
    const sig = await sigOf(split);
    expect(sig.signerCertSha256).toEqual([b.sha256]);
    expect(sig.signers.map((s) => s.certSha256)).toEqual([b.sha256, a.sha256]);
  });

  it('reads a v3 rotation lineage and shows the current signer', async () => {
    const lineage = lineageRecord([a, b]);
    const file = await signed({
      v2: [{ key: a }],
      v3: [{ key: b, attributes: [[PROOF_OF_ROTATION_ATTR, lineage]] }],
    });
    const sig = await sigOf(file);
    expect(sig.signerCertSha256).toEqual([b.sha256]);
    expect(sig.lineage).toEqual([a.sha256, b.sha256]);
  });

  it('refuses a lineage that does not end with the signer, or whose link is not signed', async () => {
    const wrongEnd = await signed({
      v3: [{ key: c, attributes: [[PROOF_OF_ROTATION_ATTR, lineageRecord([a, b])]] }],
    });
    await expect(sigOf(wrongEnd)).rejects.toMatchObject({
      message: expect.stringMatching(/terminal certificate in the proof-of-rotation/) as unknown,
    });
    // A lineage A → C where the link to C was signed by B, not by A.
    const forged = lineageRecord([b, c]);
    const real = lineageRecord([a, c]);
    const aNode = real.subarray(4, 4 + 4 + real.readUInt32LE(4));
    const forgedLink = forged.subarray(4 + 4 + forged.readUInt32LE(4));
    const spliced = Buffer.concat([real.subarray(0, 4), aNode, forgedLink]);
    const file = await signed({
      v3: [{ key: c, attributes: [[PROOF_OF_ROTATION_ATTR, spliced]] }],
    });
    await expect(sigOf(file)).rejects.toMatchObject({
      message: expect.stringMatching(
        /lineage certificate #2 is not signed by the one before it/,
      ) as unknown,
    });
  });

  it('refuses v2 and v3 signers that do not match, and a stripped v3', async () => {
    const mismatch = await signed({ v2: [{ key: a }], v3: [{ key: b }] });
    await expect(sigOf(mismatch)).rejects.toMatchObject({
      message: expect.stringMatching(/v2 signers and v3 signers do not match/) as unknown,
    });
    const stripped = await signed({
      v2: [{ key: a, attributes: [[STRIPPING_PROTECTION_ATTR, u32(3)]] }],
    });
    await expect(sigOf(stripped)).rejects.toMatchObject({
      message: expect.stringMatching(/signature stripped/) as unknown,
    });
  });

  it('verifies a v3.1 block and takes its signer as the current one', async () => {
    const file = await signed({
      v2: [{ key: a }],
      v3: [{ key: a, maxSdk: 32, attributes: [[ROTATION_MIN_SDK_ATTR, u32(33)]] }],
      v31: [{ key: b, minSdk: 33, attributes: [[PROOF_OF_ROTATION_ATTR, lineageRecord([a, b])]] }],
    });
    const sig = await sigOf(file);
    expect(sig).toMatchObject({ v31Verified: true, schemes: { v31: true } });
    expect(sig.signerCertSha256).toEqual([b.sha256]);
    expect(sig.lineage).toEqual([a.sha256, b.sha256]);
    const stripped = await signed({
      v2: [{ key: a }],
      v3: [{ key: a, maxSdk: 32, attributes: [[ROTATION_MIN_SDK_ATTR, u32(33)]] }],
    });
    await expect(sigOf(stripped)).rejects.toMatchObject({
      message: expect.stringMatching(/no v3\.1 block/) as unknown,
    });
  });

  it('refuses a malformed lineage and an undecodable certificate', async () => {
    const bad = lineageRecord([a, b]);
    bad.writeUInt32LE(2, 0);
    const version = await signed({ v3: [{ key: b, attributes: [[PROOF_OF_ROTATION_ATTR, bad]] }] });
    await expect(sigOf(version)).rejects.toMatchObject({ code: 'APK_SIGNATURE_INVALID' });
    const cut = lineageRecord([a, b]).subarray(0, 40);
    const truncated = await signed({
      v3: [{ key: b, attributes: [[PROOF_OF_ROTATION_ATTR, cut]] }],
    });
    await expect(sigOf(truncated)).rejects.toMatchObject({ code: 'APK_SIGNATURE_INVALID' });
    const garbage = await signed({ v2: [{ key: a, certs: [Buffer.from('not a certificate')] }] });
    await expect(sigOf(garbage)).rejects.toMatchObject({
      message: expect.stringMatching(/failed to decode certificate/) as unknown,
    });
  });
});
