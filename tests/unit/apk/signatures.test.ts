import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSignatures } from '../../../electron/core/apk/signatures.js';
import { craftZip } from './zip-writer.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apk-sig-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
    expect(await readSignatures(file, ['a'])).toEqual({
      schemes: { v1: false, v2: false, v3: false },
      signerCertSha256: [],
      v2Verified: null,
      v3Verified: null,
      v1Verified: null,
    });
    const v1 = await readSignatures(file, ['META-INF/CERT.SF', 'META-INF/CERT.RSA']);
    expect(v1.schemes.v1).toBe(true);
  });

  it('refuses a signing block whose size reaches before the file start', async () => {
    const file = await withBlock(signingBlock([], 1n << 40n));
    await expect(readSignatures(file, [])).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message: expect.stringMatching(/signing block size invalid/) as unknown,
    });
  });

  it('refuses a pair length past the block', async () => {
    const block = signingBlock([[0x7109871a, Buffer.alloc(8)]]);
    block.writeBigUInt64LE(0xffffn, 8);
    await expect(readSignatures(await withBlock(block), [])).rejects.toMatchObject({
      message: expect.stringMatching(/pair length invalid/) as unknown,
    });
  });

  it('refuses a v2 block without signers and one with a truncated signer', async () => {
    const empty = await withBlock(signingBlock([[0x7109871a, lp()]]));
    await expect(readSignatures(empty, [])).rejects.toMatchObject({
      message: expect.stringMatching(/without signers/) as unknown,
    });
    const bogus = Buffer.alloc(4);
    bogus.writeUInt32LE(0xfffffff0);
    const truncated = await withBlock(signingBlock([[0x7109871a, lp(lp(bogus))]]));
    await expect(readSignatures(truncated, [])).rejects.toMatchObject({
      message: expect.stringMatching(/runs past its block/) as unknown,
    });
  });

  it('refuses a signer with no supported algorithm', async () => {
    const sig = lp(Buffer.from([0x99, 0x99, 0, 0]), lp(Buffer.from('sig')));
    const signer = lp(lp(Buffer.alloc(0)), lp(sig), lp(Buffer.from('key')));
    const file = await withBlock(signingBlock([[0x7109871a, lp(signer)]]));
    await expect(readSignatures(file, [])).rejects.toMatchObject({
      message: expect.stringMatching(/no signature with a supported algorithm/) as unknown,
    });
  });
});
