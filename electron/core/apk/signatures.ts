/**
 * APK signatures: which schemes an APK carries (v1 JAR signing by its `META-INF` files; v2 and
 * v3 by their blocks in the APK Signing Block before the central directory), the signer's
 * certificate SHA-256 (what `apksigner verify --print-certs` shows), and verification of v2/v3
 * with node's crypto: each signer's signature over its signed data, and the chunked content
 * digest of the whole file (1 MiB chunks of the entries, the central directory and the end of
 * central directory record), read in a streaming fashion so memory does not grow with the APK.
 * v1 signatures are only detected, not verified. Every length is bounds-checked; malformed
 * blocks are `APK_SIGNATURE_INVALID`.
 */
import {
  constants,
  createHash,
  createPublicKey,
  verify as verifySignature,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { fstat, read } from 'node:fs';
import { promisify } from 'node:util';
import { ApkError } from './apk-errors.js';
import type { ZipGeometry } from './zip-reader.js';

const BLOCK_MAGIC = Buffer.from('APK Sig Block 42', 'latin1');
const V2_BLOCK_ID = 0x7109871a;
const V3_BLOCK_ID = 0xf05368c0;
const V31_BLOCK_ID = 0x1b93ad61;
const CHUNK = 1024 * 1024;
/** Largest signing block accepted (real ones are a few KiB; padding makes them 4 KiB-aligned). */
const MAX_BLOCK_BYTES = 16 * 1024 * 1024;
const MAX_SIGNERS = 10;

/** One algorithm: digest used for content and the node crypto parameters of the signature. */
interface Algorithm {
  digest: 'sha256' | 'sha512';
  padding?: 'pss' | 'pkcs1';
  /** Rank for picking the strongest, as apksigner does (higher is preferred). */
  rank: number;
}

const ALGORITHMS = new Map<number, Algorithm>([
  [0x0101, { digest: 'sha256', padding: 'pss', rank: 3 }],
  [0x0102, { digest: 'sha512', padding: 'pss', rank: 6 }],
  [0x0103, { digest: 'sha256', padding: 'pkcs1', rank: 2 }],
  [0x0104, { digest: 'sha512', padding: 'pkcs1', rank: 5 }],
  [0x0201, { digest: 'sha256', rank: 4 }],
  [0x0202, { digest: 'sha512', rank: 7 }],
  [0x0301, { digest: 'sha256', rank: 1 }],
]);

/** One verified v2/v3/v3.1 signer. */
export interface ApkSigner {
  /** SHA-256 (lowercase hex) of the signer's first certificate. */
  certSha256: string;
  /** SDK range this signer is for (v3/v3.1: from its record; v2: the whole range). */
  minSdk: number;
  maxSdk: number;
  /**
   * v3 proof-of-rotation lineage, oldest certificate first and this signer's last (SHA-256
   * each); empty when the signer has no lineage.
   */
  lineage: string[];
}

/** The result of `readSignatures`. */
export interface ApkSignatures {
  /** Schemes present: v1 by its `META-INF` files, v2, v3 and v3.1 by their blocks (`v31` only when present). */
  schemes: { v1: boolean; v2: boolean; v3: boolean; v31?: boolean };
  /**
   * SHA-256 (lowercase hex) of the current signer's first certificate (from v3.1 else v3 else
   * v2 else, once verified by the reader, v1): the signer Android holds the app to.
   */
  signerCertSha256: string[];
  /**
   * v3/v3.1 rotation lineage of the current signer, oldest first, ending with the current
   * signer (SHA-256 each); empty without rotation.
   */
  lineage: string[];
  /** Every signer of the newest scheme present, by SDK range (v3 may have several). */
  signers: ApkSigner[];
  /**
   * True when the v2 block's signers all verified and the content digests match; null when the
   * APK has no v2 block. (A failure throws instead.)
   */
  v2Verified: true | null;
  /** The same for v3. */
  v3Verified: true | null;
  /** The same for v3.1 (block 0x1b93ad61, Android 13+); absent without that block. */
  v31Verified?: true | null;
  /**
   * True when the v1 (JAR) signature verified: checked only for APKs without v2/v3, as
   * Android does; null otherwise. (A failure throws instead.)
   */
  v1Verified: true | null;
}

function bad(message: string): ApkError {
  return new ApkError('APK_SIGNATURE_INVALID', `signature: ${message}`);
}

/** A signer that apksigner refuses: the message says so plainly, with apksigner's reason. */
function notVerified(scheme: string, reason: string, why?: string): ApkError {
  return new ApkError(
    'APK_SIGNATURE_INVALID',
    `NOT verified: ${reason}${why === undefined ? '' : ` (${why})`} [${scheme} signature]`,
  );
}

/** A bounds-checked cursor over length-prefixed APK signature structures. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  get done(): boolean {
    return this.at >= this.buf.length;
  }
  u32(): number {
    if (this.at + 4 > this.buf.length) throw bad('field runs past its block');
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  /** A uint32-length-prefixed slice. */
  prefixed(): Buffer {
    const n = this.u32();
    if (n > this.buf.length - this.at) throw bad('length-prefixed field runs past its block');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /** Every length-prefixed item of a length-prefixed sequence. */
  sequence(max: number): Buffer[] {
    const inner = new Reader(this.prefixed());
    const out: Buffer[] = [];
    while (!inner.done) {
      if (out.length >= max) throw bad('too many items in a sequence');
      out.push(inner.prefixed());
    }
    return out;
  }
}

/** The part of a file handle the verifier uses, so it can also read through a borrowed fd. */
interface FileHandle {
  read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
}

const fstatAsync = promisify(fstat);

function borrowed(fd: number): FileHandle {
  return {
    read: (buffer, offset, length, position) =>
      new Promise((resolve, reject) =>
        read(fd, buffer, offset, length, position, (err, bytesRead) =>
          err === null ? resolve({ bytesRead }) : reject(err),
        ),
      ),
    stat: () => fstatAsync(fd),
  };
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  if (bytesRead !== length) throw bad('file ends early');
  return buf;
}

interface Block {
  start: number;
  pairs: Map<number, Buffer>;
}

async function readSigningBlock(fh: FileHandle, cd: number): Promise<Block | undefined> {
  if (cd < 32) return undefined;
  const footer = await readAt(fh, cd - 24, 24);
  if (!footer.subarray(8).equals(BLOCK_MAGIC)) return undefined;
  const size = Number(footer.readBigUInt64LE(0));
  if (size < 24 || size > MAX_BLOCK_BYTES || size + 8 > cd) throw bad('signing block size invalid');
  const start = cd - size - 8;
  const block = await readAt(fh, start, size + 8);
  if (Number(block.readBigUInt64LE(0)) !== size) throw bad('signing block sizes disagree');
  const pairs = new Map<number, Buffer>();
  for (let at = 8; at < size + 8 - 24;) {
    if (at + 8 > size - 16) throw bad('signing block pair runs past the block');
    const len = Number(block.readBigUInt64LE(at));
    at += 8;
    if (len < 4 || len > size + 8 - 24 - at) throw bad('signing block pair length invalid');
    const id = block.readUInt32LE(at);
    if (!pairs.has(id)) pairs.set(id, block.subarray(at + 4, at + len));
    at += len;
  }
  return { start, pairs };
}

const PROOF_OF_ROTATION_ATTR = 0x3ba06f8c;
const STRIPPING_PROTECTION_ATTR = 0xbeeff00d;
const ROTATION_MIN_SDK_ATTR = 0x559f8b02;
const LINEAGE_VERSION = 1;
const MAX_LINEAGE = 64;
const ANY_SDK = 0x7fffffff;

type Scheme = 'v2' | 'v3' | 'v3.1';

interface SignerResult {
  certSha256: string;
  minSdk: number;
  maxSdk: number;
  lineage: string[];
  /** Content digests this signer claims, by digest name. */
  digests: Map<'sha256' | 'sha512', Buffer>;
  /** Additional attributes of the signed data, by id. */
  attributes: Map<number, Buffer>;
}

function publicKeyOf(der: Buffer, what: string): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (e) {
    throw new ApkError('APK_SIGNATURE_INVALID', `signature: ${what} is unreadable`, { cause: e });
  }
}

function certificateOf(der: Buffer, scheme: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw notVerified(scheme, 'failed to decode certificate');
  }
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

function verifyWith(algo: Algorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return verifySignature(
      algo.digest,
      data,
      algo.padding === undefined
        ? key
        : {
            key,
            padding:
              algo.padding === 'pss'
                ? constants.RSA_PKCS1_PSS_PADDING
                : constants.RSA_PKCS1_PADDING,
            saltLength: algo.digest === 'sha256' ? 32 : 64,
          },
      signature,
    );
  } catch {
    return false;
  }
}

/**
 * Reads a v3 proof-of-rotation record (apksigner's `SigningCertificateLineage`): a version,
 * then nodes of (signed data = certificate + the algorithm the next node is signed with,
 * flags, algorithm, signature); each node after the first is signed by the previous node's key.
 * @returns the SHA-256 of each certificate, oldest first, and the last certificate's DER
 */
function readLineage(value: Buffer, scheme: string): { lineage: string[]; last: Buffer } {
  const r = new Reader(value);
  if (r.u32() !== LINEAGE_VERSION)
    throw notVerified(scheme, 'unknown proof-of-rotation (lineage) version');
  const lineage: string[] = [];
  let previous: { key: KeyObject; algorithm: number } | undefined;
  let last: Buffer | undefined;
  while (!r.done) {
    if (lineage.length >= MAX_LINEAGE) throw bad('lineage has too many certificates');
    const node = new Reader(r.prefixed());
    const signedData = node.prefixed();
    node.u32(); // flags: capabilities granted to the next signer
    const algorithm = node.u32();
    const signature = node.prefixed();
    const sd = new Reader(signedData);
    const certDer = sd.prefixed();
    const signedAlgorithm = sd.u32();
    const n = lineage.length + 1;
    if (previous !== undefined) {
      const algo = ALGORITHMS.get(previous.algorithm);
      if (algo === undefined || !verifyWith(algo, previous.key, signedData, signature))
        throw notVerified(scheme, `lineage certificate #${n} is not signed by the one before it`);
      if (signedAlgorithm !== previous.algorithm)
        throw notVerified(scheme, `lineage certificate #${n}: signing algorithm mismatch`);
    }
    const sha = createHash('sha256').update(certDer).digest('hex');
    if (lineage.includes(sha)) throw notVerified(scheme, `lineage lists certificate #${n} twice`);
    lineage.push(sha);
    previous = { key: certificateOf(certDer, scheme).publicKey, algorithm };
    last = certDer;
  }
  if (last === undefined) throw notVerified(scheme, 'empty proof-of-rotation (lineage)');
  return { lineage, last };
}

/**
 * Checks one v2/v3/v3.1 signer as apksigner does: a supported signature over the signed data
 * made with the record's public key, that key equal to the first certificate's (else "public
 * key mismatch"), the same algorithms in the signatures and the digests, v3's SDK range equal
 * in the record and the signed data, and a lineage ending with the signer's certificate.
 */
function checkSigner(signer: Buffer, scheme: Scheme): SignerResult {
  const v3 = scheme !== 'v2';
  const r = new Reader(signer);
  const signedData = r.prefixed();
  const minSdk = v3 ? r.u32() : 0;
  const maxSdk = v3 ? r.u32() : ANY_SDK;
  const signatures = r.sequence(16).map((s) => {
    const sr = new Reader(s);
    return { algorithm: sr.u32(), signature: sr.prefixed() };
  });
  const publicKeyDer = r.prefixed();
  if (signatures.length === 0) throw notVerified(scheme, 'no signatures');
  const supported = signatures
    .map((s) => ({ ...s, algo: ALGORITHMS.get(s.algorithm) }))
    .filter((s): s is typeof s & { algo: Algorithm } => s.algo !== undefined)
    .sort((a, b) => b.algo.rank - a.algo.rank);
  const best = supported[0];
  if (best === undefined) throw bad('no signature with a supported algorithm');
  const key = publicKeyOf(publicKeyDer, 'the signer’s public key');
  if (!verifyWith(best.algo, key, signedData, best.signature))
    throw notVerified(scheme, 'bad signature', 'the signed data does not verify with its key');
  const sd = new Reader(signedData);
  const digests = new Map<'sha256' | 'sha512', Buffer>();
  const digestAlgorithms: number[] = [];
  for (const d of sd.sequence(16)) {
    const dr = new Reader(d);
    const id = dr.u32();
    digestAlgorithms.push(id);
    const algo = ALGORITHMS.get(id);
    const value = dr.prefixed();
    if (algo !== undefined) digests.set(algo.digest, value);
  }
  const certs = sd.sequence(16);
  const signedMin = v3 ? sd.u32() : minSdk;
  const signedMax = v3 ? sd.u32() : maxSdk;
  const attributes = new Map<number, Buffer>();
  for (const a of sd.sequence(64)) {
    const ar = new Reader(a);
    const id = ar.u32();
    if (!attributes.has(id)) attributes.set(id, a.subarray(4));
  }
  const certDer = certs[0];
  if (certDer === undefined) throw notVerified(scheme, 'no certificates listed');
  const cert = certificateOf(certDer, scheme);
  if (!spki(cert.publicKey).equals(spki(key)))
    throw notVerified(
      scheme,
      'public key mismatch',
      'the signature was made with another key than the certificate names',
    );
  const sigIds = signatures.map((s) => s.algorithm);
  if (
    sigIds.length !== digestAlgorithms.length ||
    sigIds.some((id, i) => id !== digestAlgorithms[i])
  )
    throw notVerified(scheme, 'signature algorithms don’t match between digests and signatures');
  if (signedMin !== minSdk || signedMax !== maxSdk)
    throw notVerified(scheme, 'signer minSdk/maxSdk differ between the record and its signed data');
  if (minSdk > maxSdk) throw notVerified(scheme, 'signer minSdk is above its maxSdk');
  const certSha256 = createHash('sha256').update(certDer).digest('hex');
  let lineage: string[] = [];
  const por = v3 ? attributes.get(PROOF_OF_ROTATION_ATTR) : undefined;
  if (por !== undefined) {
    const read = readLineage(por, scheme);
    if (!read.last.equals(certDer))
      throw notVerified(
        scheme,
        'terminal certificate in the proof-of-rotation record does not match the signing certificate',
      );
    lineage = read.lineage;
  }
  return { certSha256, minSdk, maxSdk, lineage, digests, attributes };
}

/** The chunked content digest over entries, central directory and the adjusted EOCD. */
async function contentDigest(
  fh: FileHandle,
  algorithm: 'sha256' | 'sha512',
  sections: Array<{ start: number; end: number } | Buffer>,
): Promise<Buffer> {
  const chunkDigests: Buffer[] = [];
  const chunkOf = (data: Buffer): void => {
    const prefix = Buffer.alloc(5);
    prefix[0] = 0xa5;
    prefix.writeUInt32LE(data.length, 1);
    chunkDigests.push(createHash(algorithm).update(prefix).update(data).digest());
  };
  const buf = Buffer.alloc(CHUNK);
  for (const s of sections) {
    if (Buffer.isBuffer(s)) {
      for (let at = 0; at < s.length; at += CHUNK) chunkOf(s.subarray(at, at + CHUNK));
      continue;
    }
    for (let at = s.start; at < s.end; at += CHUNK) {
      const n = Math.min(CHUNK, s.end - at);
      const { bytesRead } = await fh.read(buf, 0, n, at);
      if (bytesRead !== n) throw bad('file ends early');
      chunkOf(buf.subarray(0, n));
    }
  }
  const head = Buffer.alloc(5);
  head[0] = 0x5a;
  head.writeUInt32LE(chunkDigests.length, 1);
  const top = createHash(algorithm).update(head);
  for (const d of chunkDigests) top.update(d);
  return top.digest();
}

/**
 * Reads and verifies the signatures of the APK whose zip structure the zip reader checked.
 * The v2/v3 content digest covers exactly the zip the reader parsed: the entries before the
 * signing block, the central directory at `geometry.centralOffset` and the end record at
 * `geometry.eocdOffset`.
 * @param fd an open descriptor of the APK (borrowed: not closed)
 * @param entryNames the zip's entry names (for v1 detection)
 * @param geometry where the zip reader found the central directory and its end record
 * @throws ApkError `APK_SIGNATURE_INVALID` when a v2/v3 block is malformed or a signer fails
 *   apksigner's checks (the message starts with "NOT verified" and names the reason), or the
 *   content digest does not match (a tampered APK)
 */
export async function readSignatures(
  fd: number,
  entryNames: Iterable<string>,
  geometry: ZipGeometry,
): Promise<ApkSignatures> {
  const names = [...entryNames];
  const v1 =
    names.some((n) => /^META-INF\/[^/]+\.SF$/.test(n)) &&
    names.some((n) => /^META-INF\/[^/]+\.(RSA|DSA|EC)$/.test(n));
  const fh = borrowed(fd);
  const { size } = await fh.stat();
  const { eocdOffset: eocd, centralOffset: cd } = geometry;
  const block = await readSigningBlock(fh, cd);
  const result: ApkSignatures = {
    schemes: { v1, v2: false, v3: false },
    signerCertSha256: [],
    lineage: [],
    signers: [],
    v2Verified: null,
    v3Verified: null,
    v1Verified: null,
  };
  if (block === undefined) return result;
  if (geometry.zip64)
    throw notVerified(
      'v2/v3',
      'ZIP64 APK not supported',
      'apksigner and Android’s v2/v3 verifier refuse signed zip64 APKs',
    );
  const eocdBytes = await readAt(fh, eocd, size - eocd);
  eocdBytes.writeUInt32LE(block.start, 16);
  const sections = [{ start: 0, end: block.start }, { start: cd, end: eocd }, eocdBytes];
  const digestCache = new Map<string, Buffer>();
  const verifyScheme = async (value: Buffer, scheme: Scheme): Promise<SignerResult[]> => {
    const signers = new Reader(value).sequence(MAX_SIGNERS);
    if (signers.length === 0) throw bad(`${scheme} block without signers`);
    const out: SignerResult[] = [];
    for (const s of signers) {
      const signer = checkSigner(s, scheme);
      if (signer.digests.size === 0) throw bad('signer without a supported content digest');
      for (const [algo, expected] of signer.digests) {
        let actual = digestCache.get(algo);
        if (actual === undefined) {
          actual = await contentDigest(fh, algo, sections);
          digestCache.set(algo, actual);
        }
        if (!actual.equals(expected))
          throw notVerified(
            scheme,
            `APK content does not match its ${scheme} signature`,
            'digest mismatch: tampered',
          );
      }
      out.push(signer);
    }
    if (scheme !== 'v2') {
      // apksigner: the signers of one scheme cover disjoint SDK ranges.
      const sorted = [...out].sort((a, b) => a.minSdk - b.minSdk);
      for (let i = 1; i < sorted.length; i++)
        if (sorted[i]!.minSdk <= sorted[i - 1]!.maxSdk)
          throw notVerified(scheme, 'signers have overlapping SDK version ranges');
    }
    return out;
  };
  const present = (id: number): Buffer | undefined => block.pairs.get(id);
  const v2 = present(V2_BLOCK_ID);
  const v3 = present(V3_BLOCK_ID);
  const v31 = present(V31_BLOCK_ID);
  let v2Signers: SignerResult[] = [];
  let v3Signers: SignerResult[] = [];
  let newest: SignerResult[] = [];
  if (v2 !== undefined) {
    result.schemes.v2 = true;
    v2Signers = await verifyScheme(v2, 'v2');
    result.v2Verified = true;
    newest = v2Signers;
    for (const s of v2Signers) {
      const strip = s.attributes.get(STRIPPING_PROTECTION_ATTR);
      if (
        strip !== undefined &&
        strip.length >= 4 &&
        strip.readUInt32LE(0) === 3 &&
        v3 === undefined
      )
        throw notVerified(
          'v2',
          'v2 signature indicates the APK is signed using APK Signature Scheme v3, but none was found',
          'signature stripped',
        );
    }
  }
  if (v3 !== undefined) {
    result.schemes.v3 = true;
    v3Signers = await verifyScheme(v3, 'v3');
    result.v3Verified = true;
    newest = v3Signers;
    for (const s of v3Signers)
      if (s.attributes.has(ROTATION_MIN_SDK_ATTR) && v31 === undefined)
        throw notVerified(
          'v3',
          'v3 signer names a v3.1 rotation, but the APK has no v3.1 block',
          'signature stripped',
        );
  }
  if (v31 !== undefined) {
    result.schemes.v31 = true;
    newest = await verifyScheme(v31, 'v3.1');
    result.v31Verified = true;
  }
  // apksigner: the v2 signers must be the v3 signer, or (with rotation) its oldest certificate.
  if (v2Signers.length > 0 && v3Signers.length > 0) {
    const v2Certs = new Set(v2Signers.map((s) => s.certSha256));
    for (const s of v3Signers) {
      const oldest = s.lineage[0] ?? s.certSha256;
      if (!v2Certs.has(oldest) && !v2Certs.has(s.certSha256))
        throw notVerified('v2/v3', 'v2 signers and v3 signers do not match');
    }
  }
  result.signers = newest.map(({ certSha256, minSdk, maxSdk, lineage }) => ({
    certSha256,
    minSdk,
    maxSdk,
    lineage,
  }));
  // The current signer: the one for the newest platform (v3 may have one per SDK range).
  const current = [...newest].sort((a, b) => b.maxSdk - a.maxSdk)[0];
  result.signerCertSha256 =
    v3 !== undefined || v31 !== undefined
      ? current === undefined
        ? []
        : [current.certSha256]
      : newest.map((s) => s.certSha256);
  result.lineage = current?.lineage ?? [];
  return result;
}
