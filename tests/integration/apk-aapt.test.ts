/**
 * ApkReader against APKs built by Debian's `aapt` (compiled against the framework resources of
 * the `android-framework-res` package) and signed by `apksigner`: every fact the reader gives
 * must agree with `aapt dump badging` on the same file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { readApkInfo, type ApkInfo } from '../../electron/core/apk/apk-reader.js';
import { itNeeds } from '../helpers/capability.js';

const FRAMEWORK = '/usr/share/android-framework-res/framework-res.apk';

function tool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = !tool('aapt')
  ? 'aapt not installed (apt-get install aapt)'
  : !existsSync(FRAMEWORK)
    ? `${FRAMEWORK} missing (apt-get install android-framework-res)`
    : !tool('apksigner') || !tool('keytool')
      ? 'apksigner/keytool not installed'
      : null;

/** A 1×1 RGBA PNG. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 255, 0, 0, 255]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

interface Fixture {
  name: string;
  manifest: string;
  strings: Record<string, string>;
  libs?: string[];
  /** Drawable folders that get `icon.png` (`drawable`, `drawable-hdpi` …). */
  iconDirs: string[];
  /** `all`: apksigner's defaults (v1+v2+v3 for minSdk 21); `v2`: v2 only; absent: unsigned. */
  sign?: 'all' | 'v2';
  /** Which test key signs: one made by keytool or one made by openssl. */
  key?: 'keytool' | 'openssl';
  /**
   * Launcher reached through an `<activity-alias>`: aapt's badging ignores aliases (it reports
   * only `<activity>` elements), Android's launcher does not, so the test names it here.
   */
  alias?: { name: string; target: string };
}

const ACTIVITY_MAIN = `<intent-filter><action android:name="android.intent.action.MAIN"/>
  <category android:name="android.intent.category.LAUNCHER"/></intent-filter>`;

const fixtures: Fixture[] = [
  {
    name: 'hello',
    manifest: `<manifest xmlns:android="http://schemas.android.com/apk/res/android"
  package="org.example.hello" android:versionCode="7" android:versionName="1.2">
  <uses-sdk android:minSdkVersion="21" android:targetSdkVersion="30"/>
  <uses-permission android:name="android.permission.INTERNET"/>
  <uses-permission android:name="android.permission.CAMERA"/>
  <application android:label="@string/app_name" android:icon="@drawable/icon">
    <activity android:name=".Main">${ACTIVITY_MAIN}</activity>
  </application>
</manifest>`,
    strings: { '': 'Hello', fr: 'Bonjour', 'de-rDE': 'Hallo' },
    iconDirs: ['drawable-mdpi', 'drawable-xxhdpi', 'drawable-hdpi'],
    sign: 'all',
    key: 'keytool',
  },
  {
    name: 'alias-native',
    manifest: `<manifest xmlns:android="http://schemas.android.com/apk/res/android"
  package="org.example.game" android:versionCode="123456" android:versionName="2.0-beta">
  <uses-sdk android:minSdkVersion="26"/>
  <uses-feature android:name="android.hardware.camera" android:required="false"/>
  <application android:label="@string/app_name" android:icon="@drawable/icon">
    <activity android:name="org.example.game.RealMain"/>
    <activity-alias android:name=".Alias" android:targetActivity=".RealMain">
      ${ACTIVITY_MAIN}</activity-alias>
  </application>
</manifest>`,
    strings: { '': 'Game' },
    iconDirs: ['drawable'],
    libs: ['lib/x86_64/libgame.so', 'lib/arm64-v8a/libgame.so'],
    alias: { name: 'org.example.game.Alias', target: 'org.example.game.RealMain' },
  },
  {
    name: 'v2-only',
    manifest: `<manifest xmlns:android="http://schemas.android.com/apk/res/android"
  package="org.example.v2" android:versionCode="3" android:versionName="3">
  <uses-sdk android:minSdkVersion="24" android:targetSdkVersion="34"/>
  <application android:label="@string/app_name">
    <activity android:name="Main">${ACTIVITY_MAIN}</activity>
  </application>
</manifest>`,
    strings: { '': 'Version two' },
    iconDirs: [],
    sign: 'v2',
    key: 'openssl',
  },
];

let dir: string;
const built = new Map<string, string>();

interface Keys {
  keystore: string;
  key: string;
  cert: string;
}

async function build(f: Fixture, keys: Keys): Promise<string> {
  const root = path.join(dir, f.name);
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'AndroidManifest.xml'), f.manifest);
  for (const d of f.iconDirs) {
    await mkdir(path.join(root, 'res', d), { recursive: true });
    await writeFile(path.join(root, 'res', d, 'icon.png'), png());
  }
  for (const [locale, text] of Object.entries(f.strings)) {
    const values = path.join(root, 'res', locale === '' ? 'values' : `values-${locale}`);
    await mkdir(values, { recursive: true });
    await writeFile(
      path.join(values, 'strings.xml'),
      `<resources><string name="app_name">${text}</string></resources>`,
    );
  }
  const unsigned = path.join(dir, `${f.name}.unsigned.apk`);
  execFileSync(
    'aapt',
    ['package', '-f', '-M', 'AndroidManifest.xml', '-S', 'res', '-I', FRAMEWORK, '-F', unsigned],
    {
      cwd: root,
    },
  );
  for (const lib of [...(f.libs ?? []), 'assets/data.txt']) {
    await mkdir(path.join(root, path.dirname(lib)), { recursive: true });
    await writeFile(path.join(root, lib), Buffer.from(`content of ${lib}\n`));
    execFileSync('aapt', ['add', unsigned, lib], { cwd: root, stdio: 'ignore' });
  }
  if (f.sign === undefined) return unsigned;
  const signed = path.join(dir, `${f.name}.apk`);
  const key =
    f.key === 'openssl'
      ? ['--key', keys.key, '--cert', keys.cert]
      : ['--ks', keys.keystore, '--ks-pass', 'pass:testpass'];
  const schemes =
    f.sign === 'v2'
      ? ['--v1-signing-enabled', 'false', '--v2-signing-enabled', 'true']
      : ['--v3-signing-enabled', 'true'];
  execFileSync('apksigner', [
    'sign',
    ...key,
    ...schemes,
    '--v4-signing-enabled',
    'false',
    '--out',
    signed,
    unsigned,
  ]);
  return signed;
}

/** The facts `aapt dump badging` prints that the reader also gives. */
function badging(
  apk: string,
): Partial<ApkInfo> & { launcher?: string; icons: Map<number, string> } {
  const out = execFileSync('aapt', ['dump', 'badging', apk], { encoding: 'utf8' });
  const one = (re: RegExp): string | undefined => re.exec(out)?.[1];
  const launcher = one(/^launchable-activity: name='([^']*)'/m);
  return {
    packageName: one(/^package: name='([^']*)'/m)!,
    versionCode: Number(one(/versionCode='(\d+)'/)),
    versionName: one(/versionName='([^']*)'/)!,
    minSdkVersion: Number(one(/^sdkVersion:'(\d+)'/m)),
    // aapt omits the line when the manifest does not say; Android then targets minSdkVersion.
    targetSdkVersion: Number(one(/^targetSdkVersion:'(\d+)'/m) ?? one(/^sdkVersion:'(\d+)'/m)),
    permissions: [...out.matchAll(/^uses-permission: name='([^']*)'/gm)].map((m) => m[1]!),
    nativeAbis: (one(/^native-code: (.*)$/m) ?? '')
      .split(' ')
      .filter((s) => s !== '')
      .map((s) => s.replace(/'/g, ''))
      .sort(),
    labels: Object.fromEntries(
      [...out.matchAll(/^application-label(?:-([A-Za-z-]+))?:'([^']*)'/gm)].map((m) => [
        m[1] ?? '',
        m[2]!,
      ]),
    ),
    icons: new Map(
      [...out.matchAll(/^application-icon-(\d+):'([^']*)'/gm)].map((m) => [Number(m[1]), m[2]!]),
    ),
    ...(launcher === undefined ? {} : { launcher }),
  };
}

/** Schemes and signer certificate digests as `apksigner verify -v --print-certs` reports them. */
function apksigner(apk: string): {
  schemes: { v1: boolean; v2: boolean; v3: boolean };
  certs: string[];
} {
  let out: string;
  try {
    out = execFileSync('apksigner', ['verify', '-v', '--print-certs', apk], { encoding: 'utf8' });
  } catch (e) {
    // An unsigned APK fails verification; it has no schemes and no signers.
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  const scheme = (n: number): boolean =>
    new RegExp(`^Verified using v${n} scheme .*: true$`, 'm').test(out);
  return {
    schemes: { v1: scheme(1), v2: scheme(2), v3: scheme(3) },
    certs: [...out.matchAll(/^Signer #\d+ certificate SHA-256 digest: ([0-9a-f]+)$/gm)].map(
      (m) => m[1]!,
    ),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apk-aapt-'));
  if (missing !== null) return;
  const keystore = path.join(dir, 'test.p12');
  execFileSync(
    'keytool',
    [
      '-genkeypair',
      '-keystore',
      keystore,
      '-storetype',
      'PKCS12',
      '-storepass',
      'testpass',
      '-alias',
      'test',
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '3650',
      '-dname',
      'CN=Droidway Test',
    ],
    { stdio: 'ignore' },
  );
  const key = path.join(dir, 'key.pk8');
  const pem = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['genrsa', '-out', pem, '2048'], { stdio: 'ignore' });
  execFileSync('openssl', [
    'pkcs8',
    '-topk8',
    '-nocrypt',
    '-outform',
    'DER',
    '-in',
    pem,
    '-out',
    key,
  ]);
  execFileSync('openssl', [
    'req',
    '-new',
    '-x509',
    '-key',
    pem,
    '-out',
    cert,
    '-days',
    '3650',
    '-subj',
    '/CN=Droidway Other',
  ]);
  for (const f of fixtures) built.set(f.name, await build(f, { keystore, key, cert }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ApkReader agrees with aapt dump badging and apksigner', () => {
  for (const f of fixtures) {
    itNeeds(
      `${f.name} (${f.sign === undefined ? 'unsigned' : `signed: ${f.sign}, ${f.key} key`})`,
      missing,
      async () => {
        const apk = built.get(f.name)!;
        const info = await readApkInfo(apk);
        const ref = badging(apk);
        expect(info.packageName).toBe(ref.packageName);
        expect(info.versionCode).toBe(ref.versionCode);
        expect(info.versionName).toBe(ref.versionName);
        expect(info.minSdkVersion).toBe(ref.minSdkVersion);
        expect(info.targetSdkVersion).toBe(ref.targetSdkVersion);
        expect(info.permissions).toEqual(ref.permissions);
        expect(info.nativeAbis).toEqual(ref.nativeAbis);
        const launcher = info.launcherActivity;
        if (f.alias === undefined) {
          expect(launcher?.name).toBe(ref.launcher);
        } else {
          expect(ref.launcher).toBeUndefined();
          expect(launcher).toMatchObject({ name: f.alias.name, targetActivity: f.alias.target });
        }
        expect(info.labels).toEqual(ref.labels);
        expect(Object.keys(info.labels)).toHaveLength(Object.keys(f.strings).length);
        // aapt lists the icon for each density it knows; the reader picks the densest PNG.
        if (f.iconDirs.length === 0) {
          expect(info.iconPath).toBeUndefined();
        } else {
          const densest = Math.max(...ref.icons.keys());
          expect(info.iconPath).toBe(ref.icons.get(densest));
          expect(info.iconPath).toMatch(
            f.iconDirs.length > 1 ? /^res\/drawable-xxhdpi/ : /^res\/drawable\//,
          );
        }
        const signer = apksigner(apk);
        expect(info.signatures.schemes).toEqual(signer.schemes);
        expect(info.signatures.signerCertSha256).toEqual(signer.certs);
        expect(info.signatures.v2Verified).toBe(signer.schemes.v2 ? true : null);
        expect(info.signatures.v3Verified).toBe(signer.schemes.v3 ? true : null);
      },
    );
  }
});

describe('ApkReader refuses tampered signed APKs', () => {
  itNeeds('a byte changed inside a v2-signed entry', missing, async () => {
    const apk = built.get('v2-only')!;
    const bytes = await readFile(apk);
    const at = bytes.indexOf('content of assets/data.txt');
    expect(at).toBeGreaterThan(0);
    bytes[at] = 'C'.charCodeAt(0);
    const tampered = path.join(dir, 'tampered.apk');
    await writeFile(tampered, bytes);
    await expect(readApkInfo(tampered)).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message: expect.stringMatching(/does not match its v2 signature/) as unknown,
    });
  });

  itNeeds('the v2/v3 signing block stripped from a v1+v2+v3 APK', missing, async () => {
    const bytes = await readFile(built.get('hello')!);
    const eocd = bytes.length - 22;
    const cd = bytes.readUInt32LE(eocd + 16);
    expect(bytes.toString('latin1', cd - 16, cd)).toBe('APK Sig Block 42');
    const start = cd - Number(bytes.readBigUInt64LE(cd - 24)) - 8;
    const stripped = Buffer.concat([bytes.subarray(0, start), bytes.subarray(cd)]);
    stripped.writeUInt32LE(start, stripped.length - 22 + 16);
    const file = path.join(dir, 'stripped.apk');
    await writeFile(file, stripped);
    await expect(readApkInfo(file)).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message: expect.stringMatching(/v2 signature, but it was stripped/) as unknown,
    });
  });

  itNeeds('a changed signature', missing, async () => {
    const apk = built.get('hello')!;
    const bytes = await readFile(apk);
    const magic = bytes.lastIndexOf('APK Sig Block 42');
    // 40 bytes past the v2 pair's id lies the first signer's content digest, inside the data
    // its signature covers.
    const v2 = bytes.indexOf(Buffer.from([0x1a, 0x87, 0x09, 0x71]));
    expect(v2).toBeGreaterThan(0);
    expect(v2).toBeLessThan(magic);
    bytes[v2 + 40] = bytes[v2 + 40]! ^ 0xff;
    const tampered = path.join(dir, 'tampered-sig.apk');
    await writeFile(tampered, bytes);
    await expect(readApkInfo(tampered)).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message: expect.stringMatching(/signature does not verify/) as unknown,
    });
  });
});
