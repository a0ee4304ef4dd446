/**
 * ApkReader against APKs built by Debian's `aapt` and signed by `apksigner`
 * (`tests/fixtures/apk/build-fixtures.ts`): every fact the reader gives must agree with
 * `aapt dump badging` and `apksigner verify --print-certs` on the same file, and tampered
 * signed APKs are refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { readApkIcons, readApkInfo } from '../../electron/core/apk/apk-reader.js';
import { decodePng } from '../../electron/core/apk/png.js';
import {
  APK_FIXTURES,
  apkFixtureDir,
  apkToolsMissing,
  buildApkFixtures,
  cleanupApkFixtures,
  type BuiltApkFixture,
} from '../fixtures/apk/build-fixtures.js';
import { aaptBadging, apksignerVerify } from '../fixtures/apk/reference-tools.js';
import { itNeeds } from '../helpers/capability.js';

const missing = apkToolsMissing();
let built: ReadonlyMap<string, BuiltApkFixture>;
let dir: string;

beforeAll(async () => {
  if (missing !== null) return;
  built = await buildApkFixtures();
  dir = await apkFixtureDir();
});
afterAll(() => {
  cleanupApkFixtures();
});

describe('ApkReader agrees with aapt dump badging and apksigner', () => {
  for (const spec of APK_FIXTURES) {
    itNeeds(
      `${spec.name} (${spec.signing}${spec.key ? `, ${spec.key} key` : ''})`,
      missing,
      async () => {
        const apk = built.get(spec.name)!.file;
        const info = await readApkInfo(apk);
        const ref = aaptBadging(apk);
        expect(info.packageName).toBe(ref.packageName);
        expect(info.versionCode).toBe(ref.versionCode);
        expect(info.versionName).toBe(ref.versionName);
        expect(info.splitName).toBe(ref.split);
        expect(info.minSdkVersion).toBe(ref.minSdkVersion);
        expect(info.targetSdkVersion).toBe(ref.targetSdkVersion);
        expect(info.permissions).toEqual(ref.permissions);
        expect(info.nativeAbis).toEqual(ref.nativeAbis);
        if (spec.alias === undefined) {
          expect(info.launcherActivity?.name).toBe(ref.launcher);
        } else {
          expect(ref.launcher).toBeUndefined();
          expect(info.launcherActivity).toMatchObject({
            name: spec.alias.name,
            targetActivity: spec.alias.target,
          });
        }
        // aapt's badging prints an empty label for a literal android:label; Android shows it.
        const literal = /<application android:label="([^@"][^"]*)"/.exec(spec.manifest)?.[1];
        if (literal === undefined) expect(info.labels).toEqual(ref.labels);
        else expect(info.labels).toEqual({ '': literal });
        expect(Object.keys(info.labels)).toHaveLength(
          Object.keys(spec.strings).length || (literal === undefined ? 0 : 1),
        );

        // aapt lists the icon for each density it knows; the reader picks the largest PNG.
        const pngDensities = [...ref.icons].filter(([d, p]) => d < 0xfffe && p.endsWith('.png'));
        if (spec.iconSource === undefined) {
          expect(info.icon).toBeNull();
        } else if (spec.iconSource === 'adaptive-composed') {
          expect(pngDensities).toEqual([]);
          expect(ref.icons.get(0xfffe)).toMatch(/anydpi-v26\/ic_launcher\.xml$/);
          expect(info.icon).toMatchObject({ source: 'adaptive-composed', width: 216, height: 216 });
          // Half-transparent white over #3366cc.
          const px = [...decodePng(info.icon!.png).rgba.subarray(0, 4)];
          [0x99, 0xb2, 0xe5, 0xff].forEach((want, i) =>
            expect(Math.abs(px[i]! - want)).toBeLessThanOrEqual(1),
          );
        } else if (spec.iconSource === 'adaptive-fallback') {
          // aapt resolves every density to the adaptive XML; Android < 8 uses the PNGs.
          expect([...new Set(ref.icons.values())]).toEqual([
            'res/mipmap-anydpi-v26/ic_launcher.xml',
          ]);
          expect(info.iconPath).toMatch(/^res\/mipmap-xxxhdpi(-v4)?\/ic_launcher\.png$/);
        } else {
          const densest = Math.max(...pngDensities.map(([d]) => d));
          expect(info.iconPath).toBe(ref.icons.get(densest));
        }
        if (spec.iconSource === 'png' || spec.iconSource === 'adaptive-fallback') {
          expect(info.icon?.source).toBe(spec.iconSource);
          const widths = Object.values(spec.pngIcons ?? {}).sort((a, b) => a - b);
          expect(info.icons.map((i) => i.width)).toEqual(widths);
          expect(info.icon!.width).toBe(widths[widths.length - 1]);
          const { icons } = await readApkIcons(apk);
          expect(icons.map((i) => decodePng(i.png).width)).toEqual(widths);
        }

        const signer = apksignerVerify(apk);
        expect(info.signatures.schemes).toEqual(signer.schemes);
        expect(info.signatures.signerCertSha256).toEqual(signer.certs);
        expect(info.signatures.v2Verified).toBe(signer.schemes.v2 ? true : null);
        expect(info.signatures.v3Verified).toBe(signer.schemes.v3 ? true : null);
        const v1Only = signer.schemes.v1 && !signer.schemes.v2 && !signer.schemes.v3;
        expect(info.signatures.v1Verified).toBe(v1Only ? true : null);
        expect(info.warnings).toEqual([]);
      },
    );
  }

  itNeeds('the two test keys give two different signer digests', missing, async () => {
    const a = await readApkInfo(built.get('hello')!.file);
    const b = await readApkInfo(built.get('v2-only')!.file);
    expect(a.signatures.signerCertSha256).toHaveLength(1);
    expect(b.signatures.signerCertSha256).toHaveLength(1);
    expect(a.signatures.signerCertSha256[0]).not.toBe(b.signatures.signerCertSha256[0]);
  });
});

describe('ApkReader refuses tampered signed APKs', () => {
  itNeeds('a byte changed inside a v2-signed entry', missing, async () => {
    const bytes = await readFile(built.get('v2-only')!.file);
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
    const bytes = await readFile(built.get('hello')!.file);
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
    const bytes = await readFile(built.get('hello')!.file);
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
      message: expect.stringMatching(/^NOT verified: bad signature/) as unknown,
    });
  });
});

/** Replaces `from` by `to` (same length) inside entry `name`, fixing its CRC-32 in both headers. */
function patchEntry(apk: Buffer, name: string, from: string, to: string): Buffer {
  const out = Buffer.from(apk);
  const at = out.indexOf(from);
  expect(at).toBeGreaterThan(0);
  out.write(to, at, 'latin1');
  const cd = out.readUInt32LE(out.length - 22 + 16);
  for (let p = cd; p < out.length - 22;) {
    const nameLen = out.readUInt16LE(p + 28);
    const extra = out.readUInt16LE(p + 30) + out.readUInt16LE(p + 32);
    if (out.toString('utf8', p + 46, p + 46 + nameLen) === name) {
      const local = out.readUInt32LE(p + 42);
      const size = out.readUInt32LE(p + 20);
      expect(out.readUInt16LE(p + 10)).toBe(0); // stored, so the bytes are patchable in place
      const dataAt = local + 30 + out.readUInt16LE(local + 26) + out.readUInt16LE(local + 28);
      const crc = crc32(out.subarray(dataAt, dataAt + size)) >>> 0;
      out.writeUInt32LE(crc, p + 16);
      out.writeUInt32LE(crc, local + 14);
      return out;
    }
    p += 46 + nameLen + extra;
  }
  throw new Error(`no entry ${name}`);
}

describe('v1 (JAR) signature verification', () => {
  const refuse = async (bytes: Buffer, name: string, why: RegExp): Promise<void> => {
    const file = path.join(dir, `${name}.apk`);
    await writeFile(file, bytes);
    await expect(readApkInfo(file)).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message: expect.stringMatching(why) as unknown,
    });
    // apksigner agrees that each is broken.
    expect(apksignerVerify(file).verified).toBe(false);
  };

  itNeeds('refuses a v1-only APK whose entry was changed (CRC fixed up)', missing, async () => {
    const apk = await readFile(built.get('v1-only')!.file);
    await refuse(
      patchEntry(apk, 'assets/data.txt', 'content of', 'CONTENT of'),
      'v1-tampered-entry',
      /assets\/data\.txt" does not match its digest/,
    );
  });

  itNeeds('refuses a changed MANIFEST.MF digest and a changed signature', missing, async () => {
    // META-INF is deflated: unpack, edit, and zip again (v1 does not care about entry order).
    const rezip = async (name: string, edit: (root: string) => Promise<void>): Promise<Buffer> => {
      const root = path.join(dir, name);
      execFileSync('unzip', ['-q', '-o', built.get('v1-only')!.file, '-d', root]);
      await edit(root);
      const out = path.join(dir, `${name}.zip`);
      execFileSync('zip', ['-q', '-X', '-D', '-r', out, '.'], { cwd: root });
      return readFile(out);
    };
    const untouched = await rezip('v1-rezipped', async () => undefined);
    const file = path.join(dir, 'v1-rezipped.apk');
    await writeFile(file, untouched);
    expect((await readApkInfo(file)).signatures.v1Verified).toBe(true);

    const mfTampered = await rezip('v1-mf', async (root) => {
      const mf = path.join(root, 'META-INF/MANIFEST.MF');
      const text = await readFile(mf, 'latin1');
      const m = /(Name: assets\/data\.txt\r\nSHA-256-Digest: )(.)/.exec(text)!;
      expect(m).not.toBeNull();
      const changed = text.replace(m[0], m[1]! + (m[2] === 'A' ? 'B' : 'A'));
      await writeFile(mf, changed, 'latin1');
    });
    await refuse(
      mfTampered,
      'v1-tampered-manifest',
      /MANIFEST\.MF section "assets\/data\.txt" does not match/,
    );

    const sigTampered = await rezip('v1-sig', async (root) => {
      const meta = path.join(root, 'META-INF');
      const block = (await readdir(meta)).find((n) => /\.(RSA|EC|DSA)$/.test(n))!;
      const bytes = await readFile(path.join(meta, block));
      bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
      await writeFile(path.join(meta, block), bytes);
    });
    await refuse(sigTampered, 'v1-tampered-signature', /does not verify over/);
  });

  itNeeds('refuses an entry added after signing', missing, async () => {
    const added = path.join(dir, 'v1-added.apk');
    await writeFile(added, await readFile(built.get('v1-only')!.file));
    const extraDir = path.join(dir, 'extra', 'assets');
    await mkdir(extraDir, { recursive: true });
    await writeFile(path.join(extraDir, 'evil.txt'), 'evil');
    execFileSync('aapt', ['add', added, 'assets/evil.txt'], {
      cwd: path.join(dir, 'extra'),
      stdio: 'ignore',
    });
    await expect(readApkInfo(added)).rejects.toMatchObject({
      code: 'APK_SIGNATURE_INVALID',
      message: expect.stringMatching(
        /assets\/evil\.txt" is not covered by the signature/,
      ) as unknown,
    });
  });
});
