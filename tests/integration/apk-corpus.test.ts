/**
 * A corpus of APK classes built here with aapt, apksigner, openssl and node:crypto, each read by
 * the reader and by the reference tools (`apksigner verify -v --print-certs`, `aapt dump
 * badging`); the verdicts and the facts must agree. Where Android and aapt differ, the
 * difference is named with the case, and the reader follows Android:
 *
 * - a label reference that does not resolve (a cycle, a chain past Android's 20 levels): aapt
 *   dump badging stops with an error; Android shows no label; the reader gives no label.
 * - an unsigned APK: apksigner says it does not verify; the reader reads it as unsigned (Android
 *   would not install it, and the info says "unsigned").
 * - a literal (not `@string/…`) label: aapt dump badging prints `label=''`; Android shows the
 *   text, and so does the reader. The corpus uses resource labels so the two can be compared.
 * - a deflated resources table past the reader's 8 MiB in-memory limit: aapt resolves the label;
 *   the reader reads the APK without label and icon and says so. (A stored one of any size,
 *   such as framework-res.apk's 31 MB table, is read on demand and resolved.)
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { ApkError } from '../../electron/core/apk/apk-errors.js';
import { readApkInfo, type ApkInfo } from '../../electron/core/apk/apk-reader.js';
import { openApkZip } from '../../electron/core/apk/zip-reader.js';
import { apkToolsMissing, FRAMEWORK_RES } from '../fixtures/apk/build-fixtures.js';
import { aaptBadging, apksignerVerify, type Badging } from '../fixtures/apk/reference-tools.js';
import { itNeeds } from '../helpers/capability.js';
import { keyDir, makeTestKey, signZip, type TestKey } from '../unit/core/apk/apk-sign-writer.js';

const missing = apkToolsMissing();
const NS = 'xmlns:android="http://schemas.android.com/apk/res/android"';
const LAUNCHER = `<intent-filter><action android:name="android.intent.action.MAIN"/>
  <category android:name="android.intent.category.LAUNCHER"/></intent-filter>`;

const STRINGS = '<resources><string name="app_name">Corpus</string></resources>';
let dir: string;
let keys: ReturnType<typeof keyDir>;
let a: TestKey;
let b: TestKey;
let n = 0;

beforeAll(async () => {
  if (missing !== null) return;
  dir = await mkdtemp(path.join(tmpdir(), 'apk-corpus-'));
  keys = keyDir();
  a = makeTestKey(keys.dir, 'corpus-a');
  b = makeTestKey(keys.dir, 'corpus-b');
});

afterAll(async () => {
  if (missing !== null) return;
  await rm(dir, { recursive: true, force: true });
  keys.remove();
});

/** Compiles a manifest and res/ files with aapt (and assets), unsigned; returns the path. */
async function aaptPackage(
  manifest: string,
  res: Record<string, string> = { 'values/strings.xml': STRINGS },
  assets: Record<string, Buffer> = {},
): Promise<string> {
  const root = path.join(dir, `src${n++}`);
  await mkdir(path.join(root, 'res'), { recursive: true });
  await writeFile(path.join(root, 'AndroidManifest.xml'), manifest);
  for (const [file, text] of Object.entries(res)) {
    await mkdir(path.dirname(path.join(root, 'res', file)), { recursive: true });
    await writeFile(path.join(root, 'res', file), text);
  }
  const args = ['package', '-f', '-M', path.join(root, 'AndroidManifest.xml')];
  args.push('-S', path.join(root, 'res'), '-I', FRAMEWORK_RES);
  if (Object.keys(assets).length > 0) {
    await mkdir(path.join(root, 'assets'), { recursive: true });
    for (const [file, bytes] of Object.entries(assets))
      await writeFile(path.join(root, 'assets', file), bytes);
    args.push('-A', path.join(root, 'assets'));
  }
  const out = path.join(dir, `unsigned${n++}.apk`);
  execFileSync('aapt', [...args, '-F', out], { stdio: 'pipe' });
  return out;
}

/** Signs `apk` with apksigner and key `k`; extra flags pick schemes, SDKs, lineage. */
function apksign(apk: string, k: TestKey, extra: string[] = []): string {
  const out = path.join(dir, `signed${n++}.apk`);
  execFileSync('apksigner', [
    'sign', '--key', k.pk8, '--cert', k.certPem, '--out', out, ...extra, apk,
  ]); // prettier-ignore
  return out;
}

function manifestXml(options: {
  pkg?: string;
  sdk?: string;
  body?: string;
  app?: string;
  activity?: string;
}): string {
  return `<manifest ${NS} package="${options.pkg ?? 'org.example.corpus'}" android:versionCode="3">
  <uses-sdk ${options.sdk ?? 'android:minSdkVersion="24" android:targetSdkVersion="29"'}/>
  ${options.body ?? ''}
  <application ${options.app ?? 'android:label="@string/app_name"'}>
    <activity android:name=".Main" ${options.activity ?? ''}>${LAUNCHER}</activity>
  </application>
</manifest>`;
}

type Ours = ApkInfo | ApkError;

async function ours(file: string): Promise<Ours> {
  return readApkInfo(file).catch((e: unknown) => {
    if (e instanceof ApkError) return e;
    throw e;
  });
}

function badging(file: string): Badging | { error: string } {
  try {
    return aaptBadging(file);
  } catch (e) {
    return { error: String((e as { stderr?: Buffer }).stderr ?? e) };
  }
}

/**
 * Reads `file` with the reader and both reference tools and checks that they agree: on
 * "verified by whom" with apksigner, on identity, label (the launcher's, as aapt's
 * launchable-activity line shows it) and implied features with aapt.
 * @returns the three answers, for case-specific checks
 */
async function agree(
  file: string,
  options: { unsigned?: boolean } = {},
): Promise<{
  info: Ours;
  signer: ReturnType<typeof apksignerVerify>;
  aapt: ReturnType<typeof badging>;
}> {
  const info = await ours(file);
  const signer = apksignerVerify(file);
  const aapt = badging(file);
  if (signer.verified) {
    expect(info, `apksigner verifies ${path.basename(file)}`).not.toBeInstanceOf(ApkError);
    const sig = (info as ApkInfo).signatures;
    expect(sig.signerCertSha256).toEqual(signer.certs);
    expect({ v2: sig.schemes.v2 && sig.v2Verified, v3: sig.schemes.v3 && sig.v3Verified }).toEqual({
      v2: signer.schemes.v2,
      v3: signer.schemes.v3,
    });
  } else if (options.unsigned === true) {
    // Documented difference: unsigned is read (and shown as unsigned), not refused.
    expect((info as ApkInfo).signatures.signerCertSha256).toEqual([]);
  } else {
    expect(info, `apksigner refuses: ${signer.errors.join('; ')}`).toBeInstanceOf(ApkError);
    expect((info as ApkError).code).toMatch(/^APK_(SIGNATURE_INVALID|ZIP_INVALID)$/);
  }
  if (!(info instanceof ApkError) && !('error' in aapt)) {
    expect(info.packageName).toBe(aapt.packageName);
    expect(info.versionCode).toBe(aapt.versionCode);
    expect(info.minSdkVersion).toBe(aapt.minSdkVersion);
    expect(info.targetSdkVersion).toBe(aapt.targetSdkVersion);
    const shown = aapt.launcherLabel || aapt.labels[''];
    if (!info.warnings.some((w) => /label and icon not resolved/.test(w)))
      expect(info.labels[''] ?? '').toBe(shown ?? '');
    expect(info.impliedFeatures).toEqual(aapt.implied);
  }
  return { info, signer, aapt };
}

describe('the reader agrees with apksigner and aapt', () => {
  itNeeds('a valid APK signed with v1, v2 and v3', missing, async () => {
    const unsigned = await aaptPackage(manifestXml({}));
    const { info } = await agree(apksign(unsigned, a, ['--v3-signing-enabled', 'true']));
    expect((info as ApkInfo).signatures.signerCertSha256).toEqual([a.sha256]);
  });

  itNeeds(
    'an APK v2-signed by hand with node:crypto (the forgery helper is sound)',
    missing,
    async () => {
      const unsigned = await readFile(await aaptPackage(manifestXml({})));
      const file = path.join(dir, 'hand-v2.apk');
      await writeFile(file, signZip(unsigned, { v2: [{ key: a }] }));
      const { signer } = await agree(file);
      expect(signer.verified).toBe(true);
      expect(signer.certs).toEqual([a.sha256]);
    },
  );

  itNeeds('a forged v2 signer: key B, certificate A', missing, async () => {
    const unsigned = await readFile(await aaptPackage(manifestXml({})));
    const file = path.join(dir, 'forged-v2.apk');
    await writeFile(file, signZip(unsigned, { v2: [{ key: b, certs: [a.cert] }] }));
    const { info, signer } = await agree(file);
    expect(signer.errors.join('\n')).toMatch(/Public key mismatch/i);
    expect((info as ApkError).message).toBe(
      'NOT verified: public key mismatch (the signature was made with another key than the certificate names) [v2 signature]',
    );
  });

  itNeeds('a forged v3 signer beside an honest v2 one', missing, async () => {
    const unsigned = await readFile(await aaptPackage(manifestXml({})));
    const file = path.join(dir, 'forged-v3.apk');
    await writeFile(
      file,
      signZip(unsigned, { v2: [{ key: a }], v3: [{ key: b, certs: [a.cert] }] }),
    );
    const { info } = await agree(file);
    expect((info as ApkError).message).toMatch(/public key mismatch .*\[v3 signature\]/);
  });

  itNeeds('a v3 key rotation: the current signer and its lineage', missing, async () => {
    const lineage = path.join(dir, 'lineage');
    execFileSync('apksigner', [
      'rotate', '--out', lineage, '--old-signer', '--key', a.pk8, '--cert', a.certPem,
      '--new-signer', '--key', b.pk8, '--cert', b.certPem,
    ]); // prettier-ignore
    const unsigned = await aaptPackage(manifestXml({}));
    const out = path.join(dir, `rotated.apk`);
    execFileSync('apksigner', [
      'sign', '--key', a.pk8, '--cert', a.certPem, '--next-signer', '--key', b.pk8,
      '--cert', b.certPem, '--lineage', lineage, '--out', out, unsigned,
    ]); // prettier-ignore
    const { info, signer } = await agree(out);
    expect(signer.certs).toEqual([b.sha256]);
    expect((info as ApkInfo).signatures.lineage).toEqual([a.sha256, b.sha256]);
  });

  itNeeds(
    'v1 only: accepted below targetSdk 30, refused from 30 as apksigner says',
    missing,
    async () => {
      const v1 = ['--v2-signing-enabled', 'false', '--v3-signing-enabled', 'false'];
      const old = await agree(apksign(await aaptPackage(manifestXml({})), a, v1));
      expect((old.info as ApkInfo).signatures.v1Verified).toBe(true);
      const sdk30 = 'android:minSdkVersion="24" android:targetSdkVersion="30"';
      const refused = await agree(apksign(await aaptPackage(manifestXml({ sdk: sdk30 })), a, v1));
      expect(refused.signer.errors.join('\n')).toMatch(/requires a minimum of signature scheme v2/);
      expect((refused.info as ApkError).message.toLowerCase()).toContain(
        refused.signer.errors[0]!.replace(/\.$/, '').toLowerCase(),
      );
    },
  );

  itNeeds('a signed APK with a 4 MiB zero-filled asset', missing, async () => {
    const unsigned = await aaptPackage(manifestXml({}), undefined, {
      'zeros.bin': Buffer.alloc(4 << 20),
    });
    const signed = apksign(unsigned, a);
    const { info } = await agree(signed);
    expect((info as ApkInfo).entryCount).toBeGreaterThan(1);
    // Deflated about 1000:1: what the old per-entry 200:1 cap refused.
    const zip = await openApkZip(signed);
    try {
      expect(zip.entries.get('assets/zeros.bin')!.compressedSize).toBeLessThan((4 << 20) / 200);
    } finally {
      await zip.close();
    }
  });

  itNeeds('a signed APK whose end records were given a zip64 split view', missing, async () => {
    const signed = await readFile(apksign(await aaptPackage(manifestXml({})), a));
    // Add zip64 end records naming a central directory 46 bytes further on.
    const eocd = signed.length - 22;
    const cd = signed.readUInt32LE(eocd + 16);
    const cdSize = signed.readUInt32LE(eocd + 12);
    const count = signed.readUInt16LE(eocd + 10);
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(cdSize), 40);
    record.writeBigUInt64LE(BigInt(cd + 46), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(eocd), 8);
    locator.writeUInt32LE(1, 16);
    const file = path.join(dir, 'split-view.apk');
    await writeFile(
      file,
      Buffer.concat([signed.subarray(0, eocd), record, locator, signed.subarray(eocd)]),
    );
    const { info } = await agree(file);
    expect((info as ApkError).code).toBe('APK_ZIP_INVALID');
  });

  itNeeds(
    'labels through references: 12 levels resolve; a cycle and 25 levels give none',
    missing,
    async () => {
      let strings = '<resources>';
      for (let i = 0; i < 12; i++) strings += `<string name="a${i}">@string/a${i + 1}</string>`;
      strings += '<string name="a12">Deep</string>';
      strings += '<string name="c0">@string/c1</string><string name="c1">@string/c0</string>';
      for (let i = 0; i < 25; i++) strings += `<string name="d${i}">@string/d${i + 1}</string>`;
      strings += '<string name="d25">Too deep</string></resources>';
      const res = { 'values/strings.xml': strings };
      const deep = await agree(
        apksign(await aaptPackage(manifestXml({ app: 'android:label="@string/a0"' }), res), a),
      );
      expect((deep.info as ApkInfo).labels['']).toBe('Deep');
      for (const label of ['c0', 'd0']) {
        const apk = apksign(
          await aaptPackage(manifestXml({ app: `android:label="@string/${label}"` }), res),
          a,
        );
        const { info, aapt } = await agree(apk);
        // Documented difference: aapt stops; Android (and the reader) show no label.
        expect(aapt).toHaveProperty('error');
        expect((info as ApkInfo).labels).toEqual({});
      }
    },
  );

  itNeeds('the launcher activity’s own label and icon, and implied features', missing, async () => {
    const res = {
      'values/strings.xml':
        '<resources><string name="app">App</string><string name="launch">Launch me</string></resources>',
      'drawable/app.xml': '<shape xmlns:android="http://schemas.android.com/apk/res/android"/>',
    };
    const manifest = manifestXml({
      // minSdk 18: the first with ECDSA v1 signatures (the test key is EC).
      sdk: 'android:minSdkVersion="18" android:targetSdkVersion="19"',
      body: `<uses-permission android:name="android.permission.CAMERA"/>
        <uses-permission android:name="android.permission.ACCESS_FINE_LOCATION"/>
        <uses-permission android:name="android.permission.BLUETOOTH"/>
        <uses-permission android:name="android.permission.SEND_SMS"/>
        <uses-permission-sdk-23 android:name="android.permission.ACCESS_WIFI_STATE"/>
        <uses-feature android:name="android.hardware.microphone" android:required="false"/>
        <uses-permission android:name="android.permission.RECORD_AUDIO"/>`,
      app: 'android:label="@string/app"',
      activity: 'android:label="@string/launch" android:screenOrientation="sensorLandscape"',
    });
    const { info, aapt } = await agree(apksign(await aaptPackage(manifest, res), a));
    expect((info as ApkInfo).labels['']).toBe('Launch me');
    expect((aapt as Badging).implied.length).toBeGreaterThan(5);
  });

  itNeeds('framework-res.apk: the package named android', missing, async () => {
    const { info, aapt } = await agree(FRAMEWORK_RES, { unsigned: true });
    expect((info as ApkInfo).packageName).toBe('android');
    expect((aapt as Badging).packageName).toBe('android');
    // Its 31 MB table is read on demand: the label resolves, in every locale aapt lists.
    expect((info as ApkInfo).labels['']).toBe((aapt as Badging).labels['']);
    expect((info as ApkInfo).labels['fr']).toBe((aapt as Badging).labels['fr']);
    expect((info as ApkInfo).warnings).toEqual([]);
  });
});
