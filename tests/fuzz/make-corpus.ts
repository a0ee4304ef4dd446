/**
 * Writes the seeds that need real tools into `tests/fuzz/corpus/` (run once, results committed:
 * keys and signatures are random, and the corpus must stay fixed for a fixed-seed run):
 * signing blocks with v2, v3 and v3.1 signers (openssl-made EC keys), a v1 PKCS#7 block made
 * by `openssl cms`, and the report of the built isolation probe on this host.
 * The probe's report is kept as `.out` so formatters leave its bytes as the probe wrote them.
 * Usage: `npm run fuzz -- make-corpus`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { keyDir, lineageRecord, makeTestKey, signZip } from '../unit/core/apk/apk-sign-writer.js';
import { CORPUS_DIR } from './engine.js';
import { BASE_ZIP } from './targets/signatures.js';
import { V1_SF } from './targets/v1-signature.js';

/** The signing block `signZip` inserted into `BASE_ZIP`. */
function blockOf(signed: Buffer): Buffer {
  const cd = BASE_ZIP.readUInt32LE(BASE_ZIP.length - 22 + 16);
  return signed.subarray(cd, cd + signed.length - BASE_ZIP.length);
}

/** Writes the corpus files; returns their paths. */
export function makeCorpus(): string[] {
  const written: string[] = [];
  const put = (target: string, name: string, data: Buffer): void => {
    const dir = path.join(CORPUS_DIR, target);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    writeFileSync(file, data);
    written.push(file);
  };
  const keys = keyDir();
  try {
    const a = makeTestKey(keys.dir, 'fuzz-a');
    const b = makeTestKey(keys.dir, 'fuzz-b');
    put('signatures', 'v2.bin', blockOf(signZip(BASE_ZIP, { v2: [{ key: a }] })));
    put(
      'signatures',
      'v2-v3.bin',
      blockOf(
        signZip(BASE_ZIP, { v2: [{ key: a }], v3: [{ key: a, minSdk: 24, maxSdk: 0x7fffffff }] }),
      ),
    );
    put('signatures', 'v3-lineage-v31.bin', blockOf(signZip(BASE_ZIP, {
      v3: [{ key: a, minSdk: 24, maxSdk: 32 }],
      v31: [{ key: b, minSdk: 33, maxSdk: 0x7fffffff, attributes: [[0x3ba06f8c, lineageRecord([a, b])]] }],
    }))); // prettier-ignore
    const sf = path.join(keys.dir, 'CERT.SF');
    writeFileSync(sf, V1_SF);
    const key = path.join(keys.dir, 'fuzz-a.key.pem');
    const out = path.join(keys.dir, 'CERT.RSA');
    execFileSync('openssl', ['cms', '-sign', '-binary', '-noattr', '-outform', 'DER', '-md', 'sha256', '-in', sf, '-signer', a.certPem, '-inkey', key, '-out', out]); // prettier-ignore
    put('v1-signature', 'cert-ec.bin', readFileSync(out));
  } finally {
    keys.remove();
  }
  const probe = path.resolve(CORPUS_DIR, '../../../native/probe/build/droidway-probe');
  if (existsSync(probe)) put('probe-output', 'host-report.out', execFileSync(probe));
  return written;
}
