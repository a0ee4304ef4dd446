/**
 * readApkInfo's own choices: the launcher activity's label before the application's, and a
 * large stored resources table read on demand (resolved like one in memory, refused alike when
 * malformed).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApkInfo } from '../../../../electron/core/apk/apk-reader.js';
import { ANDROID_NS, writeAxml, type WElement } from './axml-writer.js';
import { writeArsc } from './arsc-writer.js';
import { craftZip } from './zip-writer.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apk-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const label = (ref: number): WElement['attrs'] => [
  { ns: ANDROID_NS, name: 'label', resourceId: 0x01010001, value: { ref } },
];

function manifest(appLabel: number, activityLabel?: number): Buffer {
  return writeAxml({
    name: 'manifest',
    attrs: [{ name: 'package', value: 'org.example.reader' }],
    children: [
      {
        name: 'application',
        attrs: label(appLabel),
        children: [
          {
            name: 'activity',
            attrs: [
              { ns: ANDROID_NS, name: 'name', resourceId: 0x01010003, value: '.Main' },
              ...(activityLabel === undefined ? [] : (label(activityLabel) ?? [])),
            ],
            children: [
              {
                name: 'intent-filter',
                children: [
                  {
                    name: 'action',
                    attrs: [
                      {
                        ns: ANDROID_NS,
                        name: 'name',
                        resourceId: 0x01010003,
                        value: 'android.intent.action.MAIN',
                      },
                    ],
                  },
                  {
                    name: 'category',
                    attrs: [
                      {
                        ns: ANDROID_NS,
                        name: 'name',
                        resourceId: 0x01010003,
                        value: 'android.intent.category.LAUNCHER',
                      },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  });
}

/** A table of strings `App` (0x7f030000) and `Launch` (0x7f030001), padded to `padTo` bytes. */
function table(padTo = 0): Buffer {
  const arsc = writeArsc(
    ['App', 'Launch', 'Appli'],
    [
      {
        typeId: 3,
        entries: [
          { dataType: 0x03, data: 0 },
          { dataType: 0x03, data: 1 },
        ],
      },
      { typeId: 3, lang: 'fr', entries: [{ dataType: 0x03, data: 2 }, null] },
    ],
  );
  if (arsc.length >= padTo) return arsc;
  // An unknown chunk after the package: readers skip it; it makes the table large.
  const pad = Buffer.alloc(padTo - arsc.length);
  pad.writeUInt16LE(0x7777, 0);
  pad.writeUInt16LE(8, 2);
  pad.writeUInt32LE(pad.length, 4);
  const out = Buffer.concat([arsc, pad]);
  out.writeUInt32LE(out.length, 4);
  return out;
}

async function apk(man: Buffer, arsc: Buffer): Promise<string> {
  const file = path.join(dir, `r${n++}.apk`);
  await writeFile(
    file,
    craftZip([
      { name: 'AndroidManifest.xml', data: man, method: 8 },
      { name: 'resources.arsc', data: arsc },
    ]),
  );
  return file;
}

describe('readApkInfo', () => {
  it('shows the launcher activity’s own label, else the application’s', async () => {
    const own = await readApkInfo(await apk(manifest(0x7f030000, 0x7f030001), table()));
    expect(own.labels).toEqual({ '': 'Launch' });
    const app = await readApkInfo(await apk(manifest(0x7f030000), table()));
    expect(app.labels).toEqual({ '': 'App', fr: 'Appli' });
  });

  it('resolves a large stored table read on demand like one in memory', async () => {
    const big = table(6 * 1024 * 1024);
    const info = await readApkInfo(await apk(manifest(0x7f030000), big));
    expect(info.labels).toEqual({ '': 'App', fr: 'Appli' });
    expect(info.warnings).toEqual([]);
  });

  it('refuses a malformed large table read on demand', async () => {
    const big = table(6 * 1024 * 1024);
    // The string index of the default `App` entry points past the pool.
    const bad = Buffer.from(big);
    const entry = bad.indexOf(Buffer.from([0x08, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00]));
    expect(entry).toBeGreaterThan(0);
    bad.writeUInt32LE(99, entry + 4);
    await expect(readApkInfo(await apk(manifest(0x7f030000), bad))).rejects.toMatchObject({
      code: 'APK_ARSC_INVALID',
      message: expect.stringMatching(/string index 99 out of the pool/) as unknown,
    });
    // The padding chunk claims to run past the table.
    const past = Buffer.from(big);
    past.writeUInt32LE(big.length, past.length - (6 * 1024 * 1024 - table().length) + 4);
    await expect(readApkInfo(await apk(manifest(0x7f030000), past))).rejects.toMatchObject({
      code: 'APK_ARSC_INVALID',
      message: expect.stringMatching(/past the end/) as unknown,
    });
  });
});
