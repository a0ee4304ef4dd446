import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng, solidImage } from '../../../../electron/core/apk/png.js';
import { readApkInfo } from '../../../../electron/core/apk/apk-reader.js';
import { decodeAxml } from '../../../../electron/core/apk/axml.js';
import { readManifest } from '../../../../electron/core/apk/manifest.js';
import { ANDROID_NS, writeAxml, type WAttr, type WElement } from './axml-writer.js';
import { writeArsc } from './arsc-writer.js';
import { craftZip } from './zip-writer.js';

const a = (name: string, id: number, value: WAttr['value']): WAttr => ({
  ns: ANDROID_NS,
  name,
  resourceId: id,
  value,
});
const named = (tag: string, value: string): WElement => ({
  name: tag,
  attrs: [a('name', 0x01010003, value)],
});
const launcherFilter: WElement = {
  name: 'intent-filter',
  children: [
    named('action', 'android.intent.action.MAIN'),
    named('category', 'android.intent.category.LAUNCHER'),
  ],
};

function manifestDoc(children: WElement[], extra: WAttr[] = []): WElement {
  return {
    name: 'manifest',
    attrs: [
      a('versionCode', 0x0101021b, 7),
      a('versionName', 0x0101021c, '1.2.3'),
      { name: 'package', value: 'org.example.app' },
      ...extra,
    ],
    children,
  };
}

const full = manifestDoc([
  {
    name: 'uses-sdk',
    attrs: [a('minSdkVersion', 0x0101020c, 21), a('targetSdkVersion', 0x01010270, 33)],
  },
  named('uses-permission', 'android.permission.INTERNET'),
  named('uses-permission-sdk-23', 'android.permission.CAMERA'),
  {
    name: 'uses-feature',
    attrs: [a('name', 0x01010003, 'android.hardware.camera'), a('required', 0x0101028e, false)],
  },
  { name: 'uses-feature', attrs: [a('glEsVersion', 0x01010281, 0x30000)] },
  {
    name: 'application',
    attrs: [
      a('label', 0x01010001, { ref: 0x7f0b0000 }),
      a('icon', 0x01010002, { ref: 0x7f060000 }),
    ],
    children: [
      { name: 'activity', attrs: [a('name', 0x01010003, '.Settings')] },
      {
        name: 'activity',
        attrs: [a('name', 0x01010003, '.Disabled'), a('enabled', 0x0101000e, false)],
        children: [launcherFilter],
      },
      {
        name: 'activity-alias',
        attrs: [a('name', 0x01010003, 'Launcher'), a('targetActivity', 0x01010202, '.Main')],
        children: [launcherFilter],
      },
    ],
  },
]);

describe('readManifest', () => {
  it('reads identity, SDKs, permissions, features and the launcher alias', () => {
    expect(readManifest(decodeAxml(writeAxml(full)))).toEqual({
      packageName: 'org.example.app',
      versionCode: 7,
      versionName: '1.2.3',
      minSdkVersion: 21,
      targetSdkVersion: 33,
      permissions: ['android.permission.INTERNET', 'android.permission.CAMERA'],
      features: [
        { name: 'android.hardware.camera', required: false },
        { name: 'glEsVersion 0x00030000', required: true },
      ],
      label: { kind: 'reference', id: 0x7f0b0000 },
      icon: { kind: 'reference', id: 0x7f060000 },
      launcherActivity: {
        name: 'org.example.app.Launcher',
        targetActivity: 'org.example.app.Main',
      },
      // CAMERA would imply the camera, but the manifest declares it (not required).
      impliedFeatures: [
        {
          name: 'android.hardware.faketouch',
          reason: 'default feature for all apps',
          sdk23: false,
        },
      ],
    });
  });

  it('implies features from permissions, orientation and targetSdk as aapt does', () => {
    const doc = manifestDoc([
      {
        name: 'uses-sdk',
        attrs: [a('minSdkVersion', 0x0101020c, 15), a('targetSdkVersion', 0x01010270, 19)],
      },
      named('uses-permission', 'android.permission.ACCESS_FINE_LOCATION'),
      named('uses-permission', 'android.permission.ACCESS_COARSE_LOCATION'),
      named('uses-permission', 'android.permission.BLUETOOTH'),
      named('uses-permission', 'android.permission.SEND_SMS'),
      named('uses-permission-sdk-23', 'android.permission.ACCESS_WIFI_STATE'),
      named('uses-permission', 'android.permission.RECORD_AUDIO'),
      {
        name: 'uses-feature',
        attrs: [
          a('name', 0x01010003, 'android.hardware.touchscreen'),
          a('required', 0x0101028e, false),
        ],
      },
      {
        name: 'application',
        children: [
          {
            name: 'activity',
            attrs: [a('name', 0x01010003, '.L'), a('screenOrientation', 0x0101001e, 6)],
          },
        ],
      },
    ]);
    const byName = Object.fromEntries(
      readManifest(decodeAxml(writeAxml(doc))).impliedFeatures.map((f) => [f.name, f]),
    );
    expect(Object.keys(byName)).toEqual([
      'android.hardware.bluetooth',
      'android.hardware.location',
      'android.hardware.location.gps',
      'android.hardware.location.network',
      'android.hardware.microphone',
      'android.hardware.screen.landscape',
      'android.hardware.telephony',
      'android.hardware.wifi',
    ]);
    expect(byName['android.hardware.location']!.reason).toBe(
      'requested android.permission.ACCESS_COARSE_LOCATION permission, and requested android.permission.ACCESS_FINE_LOCATION permission',
    );
    expect(byName['android.hardware.location.gps']!.reason).toMatch(/, and targetSdkVersion < 21$/);
    expect(byName['android.hardware.wifi']!.sdk23).toBe(true);
    expect(byName['android.hardware.bluetooth']!.sdk23).toBe(false);
  });

  it('accepts the framework package name `android` and no other undotted name', () => {
    const named_ = (value: string): WElement => ({
      name: 'manifest',
      attrs: [{ name: 'package', value }],
    });
    expect(readManifest(decodeAxml(writeAxml(named_('android')))).packageName).toBe('android');
    for (const bad of ['androidx', 'android.', '.android', 'a..b', '1a.b'])
      expect(() => readManifest(decodeAxml(writeAxml(named_(bad))))).toThrow(
        /invalid package name/,
      );
  });

  it('applies Android defaults and reads a split name', () => {
    const info = readManifest(
      decodeAxml(writeAxml(manifestDoc([], [{ name: 'split', value: 'config.xxhdpi' }]))),
    );
    expect(info).toMatchObject({
      minSdkVersion: 1,
      targetSdkVersion: 1,
      splitName: 'config.xxhdpi',
    });
    expect(info.launcherActivity).toBeUndefined();
  });

  it('matches android attributes by resource id, not by their string', () => {
    // The attribute string says versionCode but the resource id is versionName's.
    const doc = manifestDoc([]);
    doc.attrs = [
      { ns: ANDROID_NS, name: 'versionCodeX', resourceId: 0x0101021b, value: 9 },
      { ns: ANDROID_NS, name: 'versionName', resourceId: 0x01010999, value: 'fake' },
      { name: 'package', value: 'org.example.app' },
    ];
    const info = readManifest(decodeAxml(writeAxml(doc)));
    expect(info.versionCode).toBe(9);
    expect(info.versionName).toBeUndefined();
  });

  it('refuses a manifest without a valid package name or with another root', () => {
    const noPkg: WElement = { name: 'manifest' };
    expect(() => readManifest(decodeAxml(writeAxml(noPkg)))).toThrow(
      expect.objectContaining({ code: 'APK_MANIFEST_INVALID' }) as Error,
    );
    const badPkg: WElement = { name: 'manifest', attrs: [{ name: 'package', value: '../x' }] };
    expect(() => readManifest(decodeAxml(writeAxml(badPkg)))).toThrow(/invalid package name/);
    expect(() => readManifest(decodeAxml(writeAxml({ name: 'resources' })))).toThrow(
      /not manifest/,
    );
  });
});

describe('readApkInfo', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apk-info-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the manifest and native ABIs of a crafted APK', async () => {
    const file = path.join(dir, 'a.apk');
    await writeFile(
      file,
      craftZip([
        { name: 'AndroidManifest.xml', data: writeAxml(full), method: 8 },
        { name: 'lib/x86_64/libgame.so', data: Buffer.from('elf') },
        { name: 'lib/arm64-v8a/libgame.so', data: Buffer.from('elf') },
        { name: 'lib/arm64-v8a/libother.so', data: Buffer.from('elf') },
        { name: 'classes.dex', data: Buffer.from('dex') },
      ]),
    );
    const info = await readApkInfo(file);
    expect(info.packageName).toBe('org.example.app');
    expect(info.nativeAbis).toEqual(['arm64-v8a', 'x86_64']);
    expect(info.entryCount).toBe(5);
  });

  it('resolves the label per locale and the densest icon through resources.arsc', async () => {
    const doc = manifestDoc([
      {
        name: 'application',
        attrs: [
          a('label', 0x01010001, { ref: 0x7f030000 }),
          a('icon', 0x01010002, { ref: 0x7f020000 }),
        ],
      },
    ]);
    const arsc = writeArsc(
      [
        'Hello',
        'Bonjour',
        'res/mipmap-anydpi-v26/ic.xml',
        'res/mipmap-hdpi/ic.png',
        'res/mipmap-xxxhdpi/ic.png',
      ],
      [
        { typeId: 3, entries: [{ dataType: 0x03, data: 0 }] },
        { typeId: 3, lang: 'fr', entries: [{ dataType: 0x03, data: 1 }] },
        { typeId: 2, density: 0xfffe, entries: [{ dataType: 0x03, data: 2 }] },
        { typeId: 2, density: 240, entries: [{ dataType: 0x03, data: 3 }] },
        { typeId: 2, density: 640, entries: [{ dataType: 0x03, data: 4 }] },
      ],
    );
    const file = path.join(dir, 'res.apk');
    await writeFile(
      file,
      craftZip([
        { name: 'AndroidManifest.xml', data: writeAxml(doc), method: 8 },
        { name: 'resources.arsc', data: arsc },
        { name: 'res/mipmap-hdpi/ic.png', data: encodePng(solidImage(72, 72, 0xff00ff00)) },
        { name: 'res/mipmap-xxxhdpi/ic.png', data: encodePng(solidImage(192, 192, 0xff0000ff)) },
      ]),
    );
    const info = await readApkInfo(file);
    expect(info.labels).toEqual({ '': 'Hello', fr: 'Bonjour' });
    // The adaptive icon XML is skipped for its densest PNG fallback.
    expect(info.iconPath).toBe('res/mipmap-xxxhdpi/ic.png');
    expect(info.icon).toMatchObject({ density: 640, width: 192, source: 'adaptive-fallback' });
    expect(info.icons.map((i) => [i.density, i.width])).toEqual([
      [240, 72],
      [640, 192],
    ]);
    expect((await readApkInfo(file, { iconSize: 48 })).icon?.path).toBe('res/mipmap-hdpi/ic.png');
    expect(info.signatures.schemes).toEqual({ v1: false, v2: false, v3: false });
  });

  it('refuses an APK without a manifest, and one with a text manifest', async () => {
    const none = path.join(dir, 'none.apk');
    await writeFile(none, craftZip([{ name: 'classes.dex', data: Buffer.from('dex') }]));
    await expect(readApkInfo(none)).rejects.toMatchObject({ code: 'APK_MISSING_ENTRY' });
    const text = path.join(dir, 'text.apk');
    await writeFile(
      text,
      craftZip([{ name: 'AndroidManifest.xml', data: Buffer.from('<?xml version="1.0"?>') }]),
    );
    await expect(readApkInfo(text)).rejects.toMatchObject({ code: 'APK_AXML_INVALID' });
  });
});
