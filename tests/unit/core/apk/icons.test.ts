import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApkIcons, readApkInfo } from '../../../../electron/core/apk/apk-reader.js';
import { decodePng, encodePng, solidImage } from '../../../../electron/core/apk/png.js';
import { ANDROID_NS, writeAxml, type WElement } from './axml-writer.js';
import { writeArsc } from './arsc-writer.js';
import { craftZip } from './zip-writer.js';

const ICON = 0x7f020000;
const FG = 0x7f020001;
const BG = 0x7f040000;

const manifest: WElement = {
  name: 'manifest',
  attrs: [{ name: 'package', value: 'org.example.adaptive' }],
  children: [
    {
      name: 'application',
      attrs: [{ ns: ANDROID_NS, name: 'icon', resourceId: 0x01010002, value: { ref: ICON } }],
    },
  ],
};

function adaptive(fg: WElement['attrs'], bg: WElement['attrs']): Buffer {
  return writeAxml({
    name: 'adaptive-icon',
    children: [
      { name: 'background', attrs: bg ?? [] },
      { name: 'foreground', attrs: fg ?? [] },
    ],
  });
}

const drawable = (ref: number): WElement['attrs'] => [
  { ns: ANDROID_NS, name: 'drawable', resourceId: 0x01010199, value: { ref } },
];

describe('adaptive icons', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apk-icons-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function apk(name: string, xml: Buffer, fgPng: Buffer | null): Promise<string> {
    const arsc = writeArsc(
      ['res/mipmap-anydpi-v26/ic.xml', 'res/mipmap-xxhdpi/fg.png'],
      [
        // type 2 = mipmap: entry 0 the icon (anydpi only), entry 1 the foreground layer.
        { typeId: 2, density: 0xfffe, entries: [{ dataType: 0x03, data: 0 }, null] },
        { typeId: 2, density: 480, entries: [null, { dataType: 0x03, data: 1 }] },
        // type 4 = color: opaque blue written as #rrggbb (alpha bits 0 on purpose).
        { typeId: 4, entries: [{ dataType: 0x1d, data: 0x000000ff }] },
      ],
    );
    const file = path.join(dir, `${name}.apk`);
    const entries = [
      { name: 'AndroidManifest.xml', data: writeAxml(manifest), method: 8 },
      { name: 'resources.arsc', data: arsc },
      { name: 'res/mipmap-anydpi-v26/ic.xml', data: xml },
    ];
    if (fgPng !== null) entries.push({ name: 'res/mipmap-xxhdpi/fg.png', data: fgPng });
    await writeFile(file, craftZip(entries));
    return file;
  }

  it('composes a PNG foreground over a @color background when there is no fallback', async () => {
    // 108×108 transparent foreground with a white square in the middle.
    const fg = solidImage(108, 108, 0);
    for (let y = 44; y < 64; y++)
      for (let x = 44; x < 64; x++) fg.rgba.set([255, 255, 255, 255], (y * 108 + x) * 4);
    const file = await apk('composed', adaptive(drawable(FG), drawable(BG)), encodePng(fg));
    const info = await readApkInfo(file);
    expect(info.icon).toMatchObject({
      source: 'adaptive-composed',
      density: 480,
      width: 72,
      height: 72,
      path: 'res/mipmap-xxhdpi/fg.png',
    });
    const img = decodePng(info.icon!.png);
    expect(img.width).toBe(72);
    const px = (x: number, y: number): number[] => [
      ...img.rgba.subarray((y * 72 + x) * 4, (y * 72 + x) * 4 + 4),
    ];
    expect(px(0, 0)).toEqual([0, 0, 255, 255]);
    expect(px(36, 36)).toEqual([255, 255, 255, 255]);
    const { icons } = await readApkIcons(file);
    expect(icons).toHaveLength(1);
    expect(icons[0]!.png.equals(info.icon!.png)).toBe(true);
  });

  it('reports a vector-only adaptive icon as missing, with the reason', async () => {
    const file = await apk('vector', adaptive(drawable(0x7f050000), drawable(BG)), null);
    const info = await readApkInfo(file);
    expect(info.icon).toBeNull();
    expect(info.warnings.join('\n')).toMatch(/foreground is not a PNG/);
  });

  it('skips a broken icon PNG with a warning instead of failing the APK', async () => {
    const file = await apk(
      'broken',
      adaptive(drawable(FG), drawable(BG)),
      Buffer.from('\x89PNG\r\n\x1a\nbroken', 'latin1'),
    );
    const info = await readApkInfo(file);
    expect(info.packageName).toBe('org.example.adaptive');
    expect(info.icon).toBeNull();
    expect(info.warnings.join('\n')).toMatch(/APK_PNG|PNG: truncated/);
  });
});
