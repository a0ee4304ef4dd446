import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePng, solidImage } from '../../../../electron/core/apk/png.js';
import { installAppIcons, removeAppIcons } from '../../../../electron/core/apps/hicolor-icons.js';
import type { XdgDirs } from '../../../../electron/core/apps/desktop-entry.js';

let dir: string;
let dirs: XdgDirs;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-icons-'));
  dirs = { dataHome: dir, configHome: dir };
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const png = (w: number, h = w): Buffer => encodePng(solidImage(w, h, 0xff3366cc));
const iconFile = (size: number, pkg = 'com.example.app'): string =>
  path.join(dir, 'icons', 'hicolor', `${size}x${size}`, 'apps', `droidway.${pkg}.png`);

describe('hicolor icons', () => {
  it('files each PNG under the size its IHDR states, not its density', async () => {
    const r = await installAppIcons(dirs, 'com.example.app', [
      { png: png(48) },
      { png: png(96) },
      { png: png(144) },
    ]);
    expect(r.installed.map((i) => i.size)).toEqual([48, 96, 144]);
    expect(r.notes).toEqual([]);
    for (const s of [48, 96, 144]) expect(await fs.readFile(iconFile(s))).toEqual(png(s));
  });

  it('skips huge, non-square and broken PNGs with a note, keeping the good ones', async () => {
    const r = await installAppIcons(dirs, 'com.example.app', [
      { png: png(2048) },
      { png: png(64, 32) },
      { png: Buffer.from('not a png at all') },
      { png: png(72) },
    ]);
    expect(r.installed.map((i) => i.size)).toEqual([72]);
    expect(r.notes).toHaveLength(3);
    expect(r.notes[0]).toMatch(/2048x2048 is larger than 1024/);
    expect(r.notes[1]).toMatch(/not square/);
    expect(existsSync(iconFile(2048))).toBe(false);
  });

  it('replaces an older version’s sizes and removes every size', async () => {
    await installAppIcons(dirs, 'com.example.app', [{ png: png(48) }, { png: png(192) }]);
    await installAppIcons(dirs, 'com.example.other', [{ png: png(48) }]);
    await installAppIcons(dirs, 'com.example.app', [{ png: png(96) }]);
    expect(existsSync(iconFile(48))).toBe(false);
    expect(existsSync(iconFile(192))).toBe(false);
    expect(existsSync(iconFile(96))).toBe(true);
    expect(await removeAppIcons(dirs, 'com.example.app')).toEqual([iconFile(96)]);
    expect(existsSync(iconFile(48, 'com.example.other'))).toBe(true);
  });

  it('refuses a package name that is not one', async () => {
    await expect(installAppIcons(dirs, '../x', [{ png: png(48) }])).rejects.toMatchObject({
      code: 'PACKAGE_NAME_INVALID',
    });
  });
});
