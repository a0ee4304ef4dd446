import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePng, solidImage } from '../../../../electron/core/apk/png.js';
import {
  appSummaries,
  MAX_ICON_BYTES,
  pngDataUrl,
} from '../../../../electron/core/apps/apps-service.js';
import { AppCatalog } from '../../../../electron/core/apps/catalog.js';
import { listAppEntries } from '../../../../electron/core/apps/desktop-entry.js';
import { AppsStateStore } from '../../../../electron/core/apps/apps-state.js';
import { trayApps, trayMenuModel } from '../../../../electron/core/apps/tray-model.js';
import { fakeAppsGuest, type FakeAppsGuest } from '../../../helpers/fake-apps-guest.js';

let guest: FakeAppsGuest;
const png = encodePng(solidImage(112, 112, 0xff336699));

beforeEach(async () => {
  guest = await fakeAppsGuest();
  const launcher = { launcherActivity: { name: '.Main' } as never };
  // A default label, a blank default with a localized one, control characters, none at all.
  await guest.addApk(
    { pkg: 'com.a.maps', versionCode: 3, apk: '/data/app/a/com.a.maps-1/base.apk' },
    { labels: { '': 'Maps', fr: 'Cartes' }, icon: { png } as never, ...launcher },
  );
  await guest.addApk(
    { pkg: 'com.a.notes', versionCode: 1, apk: '/data/app/b/com.a.notes-1/base.apk' },
    { labels: { '': '   ', de: 'Notizen' }, ...launcher },
  );
  await guest.addApk(
    { pkg: 'com.a.bidi', versionCode: 1, apk: '/data/app/c/com.a.bidi-1/base.apk' },
    { labels: { '': 'Evil\u202eppa\u0007' }, ...launcher },
  );
  await guest.addApk(
    { pkg: 'com.a.nolabel', versionCode: 1, apk: '/data/app/d/com.a.nolabel-1/base.apk' },
    { labels: {}, ...launcher },
  );
  // No launcher: on the grid (cannot be opened), never on the desktop.
  await guest.addApk(
    { pkg: 'com.a.svc', versionCode: 1, apk: '/data/app/e/com.a.svc-1/base.apk' },
    { labels: { '': 'Service' } },
  );
  // System apps: one with a launcher (everywhere), one without (nowhere).
  await guest.addApk(
    { pkg: 'com.android.settings', versionCode: 34, system: true, apk: '/data/app/f/s/base.apk' },
    { labels: { '': 'Settings' }, ...launcher },
  );
  await guest.addApk(
    { pkg: 'com.android.phone', versionCode: 34, system: true, apk: '/data/app/g/p/base.apk' },
    { labels: { '': 'Phone services' } },
  );
});
afterEach(async () => {
  await guest.cleanup();
});

/** `Name=` of each desktop entry the catalog wrote, by package. */
async function desktopNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const pkg of await listAppEntries(guest.dirs)) {
    const text = await fs.readFile(
      path.join(guest.dirs.dataHome, 'applications', `droidway.${pkg}.desktop`),
      'utf8',
    );
    names.set(pkg, /^Name=(.*)$/m.exec(text)![1]!);
  }
  return names;
}

describe('the grid, the tray and the desktop entries are views of one catalog', () => {
  it('agree on the set of apps and their labels after one catalog read', async () => {
    const catalog = new AppCatalog({
      instance: guest.instance,
      dataRoot: guest.root,
      exec: async () => guest.exec,
      readApk: guest.readApk,
      readIcons: async () => [{ png }],
      icons: true,
      desktop: { dirs: guest.dirs, launcher: ['/usr/bin/droidway'], run: async () => true },
    });
    await catalog.refresh();
    const guestCalls = guest.calls.length;
    const reads = guest.reads.length;

    // The grid (`apps:list`), and the tray from the catalog and the pins store as Electron
    // main feeds it, with every app pinned so that each one has a menu item.
    const grid = appSummaries(catalog, new Set(['com.a.maps']));
    const allPackages = grid.map((a) => a.packageName);
    const store = new AppsStateStore(path.join(guest.root, 'state'));
    for (const pkg of allPackages) await store.pin(pkg);
    const tray = trayMenuModel({ session: 'running', ...trayApps(catalog, await store.read()) });
    const desktop = await desktopNames();
    // The views read the refresh that was made, not the guest again.
    expect(guest.calls).toHaveLength(guestCalls);
    expect(guest.reads).toHaveLength(reads);

    expect(grid.map((a) => [a.packageName, a.label, a.launchable])).toEqual([
      ['com.a.nolabel', 'com.a.nolabel', true],
      ['com.a.bidi', 'Evilppa', true],
      ['com.a.maps', 'Maps', true],
      ['com.a.notes', 'Notizen', true],
      ['com.a.svc', 'Service', false],
      ['com.android.settings', 'Settings', true],
    ]);
    expect(grid.find((a) => a.packageName === 'com.a.maps')?.iconDataUrl).toBe(pngDataUrl(png));
    expect(grid.find((a) => a.packageName === 'com.a.maps')?.pinned).toBe(true);

    // Same set: the desktop has exactly the grid's launchable apps, the tray every grid app.
    const launchable = grid.filter((a) => a.launchable);
    expect([...desktop.keys()].sort()).toEqual(launchable.map((a) => a.packageName).sort());
    const trayItems = tray.filter((i) => i.type === 'item' && i.id.startsWith('pinned:'));
    expect(trayItems.map((i) => i.id.slice('pinned:'.length))).toEqual(allPackages);
    // Same labels, item by item.
    for (const app of grid) {
      if (app.launchable) expect(desktop.get(app.packageName), app.packageName).toBe(app.label);
      const item = tray.find((i) => i.id === `pinned:${app.packageName}`);
      expect(item?.type === 'item' && item.label, app.packageName).toBe(app.label);
      // An app the grid cannot open is greyed out in the tray.
      expect(item?.type === 'item' && item.enabled, app.packageName).toBe(app.launchable);
      expect(catalog.get(app.packageName)?.label).toBe(app.label);
    }
  });

  it('shows the labels of the catalog locale everywhere', async () => {
    const catalog = new AppCatalog({
      instance: guest.instance,
      dataRoot: guest.root,
      exec: async () => guest.exec,
      readApk: guest.readApk,
      readIcons: async () => [],
      locale: 'fr',
      desktop: { dirs: guest.dirs, launcher: ['/usr/bin/droidway'], run: async () => true },
    });
    await catalog.refresh();
    const grid = appSummaries(catalog, new Set());
    expect(grid.find((a) => a.packageName === 'com.a.maps')?.label).toBe('Cartes');
    // Without `icons`, the grid gets none (the CLI's catalog keeps none).
    expect(grid.every((a) => a.iconDataUrl === null)).toBe(true);
  });
});

describe('pngDataUrl', () => {
  const head = Uint8Array.from([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...new Array(16).fill(0),
  ]);
  it('makes a data: URL of PNG bytes only, within the size cap', () => {
    expect(pngDataUrl(head)).toBe(`data:image/png;base64,${Buffer.from(head).toString('base64')}`);
    expect(pngDataUrl(null)).toBeNull();
    expect(pngDataUrl(new Uint8Array(24))).toBeNull();
    expect(pngDataUrl(head.subarray(0, 8))).toBeNull();
    const big = new Uint8Array(MAX_ICON_BYTES + 1);
    big.set(head);
    expect(pngDataUrl(big)).toBeNull();
    // An SVG (or HTML) never becomes an image URL, whatever it claims.
    expect(
      pngDataUrl(new TextEncoder().encode('<svg onload="alert(1)"></svg>'.padEnd(40))),
    ).toBeNull();
  });
});
