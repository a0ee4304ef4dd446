import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApkInfo } from '../../../../electron/core/apk/apk-reader.js';
import { writeAxml } from './axml-writer.js';
import { craftZip } from './zip-writer.js';

const manifest = writeAxml({
  name: 'manifest',
  attrs: [{ name: 'package', value: 'org.example.v1' }],
});
const MF = 'Manifest-Version: 1.0\r\n\r\nName: AndroidManifest.xml\r\nSHA-256-Digest: AAAA\r\n\r\n';
const SF = 'Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: AAAA\r\n\r\n';

/** DER TLV. */
function tlv(tag: number, body: Buffer): Buffer {
  const len =
    body.length < 128
      ? Buffer.from([body.length])
      : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const OID_SIGNED_DATA = Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);
const OID_DATA = Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);

describe('v1 signature verification refuses malformed signature blocks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apk-v1-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const refused = async (name: string, block: Buffer, why: RegExp, sf = SF): Promise<void> => {
    const file = path.join(dir, `${name}.apk`);
    await writeFile(
      file,
      craftZip([
        { name: 'AndroidManifest.xml', data: manifest, method: 8 },
        { name: 'META-INF/MANIFEST.MF', data: Buffer.from(MF) },
        { name: 'META-INF/CERT.SF', data: Buffer.from(sf) },
        { name: 'META-INF/CERT.RSA', data: block },
      ]),
    );
    const started = performance.now();
    await expect(readApkInfo(file)).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message: expect.stringMatching(why) as unknown,
    });
    expect(performance.now() - started).toBeLessThan(2000);
  };

  it('empty and random blocks', async () => {
    await refused('empty', Buffer.alloc(0), /runs past/);
    await refused('random', Buffer.from('0123456789abcdef'), /runs past its parent/);
    await refused('octet-string', Buffer.from([0x04, 0x00]), /ContentInfo missing or malformed/);
  });

  it('lengths past the end and overlong length forms', async () => {
    await refused('past', Buffer.from([0x30, 0x82, 0xff, 0xff, 0x06]), /runs past its parent/);
    await refused('long-form', Buffer.from([0x30, 0x85, 1, 0, 0, 0, 0]), /length form/);
    await refused('multibyte-tag', Buffer.from([0x1f, 0x01, 0x00]), /multi-byte DER tags/);
  });

  it('a ContentInfo that is not SignedData, and SignedData without signers', async () => {
    await refused(
      'not-signed-data',
      tlv(0x30, Buffer.concat([tlv(0x06, OID_DATA), tlv(0xa0, tlv(0x30, Buffer.alloc(0)))])),
      /not PKCS#7 SignedData/,
    );
    const version = tlv(0x02, Buffer.from([1]));
    const sd = tlv(
      0x30,
      Buffer.concat([
        version,
        tlv(0x31, Buffer.alloc(0)),
        tlv(0x30, tlv(0x06, OID_DATA)),
        tlv(0x31, Buffer.alloc(0)),
      ]),
    );
    await refused(
      'no-signers',
      tlv(0x30, Buffer.concat([tlv(0x06, OID_SIGNED_DATA), tlv(0xa0, sd)])),
      /SignerInfo missing or malformed/,
    );
  });
});
