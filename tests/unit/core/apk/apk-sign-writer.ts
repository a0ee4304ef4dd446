/**
 * A hand-written APK signer for tests: it lays out the APK Signing Block (v2, v3, v3.1 and a
 * v3 proof-of-rotation lineage) with node:crypto, the way apksigner does, so tests can build
 * what apksigner refuses to build: a signer whose key is not its certificate's, a lineage that
 * does not end with the signer, a v3.1 block, mismatched SDK ranges. Keys and self-signed
 * certificates come from `openssl`.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A test signing identity: private key, its self-signed certificate (DER) and SPKI (DER). */
export interface TestKey {
  key: KeyObject;
  cert: Buffer;
  spki: Buffer;
  /** SHA-256 of the certificate (what apksigner prints). */
  sha256: string;
  /** Paths of the key (PKCS#8 DER) and certificate (PEM), for apksigner. */
  pk8: string;
  certPem: string;
}

/** Makes an EC P-256 key and a self-signed certificate with `openssl` in `dir`. */
export function makeTestKey(dir: string, cn: string): TestKey {
  const pem = path.join(dir, `${cn}.key.pem`);
  const certPem = path.join(dir, `${cn}.crt`);
  const pk8 = path.join(dir, `${cn}.pk8`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pem, '-out', certPem, '-subj', `/CN=${cn}`, '-days', '2',
  ], { stdio: 'ignore' }); // prettier-ignore
  execFileSync('openssl', [
    'pkcs8',
    '-topk8',
    '-nocrypt',
    '-in',
    pem,
    '-outform',
    'DER',
    '-out',
    pk8,
  ]);
  const cert = Buffer.from(
    readFileSync(certPem, 'latin1')
      .replace(/-----[^-]+-----/g, '')
      .replace(/\s+/g, ''),
    'base64',
  );
  const key = createPrivateKey(readFileSync(pem));
  return {
    key,
    cert,
    spki: createPublicKey(key).export({ type: 'spki', format: 'der' }),
    sha256: createHash('sha256').update(cert).digest('hex'),
    pk8,
    certPem,
  };
}

/** A temp dir for keys, removed by the returned function. */
export function keyDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'apk-keys-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** ECDSA with SHA-256: the algorithm every signature here uses. */
const ECDSA_SHA256 = 0x0201;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** A uint32-length-prefixed concatenation. */
export function lp(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(body.length), body]);
}

function ecSign(key: KeyObject, data: Buffer): Buffer {
  return sign('sha256', data, key);
}

/** One signer of a scheme block. */
export interface SignerSpec {
  /** The key that signs the signed data. */
  key: TestKey;
  /** Certificates listed (default: `key`'s); a forgery lists someone else's. */
  certs?: Buffer[];
  /** Public key written in the record (default: `key`'s). */
  publicKey?: Buffer;
  /** SDK range (v3/v3.1); `signedSdk` writes another range inside the signed data. */
  minSdk?: number;
  maxSdk?: number;
  signedSdk?: { min: number; max: number };
  /** Additional attributes of the signed data: [id, value]. */
  attributes?: Array<[number, Buffer]>;
  /** Corrupts the content digest. */
  badDigest?: boolean;
}

/** The v3 proof-of-rotation record for `keys` (oldest first), as apksigner writes it. */
export function lineageRecord(keys: TestKey[]): Buffer {
  const nodes = keys.map((k, i) => {
    const signedData = Buffer.concat([lp(k.cert), u32(i === 0 ? 0 : ECDSA_SHA256)]);
    const signature = i === 0 ? Buffer.alloc(0) : ecSign(keys[i - 1]!.key, signedData);
    const next = u32(i < keys.length - 1 ? ECDSA_SHA256 : 0);
    return lp(lp(signedData), u32(0x1f), next, lp(signature));
  });
  return Buffer.concat([u32(1), ...nodes]);
}

/** The chunked SHA-256 content digest of an unsigned zip, as v2/v3 define it. */
export function contentDigest(zip: Buffer): Buffer {
  const eocd = zip.length - 22;
  const cd = zip.readUInt32LE(eocd + 16);
  const chunks: Buffer[] = [];
  for (const section of [zip.subarray(0, cd), zip.subarray(cd, eocd), zip.subarray(eocd)])
    for (let at = 0; at < section.length; at += 1 << 20) {
      const data = section.subarray(at, at + (1 << 20));
      const head = Buffer.from([0xa5, 0, 0, 0, 0]);
      head.writeUInt32LE(data.length, 1);
      chunks.push(createHash('sha256').update(head).update(data).digest());
    }
  const top = Buffer.from([0x5a, 0, 0, 0, 0]);
  top.writeUInt32LE(chunks.length, 1);
  return createHash('sha256').update(top).update(Buffer.concat(chunks)).digest();
}

function signerRecord(spec: SignerSpec, scheme: 'v2' | 'v3', digest: Buffer): Buffer {
  const d = spec.badDigest === true ? Buffer.alloc(digest.length, 0x11) : digest;
  const digests = lp(lp(u32(ECDSA_SHA256), lp(d)));
  const certs = lp(...(spec.certs ?? [spec.key.cert]).map((c) => lp(c)));
  const attrs = lp(...(spec.attributes ?? []).map(([id, v]) => lp(u32(id), v)));
  const min = spec.minSdk ?? 24;
  const max = spec.maxSdk ?? 0x7fffffff;
  const signed = spec.signedSdk ?? { min, max };
  const signedData =
    scheme === 'v2'
      ? Buffer.concat([digests, certs, attrs])
      : Buffer.concat([digests, certs, u32(signed.min), u32(signed.max), attrs]);
  const signatures = lp(lp(u32(ECDSA_SHA256), lp(ecSign(spec.key.key, signedData))));
  const publicKey = lp(spec.publicKey ?? spec.key.spki);
  return scheme === 'v2'
    ? lp(lp(signedData), signatures, publicKey)
    : lp(lp(signedData), u32(min), u32(max), signatures, publicKey);
}

/** Block ids of the schemes. */
export const V2_ID = 0x7109871a;
export const V3_ID = 0xf05368c0;
export const V31_ID = 0x1b93ad61;
export const STRIPPING_PROTECTION_ATTR = 0xbeeff00d;
export const PROOF_OF_ROTATION_ATTR = 0x3ba06f8c;
export const ROTATION_MIN_SDK_ATTR = 0x559f8b02;

/**
 * Signs `zip` (a plain zip without comment, e.g. `craftZip`'s or aapt's unsigned output):
 * inserts an APK Signing Block with the given schemes before the central directory.
 */
export function signZip(
  zip: Buffer,
  schemes: { v2?: SignerSpec[]; v3?: SignerSpec[]; v31?: SignerSpec[] },
): Buffer {
  const digest = contentDigest(zip);
  const pairs: Array<[number, Buffer]> = [];
  if (schemes.v2 !== undefined)
    pairs.push([V2_ID, lp(...schemes.v2.map((s) => signerRecord(s, 'v2', digest)))]);
  if (schemes.v3 !== undefined)
    pairs.push([V3_ID, lp(...schemes.v3.map((s) => signerRecord(s, 'v3', digest)))]);
  if (schemes.v31 !== undefined)
    pairs.push([V31_ID, lp(...schemes.v31.map((s) => signerRecord(s, 'v3', digest)))]);
  const body = Buffer.concat(
    pairs.map(([id, value]) => {
      const h = Buffer.alloc(12);
      h.writeBigUInt64LE(BigInt(value.length + 4), 0);
      h.writeUInt32LE(id, 8);
      return Buffer.concat([h, value]);
    }),
  );
  const size = BigInt(body.length + 24);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(size);
  const block = Buffer.concat([head, body, head, Buffer.from('APK Sig Block 42', 'latin1')]);
  const eocd = zip.length - 22;
  const cd = zip.readUInt32LE(eocd + 16);
  const out = Buffer.concat([zip.subarray(0, cd), block, zip.subarray(cd)]);
  out.writeUInt32LE(cd + block.length, out.length - 22 + 16);
  return out;
}
