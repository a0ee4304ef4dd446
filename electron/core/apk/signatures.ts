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
import { constants, createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { fstat, read } from 'node:fs';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ApkError } from './apk-errors.js';

const BLOCK_MAGIC = Buffer.from('APK Sig Block 42', 'latin1');
const V2_BLOCK_ID = 0x7109871a;
const V3_BLOCK_ID = 0xf05368c0;
const EOCD_SIGNATURE = 0x06054b50;
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

/** The result of `readSignatures`. */
export interface ApkSignatures {
  /** Schemes present: v1 by its `META-INF` files, v2 and v3 by their blocks. */
  schemes: { v1: boolean; v2: boolean; v3: boolean };
  /**
   * SHA-256 (lowercase hex) of each signer's first certificate, from v3 else v2 else (once
   * verified by the reader) v1.
   */
  signerCertSha256: string[];
  /**
   * True when the v2 block's signers all verified and the content digests match; null when the
   * APK has no v2 block. (A failure throws instead.)
   */
  v2Verified: true | null;
  /** The same for v3. */
  v3Verified: true | null;
  /**
   * True when the v1 (JAR) signature verified: checked only for APKs without v2/v3, as
   * Android does; null otherwise. (A failure throws instead.)
   */
  v1Verified: true | null;
}

function bad(message: string): ApkError {
  return new ApkError('APK_SIGNATURE_INVALID', `signature: ${message}`);
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

/** Offsets of the end of central directory record and the central directory. */
async function locateEocd(fh: FileHandle, size: number): Promise<{ eocd: number; cd: number }> {
  const tail = Math.min(size, 22 + 0xffff);
  const buf = await readAt(fh, size - tail, tail);
  for (let i = tail - 22; i >= 0; i--) {
    if (buf.readUInt32LE(i) !== EOCD_SIGNATURE) continue;
    if (i + 22 + buf.readUInt16LE(i + 20) !== tail) continue;
    const cd = buf.readUInt32LE(i + 16);
    const eocd = size - tail + i;
    if (cd > eocd) throw bad('central directory offset past its end record');
    return { eocd, cd };
  }
  throw bad('no end of central directory record');
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

interface SignerResult {
  certSha256: string;
  /** Content digests this signer claims, by digest name. */
  digests: Map<'sha256' | 'sha512', Buffer>;
}

/** Checks one v2/v3 signer's signature over its signed data; returns its claims. */
function checkSigner(signer: Buffer, v3: boolean): SignerResult {
  const r = new Reader(signer);
  const signedData = r.prefixed();
  if (v3) {
    r.u32();
    r.u32();
  }
  const signatures = r.sequence(16).map((s) => {
    const sr = new Reader(s);
    return { algorithm: sr.u32(), signature: sr.prefixed() };
  });
  const publicKeyDer = r.prefixed();
  const supported = signatures
    .map((s) => ({ ...s, algo: ALGORITHMS.get(s.algorithm) }))
    .filter((s): s is typeof s & { algo: Algorithm } => s.algo !== undefined)
    .sort((a, b) => b.algo.rank - a.algo.rank);
  const best = supported[0];
  if (best === undefined) throw bad('no signature with a supported algorithm');
  let key;
  try {
    key = createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' });
  } catch (e) {
    throw new ApkError('APK_SIGNATURE_INVALID', 'signature: unreadable public key', { cause: e });
  }
  const ok = verifySignature(
    best.algo.digest,
    signedData,
    best.algo.padding === undefined
      ? key
      : {
          key,
          padding:
            best.algo.padding === 'pss'
              ? constants.RSA_PKCS1_PSS_PADDING
              : constants.RSA_PKCS1_PADDING,
          saltLength: best.algo.digest === 'sha256' ? 32 : 64,
        },
    best.signature,
  );
  if (!ok) throw bad('a signer’s signature does not verify');
  const sd = new Reader(signedData);
  const digests = new Map<'sha256' | 'sha512', Buffer>();
  for (const d of sd.sequence(16)) {
    const dr = new Reader(d);
    const algo = ALGORITHMS.get(dr.u32());
    const value = dr.prefixed();
    if (algo !== undefined) digests.set(algo.digest, value);
  }
  const certs = sd.sequence(16);
  const cert = certs[0];
  if (cert === undefined) throw bad('signer without a certificate');
  return { certSha256: createHash('sha256').update(cert).digest('hex'), digests };
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
 * Reads and verifies the signatures of the APK at `file`.
 * @param file path of the APK, or an open descriptor of it (borrowed: not closed)
 * @param entryNames the zip's entry names (for v1 detection)
 * @throws ApkError `APK_SIGNATURE_INVALID` when a v2/v3 block is malformed, a signer's
 *   signature fails, or the content digest does not match (a tampered APK)
 */
export async function readSignatures(
  file: string | number,
  entryNames: Iterable<string>,
): Promise<ApkSignatures> {
  const names = [...entryNames];
  const v1 =
    names.some((n) => /^META-INF\/[^/]+\.SF$/.test(n)) &&
    names.some((n) => /^META-INF\/[^/]+\.(RSA|DSA|EC)$/.test(n));
  const owned = typeof file === 'string' ? await open(file, 'r') : undefined;
  const fh: FileHandle = owned ?? borrowed(file as number);
  try {
    const { size } = await fh.stat();
    const { eocd, cd } = await locateEocd(fh, size);
    const block = await readSigningBlock(fh, cd);
    const result: ApkSignatures = {
      schemes: { v1, v2: false, v3: false },
      signerCertSha256: [],
      v2Verified: null,
      v3Verified: null,
      v1Verified: null,
    };
    if (block === undefined) return result;
    const eocdBytes = await readAt(fh, eocd, size - eocd);
    eocdBytes.writeUInt32LE(block.start, 16);
    const sections = [{ start: 0, end: block.start }, { start: cd, end: eocd }, eocdBytes];
    const digestCache = new Map<string, Buffer>();
    const verifyScheme = async (value: Buffer, v3: boolean): Promise<string[]> => {
      const signers = new Reader(value).sequence(MAX_SIGNERS);
      if (signers.length === 0) throw bad('signature block without signers');
      const certs: string[] = [];
      for (const s of signers) {
        const { certSha256, digests } = checkSigner(s, v3);
        if (digests.size === 0) throw bad('signer without a supported content digest');
        for (const [algo, expected] of digests) {
          let actual = digestCache.get(algo);
          if (actual === undefined) {
            actual = await contentDigest(fh, algo, sections);
            digestCache.set(algo, actual);
          }
          if (!actual.equals(expected))
            throw bad(`APK content does not match its v${v3 ? 3 : 2} signature (tampered)`);
        }
        certs.push(certSha256);
      }
      return certs;
    };
    const v2 = block.pairs.get(V2_BLOCK_ID);
    const v3 = block.pairs.get(V3_BLOCK_ID);
    if (v2 !== undefined) {
      result.schemes.v2 = true;
      result.signerCertSha256 = await verifyScheme(v2, false);
      result.v2Verified = true;
    }
    if (v3 !== undefined) {
      result.schemes.v3 = true;
      result.signerCertSha256 = await verifyScheme(v3, true);
      result.v3Verified = true;
    }
    return result;
  } finally {
    await owned?.close();
  }
}
