/**
 * Apps on the desktop end to end, through the built CLI: a demo guest with the fixture Android
 * tools (`session start --android-tools`), two real fixture APKs installed with `app install`
 * → two desktop entries that pass `desktop-file-validate` and their icons in the hicolor tree at
 * the sizes the APKs carry; `app launch` and `droidway --launch` issue the right `am start` (the
 * fixture logs it); launching while stopped starts the session; `app remove` takes the entry and
 * icons with it; unknown and invalid packages fail clearly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { guestDataPathToHost } from '../../electron/core/android/guest-data.js';
import { readPngHeader } from '../../electron/core/apk/png.js';
import { rememberStartOptions } from '../../electron/core/apps/last-start.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { apkFixture, apkToolsMissing } from '../fixtures/apk/build-fixtures.js';
import { buildCli, droidway } from './helpers/cli.js';
import {
  FIXTURE_ANDROID_TOOLS,
  fixtureInstanceName,
  useFixtureSession,
} from './helpers/fixture-session.js';

const INSTANCE = fixtureInstanceName('apps-it');
const HELLO = 'org.example.hello';
const ADAPTIVE = 'org.example.adaptive';

function needs(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool([
    'lxc-start',
    'lxc-attach',
    'openssl',
    'unzip',
    'desktop-file-validate',
  ]);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  return apkToolsMissing();
}

const missing = needs();
let work: string;
let dataHome: string;
const apks: Record<string, string> = {};
const saved = {
  data: process.env.XDG_DATA_HOME,
  config: process.env.XDG_CONFIG_HOME,
  instance: process.env.DROIDWAY_INSTANCE,
};

const entryFile = (pkg: string): string =>
  path.join(dataHome, 'applications', `droidway.${pkg}.desktop`);

async function iconSizes(pkg: string): Promise<number[]> {
  const root = path.join(dataHome, 'icons', 'hicolor');
  const sizes: number[] = [];
  for (const dir of await fs.readdir(root).catch(() => [] as string[])) {
    const file = path.join(root, dir, 'apps', `droidway.${pkg}.png`);
    if (!existsSync(file)) continue;
    const { width, height } = readPngHeader(await fs.readFile(file));
    // Filed under its real size.
    expect(dir).toBe(`${width}x${height}`);
    sizes.push(width);
  }
  return sizes.sort((a, b) => a - b);
}

async function amStarts(): Promise<string[]> {
  const log = await guestDataPathToHost(INSTANCE, '/data/droidway-fixture/calls.log');
  const text = await fs.readFile(log, 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => l.replace(/^\d+ /, ''))
    .filter((l) => l.startsWith('am start'));
}

describe('apps on the desktop with the fixture guest (root, LXC)', () => {
  beforeAll(async () => {
    if (missing) return;
    buildCli();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-it-'));
    dataHome = path.join(work, 'data');
    // The CLI runs as a child of this process and takes its environment.
    process.env.XDG_DATA_HOME = dataHome;
    process.env.XDG_CONFIG_HOME = path.join(work, 'config');
    process.env.DROIDWAY_INSTANCE = INSTANCE;
    apks.hello = await apkFixture('hello');
    apks.adaptive = await apkFixture('adaptive-fallback');
  }, 300_000);
  // Runs after the session's own afterAll (hooks after the tests run in reverse order).
  afterAll(async () => {
    if (missing) return;
    await fs.rm(work, { recursive: true, force: true });
    for (const [key, value] of [
      ['XDG_DATA_HOME', saved.data],
      ['XDG_CONFIG_HOME', saved.config],
      ['DROIDWAY_INSTANCE', saved.instance],
    ] as const)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
  });

  useFixtureSession(missing, { instance: INSTANCE, androidTools: true });
  beforeAll(async () => {
    if (missing) return;
    await rememberStartOptions(
      { instance: INSTANCE },
      { image: 'demo', policy: { preset: 'strict' }, androidTools: FIXTURE_ANDROID_TOOLS },
    );
  });

  itNeeds(
    'installing two APKs writes two valid desktop entries and icons at the sizes they carry',
    missing,
    async () => {
      const r = await droidway(
        'app',
        'install',
        '--instance',
        INSTANCE,
        apks.hello!,
        apks.adaptive!,
      );
      expect(r.stderr).not.toMatch(/not installed/);
      expect(r.code).toBe(0);
      for (const pkg of [HELLO, ADAPTIVE]) {
        const v = spawnSync('desktop-file-validate', [entryFile(pkg)], { encoding: 'utf8' });
        expect(
          `${v.stdout}${v.stderr}`.split('\n').filter((l) => / (error|warning): /.test(l)),
        ).toEqual([]);
        expect(v.status).toBe(0);
      }
      const hello = await fs.readFile(entryFile(HELLO), 'utf8');
      expect(hello).toMatch(/^Name=Hello$/m);
      expect(hello).toMatch(/^Name\[fr\]=Bonjour$/m);
      expect(hello).toMatch(/^Name\[de_DE\]=Hallo$/m);
      expect(hello).toMatch(/^Icon=droidway\.org\.example\.hello$/m);
      expect(hello).toMatch(/^StartupWMClass=droidway\.org\.example\.hello$/m);
      // The entry launches into the instance the app was installed in.
      expect(hello).toMatch(
        new RegExp(
          `^Exec=.*droidway\\.js --launch org\\.example\\.hello --instance ${INSTANCE}$`,
          'm',
        ),
      );
      expect(await iconSizes(HELLO)).toEqual([48, 72, 144]);
      expect(await iconSizes(ADAPTIVE)).toEqual([72, 192]);

      const list = await droidway('app', 'list', '--json', '--instance', INSTANCE);
      expect(list.code).toBe(0);
      const apps = (
        JSON.parse(list.stdout) as { apps: { packageName: string; launcherActivity: string }[] }
      ).apps;
      expect(apps.map((a) => [a.packageName, a.launcherActivity]).sort()).toEqual([
        [ADAPTIVE, `${ADAPTIVE}.Main`],
        [HELLO, `${HELLO}.Main`],
      ]);
    },
    240_000,
  );

  itNeeds(
    'app launch and droidway --launch issue the right am start and record the launch',
    missing,
    async () => {
      const before = (await amStarts()).length;
      const r = await droidway('app', 'launch', HELLO, '--instance', INSTANCE);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`started ${HELLO}/.Main\n`);
      const top = await droidway('--launch', ADAPTIVE);
      expect(top.code).toBe(0);
      expect((await amStarts()).slice(before)).toEqual([
        `am start -n ${HELLO}/${HELLO}.Main`,
        `am start -n ${ADAPTIVE}/${ADAPTIVE}.Main`,
      ]);
      const state = JSON.parse(
        await fs.readFile(path.join(work, 'config', 'droidway', 'apps-state.json'), 'utf8'),
      ) as { recents: { packageName: string }[] };
      expect(state.recents.map((r) => r.packageName)).toEqual([ADAPTIVE, HELLO]);
      expect((await droidway('app', 'pin', HELLO)).code).toBe(0);
      // A package the guest does not have is not pinned: the tray could not launch it.
      const notThere = await droidway('app', 'pin', 'org.example.nothere');
      expect(notThere.code).toBe(1);
      expect(notThere.stderr).toBe(
        `droidway: org.example.nothere is not installed in instance ${INSTANCE}; droidway app list shows what is\n`,
      );
      const pins = JSON.parse(
        await fs.readFile(path.join(work, 'config', 'droidway', 'apps-state.json'), 'utf8'),
      ) as { pinned: string[] };
      expect(pins.pinned).toEqual([HELLO]);
    },
    120_000,
  );

  itNeeds(
    'unknown and invalid packages fail clearly, without an am start',
    missing,
    async () => {
      const before = (await amStarts()).length;
      const unknown = await droidway(
        'app',
        'launch',
        'org.example.nothere',
        '--instance',
        INSTANCE,
      );
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe('droidway: org.example.nothere is not installed in the guest\n');
      const invalid = await droidway('app', 'launch', '../etc/passwd', '--instance', INSTANCE);
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toMatch(/^droidway: "..\/etc\/passwd" is not an Android package name/);
      expect((await amStarts()).length).toBe(before);
    },
    120_000,
  );

  itNeeds(
    'removing an app takes its desktop entry and icons with it',
    missing,
    async () => {
      const r = await droidway('app', 'remove', ADAPTIVE, '--instance', INSTANCE);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(existsSync(entryFile(ADAPTIVE))).toBe(false);
      expect(await iconSizes(ADAPTIVE)).toEqual([]);
      expect(existsSync(entryFile(HELLO))).toBe(true);
      expect(await iconSizes(HELLO)).toEqual([48, 72, 144]);
      const again = await droidway('app', 'remove', ADAPTIVE, '--instance', INSTANCE);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^droidway: \S+ is not installed/);
    },
    120_000,
  );

  itNeeds(
    'launching while the session is stopped starts it first',
    missing,
    async () => {
      expect((await droidway('session', 'stop', '--instance', INSTANCE)).code).toBe(0);
      const r = await droidway('app', 'launch', HELLO, '--instance', INSTANCE);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(`droidway: started the session of instance ${INSTANCE}\n`);
      expect((await amStarts()).at(-1)).toBe(`am start -n ${HELLO}/${HELLO}.Main`);
      const status = await droidway('session', 'status', '--instance', INSTANCE, '--json');
      expect(status.stdout).toMatch(/"running"/);
    },
    240_000,
  );
});
