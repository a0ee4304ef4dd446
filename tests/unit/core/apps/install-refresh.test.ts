import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCoreApi } from '../../../../electron/core/api.js';
import { catalogAppsService } from '../../../../electron/core/apps/apps-service.js';
import { AppCatalog } from '../../../../electron/core/apps/catalog.js';
import { refreshOnInstall } from '../../../../electron/core/apps/install-refresh.js';
import { InstallError } from '../../../../electron/core/install/install-errors.js';
import type {
  InstallOptions,
  InstallResult,
} from '../../../../electron/core/install/install-pipeline.js';
import { InstallQueue } from '../../../../electron/core/install/install-queue.js';
import { fakeAppsGuest, type FakeAppsGuest } from '../../../helpers/fake-apps-guest.js';

let guest: FakeAppsGuest;
let refreshes: number;

beforeEach(async () => {
  guest = await fakeAppsGuest();
  refreshes = 0;
});
afterEach(async () => {
  await guest.cleanup();
});

/**
 * The catalog of the fake guest, counting the refreshes that ran (not the calls); its APK reads
 * wait for `gate` when one is set.
 */
function catalog(gate?: Promise<void>): AppCatalog {
  const c = new AppCatalog({
    instance: guest.instance,
    dataRoot: guest.root,
    exec: async () => {
      refreshes += 1;
      return guest.exec;
    },
    readApk: async (file) => {
      await gate;
      return guest.readApk(file);
    },
    readIcons: async () => [],
    desktop: { dirs: guest.dirs, launcher: ['/usr/bin/droidway'], run: async () => true },
  });
  return c;
}

/**
 * An installer into the fake guest: `ok-<name>.apk` installs `org.example.<name>`, anything else
 * is refused by Android.
 */
async function install(file: string, options: InstallOptions): Promise<InstallResult> {
  const name = path.basename(file, '.apk');
  if (!name.startsWith('ok-'))
    throw new InstallError('INSTALL_FAILED_INVALID_APK', 'the package is invalid');
  const pkg = `org.example.${name.slice(3)}`;
  await guest.addApk(
    { pkg, versionCode: 1, apk: `/data/app/${name}/base.apk` },
    { labels: { '': name }, launcherActivity: { name: '.Main' } as never },
  );
  return {
    id: options.id ?? '',
    file,
    packageName: pkg,
    versionCode: 1,
    sha256: '0'.repeat(64),
    bytes: 1,
    apkCount: 1,
  };
}

const entry = (pkg: string): string =>
  path.join(guest.dirs.dataHome, 'applications', `droidway.${pkg}.desktop`);

describe('a finished install refreshes the catalog', () => {
  it('exactly once per installed file, with its desktop entry; never for a failed one', async () => {
    const c = catalog();
    const queue = new InstallQueue({ exec: guest.exec, stagingRoot: guest.root, install });
    const link = refreshOnInstall(queue, () => c);

    queue.add('/in/ok-one.apk');
    await queue.settled();
    await link.settled();
    expect(refreshes).toBe(1);
    expect(c.apps().map((a) => a.packageName)).toEqual(['org.example.one']);
    expect(existsSync(entry('org.example.one'))).toBe(true);

    queue.add('/in/broken.apk');
    await queue.settled();
    await link.settled();
    expect(refreshes).toBe(1);

    queue.add('/in/ok-two.apk');
    queue.add('/in/ok-three.apk');
    await queue.settled();
    await link.settled();
    expect(refreshes).toBe(3);
    expect(c.apps().map((a) => a.packageName)).toEqual([
      'org.example.one',
      'org.example.three',
      'org.example.two',
    ]);

    link.dispose();
    queue.add('/in/ok-four.apk');
    await queue.settled();
    expect(refreshes).toBe(3);
  });

  it('sees an install that finished while another refresh was running', async () => {
    await guest.addApk(
      { pkg: 'org.example.old', versionCode: 1, apk: '/data/app/old/base.apk' },
      { labels: { '': 'Old' } },
    );
    let release = (): void => undefined;
    const c = catalog(new Promise<void>((resolve) => (release = resolve)));
    const queue = new InstallQueue({ exec: guest.exec, stagingRoot: guest.root, install });
    const link = refreshOnInstall(queue, () => c);
    // The grid is being listed (the package list taken, an APK being read) when the install
    // ends: the refresh the install asks for must come after, not share the running one.
    const listing = c.refresh();
    await new Promise((resolve) => setImmediate(resolve));
    queue.add('/in/ok-late.apk');
    await queue.settled();
    release();
    expect((await listing).map((a) => a.packageName)).toEqual(['org.example.old']);
    await link.settled();
    expect(c.get('org.example.late')).toBeDefined();
    expect(refreshes).toBe(2);
  });

  it('through the core API: one refresh and one apps:changed per installed file', async () => {
    const c = catalog();
    const events: string[] = [];
    const queue = new InstallQueue({ exec: guest.exec, stagingRoot: guest.root, install });
    const api = createCoreApi({
      apps: catalogAppsService({ instance: guest.instance, catalogs: () => c }),
      install: queue,
      emit: (event, payload) =>
        events.push(
          event === 'install:progress' ? `item:${(payload as { stage: string }).stage}` : event,
        ),
    });
    const changed = new Promise<void>((resolve) => {
      const poll = (): void =>
        events.includes('apps:changed') ? resolve() : void setImmediate(poll);
      poll();
    });
    await api['install:start'](['/in/ok-api.apk', '/in/notes.txt']);
    await queue.settled();
    await changed;
    expect(refreshes).toBe(1);
    expect(events.filter((e) => e === 'apps:changed')).toHaveLength(1);
    expect(events).toEqual(['item:queued', 'item:refused', 'item:done', 'apps:changed']);
    expect(c.get('org.example.api')?.label).toBe('ok-api');
  });
});
