import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePng, solidImage } from '../../../../electron/core/apk/png.js';
import { AppCatalog, type CatalogChange } from '../../../../electron/core/apps/catalog.js';
import type { XdgDirs } from '../../../../electron/core/apps/desktop-entry.js';
import { fakeAppsGuest, type FakeAppsGuest } from '../../../helpers/fake-apps-guest.js';

let guest: FakeAppsGuest;
let root: string;
let dirs: XdgDirs;
let reads: string[];
const instance = 'inst';
const addApk: FakeAppsGuest['addApk'] = (p, info) => guest.addApk(p, info);

function catalog(): AppCatalog {
  return new AppCatalog({
    instance,
    dataRoot: root,
    runtimeRoot: path.join(root, 'run'),
    exec: async () => guest.exec,
    cacheDir: path.join(root, 'cache'),
    readApk: guest.readApk,
    readIcons: async () => [{ png: encodePng(solidImage(48, 48, 0xff00ff00)) }],
    desktop: { dirs, launcher: ['/usr/bin/droidway'], run: async () => true },
  });
}

const entry = (pkg: string): string =>
  path.join(dirs.dataHome, 'applications', `droidway.${pkg}.desktop`);
const icon = (pkg: string): string =>
  path.join(dirs.dataHome, 'icons', 'hicolor', '48x48', 'apps', `droidway.${pkg}.png`);

beforeEach(async () => {
  guest = await fakeAppsGuest(instance);
  ({ root, dirs, reads } = guest);
  await addApk(
    { pkg: 'com.a.maps', versionCode: 3, apk: '/data/app/~~x/com.a.maps-1/base.apk' },
    { labels: { '': 'Maps', fr: 'Cartes' }, launcherActivity: { name: '.Main' } as never },
  );
  await addApk(
    { pkg: 'com.a.svc', versionCode: 1, apk: '/data/app/~~y/com.a.svc-1/base.apk' },
    { labels: { '': 'Service' } },
  );
});
afterEach(async () => {
  await guest.cleanup();
});

describe('app catalog', () => {
  it('lists third-party apps with labels and launcher activities, and writes desktop entries', async () => {
    const c = catalog();
    const changes: CatalogChange[] = [];
    c.on('changed', (ch) => changes.push(ch));
    const apps = await c.refresh();
    expect(apps.map((a) => [a.packageName, a.label, a.launcherActivity, a.system])).toEqual([
      ['com.a.maps', 'Maps', '.Main', false],
      ['com.a.svc', 'Service', null, false],
    ]);
    expect(changes).toEqual([{ added: ['com.a.maps', 'com.a.svc'], updated: [], removed: [] }]);
    // Only launchable apps get an entry.
    expect(await fs.readFile(entry('com.a.maps'), 'utf8')).toContain('Name[fr]=Cartes');
    expect(existsSync(entry('com.a.svc'))).toBe(false);
    expect(existsSync(icon('com.a.maps'))).toBe(true);
  });

  it('reads each APK once per identity, in memory and across instances through the disk cache', async () => {
    await catalog().refresh();
    expect(reads).toHaveLength(2);
    const c = catalog();
    await c.refresh();
    await c.refresh();
    expect(reads).toHaveLength(2);
    // An update in place (new size and mtime) is read again and reported as updated.
    await addApk(
      { pkg: 'com.a.maps', versionCode: 4, apk: '/data/app/~~x/com.a.maps-1/base.apk' },
      { labels: { '': 'Maps 2' }, launcherActivity: { name: '.Main' } as never },
    );
    const changes: CatalogChange[] = [];
    c.on('changed', (ch) => changes.push(ch));
    await c.refresh();
    expect(reads).toHaveLength(3);
    expect(changes).toEqual([{ added: [], updated: ['com.a.maps'], removed: [] }]);
    expect(await fs.readFile(entry('com.a.maps'), 'utf8')).toContain('Name=Maps 2');
  });

  it('keeps grid icons in memory: a disk-cache hit reads the APK once more, changing nothing', async () => {
    const png = encodePng(solidImage(4, 4, 0xff0000ff));
    const maps = guest.hostPath('/data/app/~~x/com.a.maps-1/base.apk');
    guest.infos.set(maps, {
      ...guest.infos.get(maps),
      icon: { png } as never,
    });
    await catalog().refresh();
    expect(reads).toHaveLength(2);
    const c = new AppCatalog({
      instance,
      dataRoot: root,
      exec: async () => guest.exec,
      cacheDir: path.join(root, 'cache'),
      readApk: guest.readApk,
      icons: true,
    });
    const changes: CatalogChange[] = [];
    c.on('changed', (ch) => changes.push(ch));
    await c.refresh();
    expect(reads).toHaveLength(4);
    expect(c.icon('com.a.maps')).toEqual(png);
    expect(c.icon('com.a.svc')).toBeNull();
    // Described from the cache: added (new to this catalog), never read again for its icon.
    expect(changes).toEqual([{ added: ['com.a.maps', 'com.a.svc'], updated: [], removed: [] }]);
    await c.refresh();
    expect(reads).toHaveLength(4);
    expect(changes).toHaveLength(1);
  });

  it('reads the full details of an app on demand, and none for an unknown one', async () => {
    const c = catalog();
    await c.refresh();
    expect((await c.details('com.a.maps'))?.labels).toEqual({ '': 'Maps', fr: 'Cartes' });
    expect(await c.details('com.a.gone')).toBeNull();
  });

  it('drops the entry and icons of a removed app', async () => {
    const c = catalog();
    await c.refresh();
    guest.removePackage('com.a.maps');
    const changes: CatalogChange[] = [];
    c.on('changed', (ch) => changes.push(ch));
    await c.refresh();
    expect(changes).toEqual([{ added: [], updated: [], removed: ['com.a.maps'] }]);
    expect(existsSync(entry('com.a.maps'))).toBe(false);
    expect(existsSync(icon('com.a.maps'))).toBe(false);
  });

  it('keeps system apps only when they have a launcher activity', async () => {
    await addApk(
      { pkg: 'com.sys.launchable', versionCode: 1, system: true, apk: '/data/app/s1/base.apk' },
      { launcherActivity: { name: 'com.sys.launchable.Home' } as never },
    );
    await addApk(
      { pkg: 'com.sys.hidden', versionCode: 1, system: true, apk: '/data/app/s2/base.apk' },
      {},
    );
    guest.packages.push({
      pkg: 'com.sys.framework',
      versionCode: 1,
      system: true,
      apk: '/system/framework/x.apk',
    });
    const apps = await catalog().refresh();
    expect(apps.map((a) => a.packageName).sort()).toEqual([
      'com.a.maps',
      'com.a.svc',
      'com.sys.launchable',
    ]);
  });

  it('lists an app whose APK cannot be read by its package name, with a note', async () => {
    guest.packages.push({ pkg: 'com.a.broken', versionCode: 1, apk: '/data/app/missing/base.apk' });
    const c = catalog();
    const apps = await c.refresh();
    expect(apps.find((a) => a.packageName === 'com.a.broken')).toMatchObject({
      label: 'com.a.broken',
      launcherActivity: null,
    });
    expect(c.notes.some((n) => n.startsWith('com.a.broken:'))).toBe(true);
  });

  it('refuses an APK whose manifest names another package', async () => {
    await addApk(
      { pkg: 'com.a.liar', versionCode: 1, apk: '/data/app/liar/base.apk' },
      { packageName: 'com.a.maps', launcherActivity: { name: '.Main' } as never },
    );
    const c = catalog();
    await c.refresh();
    expect(c.get('com.a.liar')?.launcherActivity).toBeNull();
    expect(existsSync(entry('com.a.liar'))).toBe(false);
  });

  it('ignores a corrupt disk cache', async () => {
    await fs.mkdir(path.join(root, 'cache'), { recursive: true });
    await fs.writeFile(
      path.join(root, 'cache', 'apps-catalog.json'),
      '{"version":1,"entries":[{"key":1}]',
    );
    expect((await catalog().refresh()).map((a) => a.packageName)).toEqual([
      'com.a.maps',
      'com.a.svc',
    ]);
  });
});
