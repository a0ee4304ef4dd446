/**
 * APK v1 (JAR) signature verification, as Android does it for an APK without a v2/v3 block:
 * the signature block (`META-INF/X.RSA|.DSA|.EC`, PKCS#7 SignedData) must verify over its
 * signature file (`X.SF`) with the signer certificate's key; the `.SF` must vouch for
 * `META-INF/MANIFEST.MF` (the whole-manifest digest, else each section's digest); and every
 * entry outside `META-INF/` must be listed in the manifest with a matching digest. The DER
 * reader is minimal and bounds-checked; problems are `APK_SIGNATURE_INVALID`.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';
import { ApkError, shown } from './apk-errors.js';
import type { ApkZip } from './zip-reader.js';

/** Largest MANIFEST.MF / .SF / signature block read. */
const MAX_META_BYTES = 64 * 1024 * 1024;
const MAX_SIGNATURE_BLOCK_BYTES = 1024 * 1024;
/** Entries hashed per signature check: every entry outside META-INF. */
const MAX_SECTIONS = 200_000;

/** The result of `verifyV1`. */
export interface V1Result {
  /** SHA-256 (lowercase hex) of each signer's certificate, by signature file name. */
  signerCertSha256: string[];
}

function bad(message: string): ApkError {
  return new ApkError('APK_SIGNATURE_INVALID', `v1 signature: ${message}`);
}

/** One DER element: tag byte, and where its content lies in the buffer. */
interface Der {
  tag: number;
  start: number;
  end: number;
  /** Start of the header (tag byte), for re-encoding spans. */
  headerStart: number;
}

function derAt(buf: Buffer, at: number, limit: number): Der {
  if (at + 2 > limit) throw bad('DER element runs past its parent');
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw bad('multi-byte DER tags are not used in signatures');
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw bad('DER length form not allowed');
    if (p + n > limit) throw bad('DER length runs past its parent');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) throw bad('DER element runs past its parent');
  return { tag, start: p, end: p + len, headerStart: at };
}

function children(buf: Buffer, parent: Der, max = 10_000): Der[] {
  const out: Der[] = [];
  for (let at = parent.start; at < parent.end;) {
    const d = derAt(buf, at, parent.end);
    out.push(d);
    if (out.length > max) throw bad('too many DER elements');
    at = d.end;
  }
  return out;
}

function expectTag(d: Der | undefined, tag: number, what: string): Der {
  if (d === undefined || d.tag !== tag) throw bad(`${what} missing or malformed`);
  return d;
}

function oid(buf: Buffer, d: Der): string {
  const b = buf.subarray(d.start, d.end);
  if (b.length === 0 || b.length > 64) throw bad('object identifier malformed');
  const parts = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw bad('object identifier malformed');
    if ((b[i]! & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const DIGESTS = new Map<string, string>([
  ['1.3.14.3.2.26', 'sha1'],
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

interface SignerInfo {
  digest: string;
  signature: Buffer;
  serialHex: string;
  /** DER of the authenticated attributes re-tagged as a SET, when present. */
  signedAttrs?: Buffer;
  messageDigest?: Buffer;
}

/** Parses a PKCS#7 SignedData block: its certificates (DER) and first signer. */
function parsePkcs7(buf: Buffer): { certs: Buffer[]; signer: SignerInfo } {
  const top = derAt(buf, 0, buf.length);
  const ci = children(buf, expectTag(top, 0x30, 'ContentInfo'));
  if (oid(buf, expectTag(ci[0], 0x06, 'content type')) !== OID_SIGNED_DATA)
    throw bad('signature block is not PKCS#7 SignedData');
  const explicit = children(buf, expectTag(ci[1], 0xa0, 'SignedData'));
  const sd = children(buf, expectTag(explicit[0], 0x30, 'SignedData'));
  let i = 3; // version, digestAlgorithms, contentInfo
  if (sd.length < 4) throw bad('SignedData too short');
  const certs: Buffer[] = [];
  if (sd[i]?.tag === 0xa0) {
    for (const c of children(buf, sd[i]!, 64)) certs.push(buf.subarray(c.headerStart, c.end));
    i++;
  }
  if (sd[i]?.tag === 0xa1) i++;
  const infos = children(buf, expectTag(sd[i], 0x31, 'signerInfos'), 16);
  const si = children(buf, expectTag(infos[0], 0x30, 'SignerInfo'));
  const ias = children(buf, expectTag(si[1], 0x30, 'issuerAndSerialNumber'));
  const serial = expectTag(ias[1], 0x02, 'serial number');
  const digestAlg = children(buf, expectTag(si[2], 0x30, 'digest algorithm'));
  const digest = DIGESTS.get(oid(buf, expectTag(digestAlg[0], 0x06, 'digest algorithm')));
  if (digest === undefined) throw bad('unsupported digest algorithm');
  let k = 3;
  const signer: SignerInfo = {
    digest,
    signature: Buffer.alloc(0),
    serialHex: buf
      .subarray(serial.start, serial.end)
      .toString('hex')
      .replace(/^(00)+(?=.)/, ''),
  };
  if (si[k]?.tag === 0xa0) {
    const attrs = si[k]!;
    // Signed attributes are signed as a SET OF (tag 0x31), not the [0] IMPLICIT they travel as.
    const der = Buffer.from(buf.subarray(attrs.headerStart, attrs.end));
    der[0] = 0x31;
    signer.signedAttrs = der;
    for (const attr of children(buf, attrs, 64)) {
      const parts = children(buf, expectTag(attr, 0x30, 'attribute'));
      const type = oid(buf, expectTag(parts[0], 0x06, 'attribute type'));
      const values = children(buf, expectTag(parts[1], 0x31, 'attribute values'));
      if (type === OID_MESSAGE_DIGEST) {
        const v = expectTag(values[0], 0x04, 'message digest');
        signer.messageDigest = buf.subarray(v.start, v.end);
      }
    }
    k++;
  }
  k++; // digestEncryptionAlgorithm: the key type decides, node's verify follows the key
  const sig = expectTag(si[k], 0x04, 'signature');
  signer.signature = buf.subarray(sig.start, sig.end);
  return { certs, signer };
}

/** Parses a manifest-format file into its main section and named sections (raw bytes kept). */
function sections(text: Buffer): Array<{ name?: string; raw: Buffer; attrs: Map<string, string> }> {
  const out: Array<{ name?: string; raw: Buffer; attrs: Map<string, string> }> = [];
  let at = 0;
  while (at < text.length) {
    // A section ends after an empty line; its raw bytes include that line ending.
    let end = at;
    let lineStart = at;
    for (;;) {
      if (end >= text.length) break;
      const nl = text.indexOf(0x0a, end);
      const lineEnd = nl < 0 ? text.length : nl + 1;
      const line = text.subarray(lineStart, lineEnd);
      end = lineEnd;
      lineStart = lineEnd;
      if (line.length === 0 || line.toString('latin1').replace(/\r?\n$/, '') === '') break;
    }
    const raw = text.subarray(at, end);
    at = end;
    const attrs = new Map<string, string>();
    const lines = raw.toString('utf8').split(/\r?\n/);
    const joined: string[] = [];
    for (const l of lines) {
      if (l.startsWith(' ') && joined.length > 0) joined[joined.length - 1] += l.slice(1);
      else if (l !== '') joined.push(l);
    }
    for (const l of joined) {
      const colon = l.indexOf(': ');
      if (colon > 0) attrs.set(l.slice(0, colon).toLowerCase(), l.slice(colon + 2));
    }
    if (attrs.size === 0) continue;
    if (out.length > MAX_SECTIONS) throw bad('manifest has too many sections');
    const name = attrs.get('name');
    out.push(name === undefined ? { raw, attrs } : { name, raw, attrs });
  }
  return out;
}

const DIGEST_ATTRS: Array<[string, string]> = [
  ['sha-512', 'sha512'],
  ['sha-384', 'sha384'],
  ['sha-256', 'sha256'],
  ['sha1', 'sha1'],
  ['sha-1', 'sha1'],
];

/** The strongest `<alg><suffix>` digest attribute of a section. */
function digestAttr(attrs: Map<string, string>, suffix: string): [string, Buffer] | undefined {
  for (const [prefix, alg] of DIGEST_ATTRS) {
    const v = attrs.get(`${prefix}${suffix}`);
    if (v !== undefined) return [alg, Buffer.from(v, 'base64')];
  }
  return undefined;
}

/**
 * Verifies the v1 signature of `zip` (call only when it has no v2/v3 block: Android then relies
 * on v1 alone).
 * @throws ApkError `APK_SIGNATURE_INVALID` naming the first problem
 */
export async function verifyV1(zip: ApkZip): Promise<V1Result> {
  const names = [...zip.entries.keys()];
  const sfs = names.filter((n) => /^META-INF\/[^/]+\.SF$/.test(n));
  if (!zip.entries.has('META-INF/MANIFEST.MF')) throw bad('META-INF/MANIFEST.MF is missing');
  const manifest = await zip.readEntry('META-INF/MANIFEST.MF', { maxBytes: MAX_META_BYTES });
  const mfSections = sections(manifest);
  const certs: string[] = [];
  for (const sfName of sfs) {
    const base = sfName.slice(0, -3);
    const blockName = ['.RSA', '.DSA', '.EC'].map((x) => base + x).find((n) => zip.entries.has(n));
    if (blockName === undefined) throw bad(`${shown(sfName)} has no signature block`);
    const sf = await zip.readEntry(sfName, { maxBytes: MAX_META_BYTES });
    const block = await zip.readEntry(blockName, { maxBytes: MAX_SIGNATURE_BLOCK_BYTES });
    const { certs: certDers, signer } = parsePkcs7(block);
    const certDer =
      certDers.find((c) => {
        try {
          return (
            new X509Certificate(c).serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '') ===
            signer.serialHex
          );
        } catch {
          return false;
        }
      }) ?? certDers[0];
    if (certDer === undefined) throw bad(`${shown(blockName)} carries no certificate`);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certDer);
    } catch {
      throw bad(`${shown(blockName)} has a malformed certificate`);
    }
    let signed: Buffer = sf;
    if (signer.signedAttrs !== undefined) {
      const md = createHash(signer.digest).update(sf).digest();
      if (signer.messageDigest === undefined || !md.equals(signer.messageDigest))
        throw bad(`${shown(sfName)} does not match the digest its signer signed`);
      signed = signer.signedAttrs;
    }
    let ok = false;
    try {
      ok = verify(signer.digest, signed, cert.publicKey, signer.signature);
    } catch {
      ok = false;
    }
    if (!ok) throw bad(`${shown(blockName)} does not verify over ${shown(sfName)}`);
    checkSignatureFile(sfName, sf, manifest, mfSections);
    certs.push(createHash('sha256').update(certDer).digest('hex'));
  }
  if (certs.length === 0) throw bad('no signature file');

  // Every entry outside META-INF must be in the manifest with its digest.
  const listed = new Map(mfSections.filter((s) => s.name !== undefined).map((s) => [s.name!, s]));
  for (const name of names) {
    if (name.endsWith('/') || name.startsWith('META-INF/')) continue;
    const section = listed.get(name);
    if (section === undefined) throw bad(`entry ${shown(name)} is not covered by the signature`);
    const d = digestAttr(section.attrs, '-digest');
    if (d === undefined) throw bad(`entry ${shown(name)} has no digest in MANIFEST.MF`);
    const actual = await zip.hashEntry(name, d[0], { maxBytes: Number.MAX_SAFE_INTEGER });
    if (!actual.equals(d[1]))
      throw bad(`entry ${shown(name)} does not match its digest (tampered)`);
  }
  return { signerCertSha256: certs };
}

/** The .SF must vouch for the manifest: whole-file digest, else every section's digest. */
function checkSignatureFile(
  sfName: string,
  sf: Buffer,
  manifest: Buffer,
  mfSections: ReturnType<typeof sections>,
): void {
  const sfSections = sections(sf);
  const main = sfSections[0];
  if (main === undefined || main.name !== undefined)
    throw bad(`${shown(sfName)} has no main section`);
  const whole = digestAttr(main.attrs, '-digest-manifest');
  if (whole !== undefined && createHash(whole[0]).update(manifest).digest().equals(whole[1]))
    return;
  const mfByName = new Map(mfSections.filter((s) => s.name !== undefined).map((s) => [s.name!, s]));
  let checked = 0;
  for (const s of sfSections.slice(1)) {
    const d = digestAttr(s.attrs, '-digest');
    const mf = s.name === undefined ? undefined : mfByName.get(s.name);
    if (d === undefined || mf === undefined)
      throw bad(`${shown(sfName)} names a section MANIFEST.MF lacks`);
    if (!createHash(d[0]).update(mf.raw).digest().equals(d[1]))
      throw bad(`MANIFEST.MF section ${shown(s.name!)} does not match ${shown(sfName)} (tampered)`);
    checked++;
  }
  if (checked < mfByName.size) throw bad(`${shown(sfName)} does not cover all of MANIFEST.MF`);
}
