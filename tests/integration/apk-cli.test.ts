/**
 * `droidway apk info` end to end (the built CLI, the reader in its worker): on every fixture APK
 * its `--json` agrees with `aapt dump badging` and `apksigner verify --print-certs`; the text
 * output and `--icon-out` give what a person expects; every member of the bad-input corpus is
 * refused with exit 2, its code and reason, within 2 s.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { readPngHeader } from '../../electron/core/apk/png.js';
import { writeBadApks, writeTamperedApks, type BadApk } from '../fixtures/apk/bad-apks.js';
import {
  APK_FIXTURES,
  apkToolsMissing,
  buildApkFixtures,
  cleanupApkFixtures,
  type BuiltApkFixture,
} from '../fixtures/apk/build-fixtures.js';
import { aaptBadging, apksignerVerify } from '../fixtures/apk/reference-tools.js';
import { itNeeds } from '../helpers/capability.js';
import { buildCli, droidway } from './helpers/cli.js';

const missing = apkToolsMissing();
let built: ReadonlyMap<string, BuiltApkFixture>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apk-cli-'));
  if (missing !== null) return;
  buildCli();
  built = await buildApkFixtures();
});
afterAll(async () => {
  cleanupApkFixtures();
  await rm(dir, { recursive: true, force: true });
});

interface InfoJson {
  packageName: string;
  versionCode: number;
  versionName?: string;
  splitName?: string;
  minSdkVersion: number;
  targetSdkVersion: number;
  labels: Record<string, string>;
  launcherActivity?: { name: string; targetActivity?: string };
  permissions: string[];
  nativeAbis: string[];
  icon: { width: number; height: number; density: number; path: string; pngBytes: number } | null;
  signatures: {
    schemes: { v1: boolean; v2: boolean; v3: boolean };
    signerCertSha256: string[];
  };
}

describe('droidway apk info --json agrees with aapt and apksigner', () => {
  for (const spec of APK_FIXTURES) {
    itNeeds(spec.name, missing, async () => {
      const apk = built.get(spec.name)!.file;
      const run = await droidway('apk', 'info', '--json', apk);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const info = JSON.parse(run.stdout) as InfoJson;
      const ref = aaptBadging(apk);
      expect(info).toMatchObject({
        packageName: ref.packageName,
        versionCode: ref.versionCode,
        minSdkVersion: ref.minSdkVersion,
        targetSdkVersion: ref.targetSdkVersion,
        permissions: ref.permissions,
        nativeAbis: ref.nativeAbis,
      });
      expect(info.versionName).toBe(ref.versionName);
      expect(info.splitName).toBe(ref.split);
      // aapt's badging ignores activity aliases and literal labels; Android does not.
      if (spec.alias === undefined) expect(info.launcherActivity?.name).toBe(ref.launcher);
      else expect(info.launcherActivity?.targetActivity).toBe(spec.alias.target);
      const literal = /<application android:label="([^@"][^"]*)"/.exec(spec.manifest)?.[1];
      expect(info.labels).toEqual(literal === undefined ? ref.labels : { '': literal });
      expect(info.icon === null).toBe(spec.iconSource === undefined);
      if (info.icon !== null) expect(info.icon.pngBytes).toBeGreaterThan(0);
      const signer = apksignerVerify(apk);
      expect(info.signatures.schemes).toEqual(signer.schemes);
      expect(info.signatures.signerCertSha256).toEqual(signer.certs);
    });
  }
});

describe('droidway apk info for a person', () => {
  itNeeds('prints the facts as text and writes the icon with --icon-out', missing, async () => {
    const icon = path.join(dir, 'icon.png');
    const run = await droidway('apk', 'info', built.get('hello')!.file, '--icon-out', icon);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^org\.example\.hello {2}\(versionCode 7, versionName 1\.2\)$/m);
    expect(run.stdout).toMatch(/label +Hello$/m);
    expect(run.stdout).toMatch(/de-DE: Hallo, fr: Bonjour, ja: こんにちは/);
    expect(run.stdout).toMatch(/launcher +org\.example\.hello\.Main$/m);
    const signer = apksignerVerify(built.get('hello')!.file).certs[0]!;
    expect(run.stdout).toMatch(new RegExp(`signed by +${signer} \\(v2, v3 verified\\)$`, 'm'));
    expect(run.stdout).toMatch(/v1 signature present \(not checked: Android uses v2\/v3\)/);
    expect(readPngHeader(await readFile(icon))).toMatchObject({ width: 144, height: 144 });
    const small = await droidway(
      'apk',
      'info',
      built.get('hello')!.file,
      '--icon-size',
      '50',
      '--json',
    );
    expect((JSON.parse(small.stdout) as InfoJson).icon).toMatchObject({ width: 72, density: 240 });
    const alias = await droidway('apk', 'info', built.get('alias-native')!.file);
    expect(alias.stdout).toMatch(
      /launcher +org\.example\.game\.Alias \(alias of org\.example\.game\.RealMain\)/,
    );
    expect(alias.stdout).toMatch(/native code +arm64-v8a, x86_64/);
    expect(alias.stdout).toMatch(/android\.hardware\.camera \(optional\)/);
  });
});

describe('droidway apk info refuses bad input', () => {
  let corpus: BadApk[] = [];
  beforeAll(async () => {
    if (missing !== null) return;
    corpus = [
      ...(await writeBadApks(path.join(dir, 'bad'))),
      ...(await writeTamperedApks(dir, built.get('v2-only')!.file, built.get('hello')!.file)),
    ];
  });

  itNeeds(
    'each member: exit 1, its reason in words and its code in --json, within 2 s',
    missing,
    async () => {
      expect(corpus.length).toBeGreaterThan(20);
      // The 2 s are for reading and refusing; starting Node and the CLI is measured apart, since
      // on a loaded machine it alone can take seconds.
      const startup: number[] = [];
      for (let i = 0; i < 3; i++) {
        const s = performance.now();
        expect((await droidway('--version')).code).toBe(0);
        startup.push(performance.now() - s);
      }
      const limit = 2000 + startup.sort((a, b) => a - b)[1]!;
      for (const bad of corpus) {
        const started = performance.now();
        const run = await droidway('apk', 'info', bad.file);
        const ms = performance.now() - started;
        expect({ name: bad.name, code: run.code }).toEqual({ name: bad.name, code: 1 });
        expect(run.stdout).toBe('');
        // The line a person reads starts with words and names their file, not a code.
        expect(run.stderr, bad.name).toMatch(/^droidway: refused /);
        expect(run.stderr, bad.name).not.toContain(bad.code);
        expect(run.stderr, bad.name).toMatch(bad.reason);
        expect(ms, bad.name).toBeLessThan(limit);
        const json = await droidway('apk', 'info', '--json', bad.file);
        expect(json.code, bad.name).toBe(1);
        expect((JSON.parse(json.stdout) as { error: { code: string } }).error.code, bad.name).toBe(
          bad.code,
        );
      }
    },
  );

  itNeeds('--json prints the refusal as { ok: false, error }', missing, async () => {
    const run = await droidway('apk', 'info', '--json', path.join(dir, 'bad', 'a-fifo.apk'));
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      error: { code: 'APK_NOT_A_FILE', message: 'a-fifo.apk is a FIFO, not an APK file' },
    });
  });
});
