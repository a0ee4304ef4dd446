import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../../../electron/cli/commands/apk.js';
import { runCli } from '../../../../electron/cli/main.js';
import { ApkError } from '../../../../electron/core/apk/apk-errors.js';
import type { ApkInfo } from '../../../../electron/core/apk/apk-reader.js';

const info: ApkInfo = {
  packageName: 'org.example.app',
  versionCode: 3,
  versionName: '1.0',
  minSdkVersion: 24,
  targetSdkVersion: 34,
  permissions: ['android.permission.INTERNET'],
  impliedFeatures: [],
  features: [{ name: 'android.hardware.camera', required: false }],
  launcherActivity: { name: 'org.example.app.Main' },
  nativeAbis: [],
  entryCount: 4,
  labels: { '': 'App', fr: 'Appli' },
  icon: {
    density: 480,
    path: 'res/icon.png',
    width: 144,
    height: 144,
    png: Buffer.from('png bytes'),
    source: 'png',
  },
  icons: [{ density: 480, path: 'res/icon.png', width: 144, height: 144 }],
  iconPath: 'res/icon.png',
  signatures: {
    schemes: { v1: false, v2: true, v3: false },
    signerCertSha256: ['ab'.repeat(32)],
    lineage: [],
    signers: [],
    v2Verified: true,
    v3Verified: null,
    v1Verified: null,
  },
  warnings: [],
};

async function run(
  args: string[],
  read: () => Promise<ApkInfo>,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const program = new Command('droidway');
  register(program, { readInfo: read });
  let out = '';
  let err = '';
  const code = await runCli(program, ['node', 'droidway', ...args], {
    writeOut: (t) => (out += t),
    writeErr: (t) => (err += t),
    env,
  });
  return { code, out, err };
}

describe('droidway apk info (in process)', () => {
  it('lists the localized labels in the order localeCompare gives their tags', async () => {
    const tags = ['zh-TW', 'de-DE', 'de', 'fr', 'es-US', 'es-419', 'b+sr+Latn', 'pt-rBR', 'pt'];
    const labels = Object.fromEntries([['', 'App'], ...tags.map((t) => [t, `L${t}`])]);
    const text = await run(['apk', 'info', 'a.apk'], () => Promise.resolve({ ...info, labels }));
    const listed = /^ {2}label .*\n {2} +(.*)$/m.exec(text.out)?.[1];
    const expected = [...tags].sort((a, b) => a.localeCompare(b)).map((t) => `${t}: L${t}`);
    expect(listed).toBe(expected.join(', '));
  });

  it('prints text and JSON without the icon bytes', async () => {
    const text = await run(['apk', 'info', 'a.apk'], () => Promise.resolve(info));
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^org\.example\.app {2}\(versionCode 3, versionName 1\.0\)/);
    expect(text.out).toMatch(/fr: Appli/);
    expect(text.out).toMatch(/icon +res\/icon\.png, 144×144, 480 dpi \(png\)/);
    expect(text.out).toMatch(new RegExp(`signed by +${'ab'.repeat(32)} \\(v2 verified\\)`));
    const json = await run(['apk', 'info', '--json', 'a.apk'], () => Promise.resolve(info));
    const parsed = JSON.parse(json.out) as { icon: Record<string, unknown> };
    expect(parsed.icon).toEqual({
      density: 480,
      path: 'res/icon.png',
      width: 144,
      height: 144,
      source: 'png',
      pngBytes: 9,
    });
  });

  it('exits 1 with the reason of a refusal, the code only under DROIDWAY_DEBUG=1', async () => {
    const refused = await run(['apk', 'info', 'bad.apk'], () =>
      Promise.reject(
        new ApkError('APK_DUPLICATE_ENTRY', 'entry "AndroidManifest.xml" appears twice'),
      ),
    );
    expect(refused).toEqual({
      code: 1,
      out: '',
      err: 'droidway: refused bad.apk: entry "AndroidManifest.xml" appears twice\n',
    });
    const debug = await run(
      ['apk', 'info', 'bad.apk'],
      () => Promise.reject(new ApkError('APK_DUPLICATE_ENTRY', 'appears twice')),
      { DROIDWAY_DEBUG: '1' },
    );
    expect(debug.code).toBe(1);
    expect(debug.err).toMatch(
      /^droidway: APK_DUPLICATE_ENTRY: refused bad\.apk: appears twice\nApkError: appears twice\n/,
    );
  });

  it('refuses a bad --icon-size as a usage error', async () => {
    const r = await run(['apk', 'info', '--icon-size', '0', 'a.apk'], () => Promise.resolve(info));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--icon-size must be a whole number/);
  });

  it('shows the current signer, the rotation lineage, other SDK-range signers and implied features', async () => {
    const [old, current, legacy] = ['aa', 'bb', 'cc'].map((h) => h.repeat(32)) as [
      string,
      string,
      string,
    ];
    const rotated: ApkInfo = {
      ...info,
      impliedFeatures: [
        {
          name: 'android.hardware.faketouch',
          reason: 'default feature for all apps',
          sdk23: false,
        },
        { name: 'android.hardware.wifi', reason: 'requested …', sdk23: true },
      ],
      signatures: {
        schemes: { v1: true, v2: true, v3: true },
        signerCertSha256: [current],
        lineage: [old, current],
        signers: [
          { certSha256: current, minSdk: 28, maxSdk: 0x7fffffff, lineage: [old, current] },
          { certSha256: legacy, minSdk: 24, maxSdk: 27, lineage: [] },
        ],
        v2Verified: true,
        v3Verified: true,
        v1Verified: null,
      },
    };
    const { out } = await run(['apk', 'info', 'a.apk'], () => Promise.resolve(rotated));
    expect(out).toMatch(new RegExp(`signed by +${current} \\(v2, v3 verified\\)`));
    expect(out).toContain('v1 signature present (not checked: Android uses v2/v3)');
    expect(out).toMatch(new RegExp(`rotated from +${old}\n`));
    expect(out).toMatch(new RegExp(`signer +${legacy} for SDK 24–27`));
    expect(out).toMatch(new RegExp(`signer +${current} for SDK 28–any`));
    expect(out).toMatch(
      /implied +android\.hardware\.faketouch, android\.hardware\.wifi \(sdk 23\+\)/,
    );
  });

  it('says plainly that a forged signer is not verified', async () => {
    const message =
      'NOT verified: public key mismatch (the signature was made with another key than the certificate names) [v2 signature]';
    const refused = await run(['apk', 'info', 'forged.apk'], () =>
      Promise.reject(new ApkError('APK_SIGNATURE_INVALID', message)),
    );
    // A refused APK is the command's answer (exit 1); the line starts with words, the code is
    // in --json.
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(`droidway: refused forged.apk: ${message}\n`);
    const json = await run(['apk', 'info', 'forged.apk', '--json'], () =>
      Promise.reject(new ApkError('APK_SIGNATURE_INVALID', message)),
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toEqual({
      ok: false,
      error: { code: 'APK_SIGNATURE_INVALID', message },
    });
  });

  it('says where --icon-out wrote the icon, and refuses an APK without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'droidway-icon-out-'));
    try {
      const target = join(dir, 'icon.png');
      const r = await run(['apk', 'info', 'a.apk', '--icon-out', target], () =>
        Promise.resolve(info),
      );
      expect(r.code).toBe(0);
      expect(r.err).toBe(`droidway: wrote the 144×144 launcher icon to ${target}\n`);
      expect(await readFile(target, 'utf8')).toBe('png bytes');
      const none = await run(['apk', 'info', 'a.apk', '--icon-out', join(dir, 'none.png')], () =>
        Promise.resolve({ ...info, icon: null }),
      );
      expect(none.code).toBe(1);
      expect(none.err).toBe('droidway: a.apk has no PNG launcher icon to write\n');
      await expect(readFile(join(dir, 'none.png'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
