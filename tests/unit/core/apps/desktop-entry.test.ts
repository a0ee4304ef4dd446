import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APK_MIME_XML,
  appEntryText,
  checkPackageName,
  desktopLocale,
  droidwayEntryText,
  escapeValue,
  execLine,
  installDroidwayIntegration,
  listAppEntries,
  quoteExecArg,
  refreshDesktopCaches,
  removeAppEntry,
  resolveLauncherCommand,
  writeAppEntry,
  xdgDirs,
  type XdgDirs,
} from '../../../../electron/core/apps/desktop-entry.js';
import { itNeeds } from '../../../helpers/capability.js';

const VALIDATOR = '/usr/bin/desktop-file-validate';
const noValidator = existsSync(VALIDATOR) ? null : 'desktop-file-validate is not installed';

/** Runs desktop-file-validate; returns its complaints (errors and warnings, not hints). */
function validate(file: string): string[] {
  const r = spawnSync(VALIDATOR, [file], { encoding: 'utf8' });
  const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => / (error|warning): /.test(l));
  if (r.status !== 0 && problems.length === 0) problems.push(`exit ${r.status}`);
  return problems;
}

/** The value of `key` in the text, unescaped as a reader would (first group only). */
function readKey(text: string, key: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${key}=`));
  return line
    ?.slice(key.length + 1)
    .replace(/\\(.)/g, (_m, c: string) => ({ s: ' ', n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

const LAUNCHER = ['/opt/Droid Way/droidway'];

let dir: string;
let dirs: XdgDirs;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-desktop-'));
  dirs = { dataHome: path.join(dir, 'data'), configHome: path.join(dir, 'config') };
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('values and Exec quoting', () => {
  it('escapes backslash, newline, tab, CR and a leading space', () => {
    expect(escapeValue('a\\b\nc\td\re')).toBe('a\\\\b\\nc\\td\\re');
    expect(escapeValue(' x')).toBe('\\sx');
    expect(escapeValue('100% [beta] a=b')).toBe('100% [beta] a=b');
  });

  it('quotes reserved characters and doubles % in Exec arguments', () => {
    expect(quoteExecArg('com.example.app')).toBe('com.example.app');
    expect(quoteExecArg('/opt/Droid Way/droidway')).toBe('"/opt/Droid Way/droidway"');
    expect(quoteExecArg('a"b$c`d\\e')).toBe('"a\\"b\\$c\\`d\\\\e"');
    expect(quoteExecArg('50%u')).toBe('50%%u');
    expect(() => quoteExecArg('')).toThrow();
    expect(() => quoteExecArg('a\nb')).toThrow();
    // The string-level escape doubles the backslashes the quoting added.
    expect(execLine(['/x y/$z'], ['%F'])).toBe('"/x y/\\\\$z" %F');
  });

  it('maps Android locales to desktop-entry locales', () => {
    expect(desktopLocale('fr')).toBe('fr');
    expect(desktopLocale('zh-rTW')).toBe('zh_TW');
    expect(desktopLocale('de-DE')).toBe('de_DE');
    expect(desktopLocale('b+sr+Latn')).toBe('sr@latin');
    expect(desktopLocale('b+es+419')).toBe('es');
    for (const bad of ['', 'EN', 'en-rus', 'x]', 'en[US]', 'b+', 'zh-rTW=x', 'en\n'])
      expect(desktopLocale(bad)).toBeNull();
  });

  it('checks package names against Android grammar', () => {
    for (const bad of ['app', 'com..x', '1com.x', 'com.x/../y', 'com.x y', 'com.x\n', '', 'a.b-c'])
      expect(() => checkPackageName(bad), bad).toThrow(/not an Android package name/);
    expect(() => checkPackageName('com.example.App_1')).not.toThrow();
    expect(() => checkPackageName(42)).toThrow();
  });
});

describe('app entries', () => {
  const nasty: [string, Record<string, string>][] = [
    ['newlines', { '': 'Evil\nExec=rm -rf ~\n[Desktop Entry]' }],
    ['field codes', { '': '100% %f %U %%' }],
    ['equals and brackets', { '': 'a=b [c] ;d;', 'de-rDE': 'Grüße=[x]' }],
    ['very long', { '': 'L'.repeat(5000) }],
    ['RTL', { '': 'تطبيق', he: 'יישום' }],
    ['empty', { '': '   ' }],
    ['no labels', {}],
    ['bad locales', { '': 'Ok', 'en]': 'x', 'zh-rTW': '應用' }],
    ['leading space and backslash', { '': ' \\lead' }],
  ];
  for (const [name, labels] of nasty)
    itNeeds(`stays valid and safe with ${name}`, noValidator, async () => {
      const file = await writeAppEntry(dirs, {
        packageName: 'com.example.nasty',
        labels,
        launcher: LAUNCHER,
        hasIcon: true,
      });
      expect(path.basename(file)).toBe('droidway.com.example.nasty.desktop');
      expect(validate(file)).toEqual([]);
      const text = await fs.readFile(file, 'utf8');
      // Exactly one group header of each kind and one Exec per group: nothing was injected.
      expect(text.match(/^\[Desktop Entry\]$/gm)).toHaveLength(1);
      expect(text.match(/^Exec=/gm)).toHaveLength(2);
      expect(readKey(text, 'Exec')).toBe('"/opt/Droid Way/droidway" --launch com.example.nasty');
      expect(readKey(text, 'StartupWMClass')).toBe('droidway.com.example.nasty');
      expect(readKey(text, 'Icon')).toBe('droidway.com.example.nasty');
      expect(readKey(text, 'X-Droidway-Package')).toBe('com.example.nasty');
      const shown = readKey(text, 'Name')!;
      expect(shown.length).toBeGreaterThan(0);
      expect(shown).not.toContain('\n');
    });

  it('names the default and localized labels, settings action included', () => {
    const text = appEntryText({
      packageName: 'com.example.maps',
      labels: { '': 'Maps', 'zh-rTW': '地圖', fr: 'Cartes' },
      launcher: ['/usr/bin/droidway'],
      hasIcon: false,
    });
    expect(readKey(text, 'Name')).toBe('Maps');
    expect(readKey(text, 'Name[zh_TW]')).toBe('地圖');
    expect(readKey(text, 'Name[fr]')).toBe('Cartes');
    expect(readKey(text, 'Icon')).toBe('droidway');
    expect(text).toContain('Actions=settings;');
    expect(text).toContain('[Desktop Action settings]');
    expect(text).toContain('Exec=/usr/bin/droidway --launch-settings com.example.maps');
  });

  it('falls back to the package name for an empty label and keeps % in Name', () => {
    expect(
      readKey(
        appEntryText({ packageName: 'a.b', labels: { '': ' ' }, launcher: ['d'], hasIcon: false }),
        'Name',
      ),
    ).toBe('a.b');
    expect(
      readKey(
        appEntryText({
          packageName: 'a.b',
          labels: { '': '50% off' },
          launcher: ['d'],
          hasIcon: false,
        }),
        'Name',
      ),
    ).toBe('50% off');
  });

  it('refuses non-Android package names before writing anything', async () => {
    for (const pkg of ['../../evil', 'evil', 'com.x;rm', 'com.x\n'])
      await expect(
        writeAppEntry(dirs, { packageName: pkg, labels: {}, launcher: LAUNCHER, hasIcon: false }),
      ).rejects.toMatchObject({ code: 'PACKAGE_NAME_INVALID' });
    expect(existsSync(path.join(dirs.dataHome, 'applications'))).toBe(false);
  });

  it('writes atomically, lists and removes entries', async () => {
    await writeAppEntry(dirs, {
      packageName: 'com.a.one',
      labels: {},
      launcher: LAUNCHER,
      hasIcon: false,
    });
    await writeAppEntry(dirs, {
      packageName: 'com.a.two',
      labels: {},
      launcher: LAUNCHER,
      hasIcon: false,
    });
    await fs.writeFile(path.join(dirs.dataHome, 'applications', 'other.desktop'), '');
    expect(await listAppEntries(dirs)).toEqual(['com.a.one', 'com.a.two']);
    expect(await fs.readdir(path.join(dirs.dataHome, 'applications'))).not.toContainEqual(
      expect.stringMatching(/\.tmp$/),
    );
    expect(await removeAppEntry(dirs, 'com.a.one')).toBe(true);
    expect(await removeAppEntry(dirs, 'com.a.one')).toBe(false);
    expect(await listAppEntries(dirs)).toEqual(['com.a.two']);
  });
});

describe('launcher command', () => {
  it('prefers $APPIMAGE, then the packaged executable, then /usr/bin/droidway, then the checkout', () => {
    expect(resolveLauncherCommand({ env: { APPIMAGE: '/home/u/Droidway.AppImage' } })).toEqual([
      '/home/u/Droidway.AppImage',
    ]);
    expect(
      resolveLauncherCommand({ env: {}, packaged: true, execPath: '/opt/Droidway/droidway' }),
    ).toEqual(['/opt/Droidway/droidway']);
    expect(
      resolveLauncherCommand({ env: {}, execPath: '/bin/node', systemCommand: '/bin/sh' }),
    ).toEqual(['/bin/sh']);
    const dev = resolveLauncherCommand({
      env: {},
      execPath: '/bin/node',
      systemCommand: '/nonexistent',
    });
    expect(dev[0]).toBe('/bin/node');
    expect(dev[1]).toMatch(/electron\/cli\/droidway\.js$/);
    expect(dev[1]).not.toMatch(/\/out\/electron\//);
    expect(existsSync(dev[1]!)).toBe(true);
  });

  it('reads XDG folders, ignoring relative values', () => {
    expect(xdgDirs({ HOME: '/h', XDG_DATA_HOME: '/d', XDG_CONFIG_HOME: 'rel' })).toEqual({
      dataHome: '/d',
      configHome: '/h/.config',
    });
  });
});

describe('Droidway integration', () => {
  itNeeds('installs a valid droidway.desktop and the APK MIME type', noValidator, async () => {
    const ran: string[][] = [];
    const files = await installDroidwayIntegration(dirs, {
      launcher: LAUNCHER,
      run: async (argv) => {
        ran.push([...argv]);
        return true;
      },
    });
    expect(validate(files[0]!)).toEqual([]);
    const text = await fs.readFile(files[0]!, 'utf8');
    expect(readKey(text, 'MimeType')).toBe('application/vnd.android.package-archive;');
    expect(readKey(text, 'Exec')).toBe('"/opt/Droid Way/droidway" --install %F');
    expect(await fs.readFile(files[1]!, 'utf8')).toContain('<glob pattern="*.apk"/>');
    expect(ran.map((a) => a[0])).toEqual(['update-desktop-database', 'update-mime-database']);

    // Every app start calls it: current files are left alone and no cache tool runs.
    ran.length = 0;
    const record = async (argv: readonly string[]) => {
      ran.push([...argv]);
      return true;
    };
    expect(await installDroidwayIntegration(dirs, { launcher: LAUNCHER, run: record })).toEqual([]);
    expect(ran).toEqual([]);
    // A moved app rewrites its entry only.
    expect(
      await installDroidwayIntegration(dirs, { launcher: ['/usr/bin/droidway'], run: record }),
    ).toEqual([files[0]]);
    expect(readKey(await fs.readFile(files[0]!, 'utf8'), 'Exec')).toBe(
      '/usr/bin/droidway --install %F',
    );
    expect(ran.map((a) => a[0])).toEqual(['update-desktop-database', 'update-mime-database']);
  });

  itNeeds('the shipped resources/desktop files are valid', noValidator, async () => {
    const shipped = path.resolve('resources/desktop/droidway.desktop');
    expect(validate(shipped)).toEqual([]);
    expect(await fs.readFile(shipped, 'utf8')).toBe(
      droidwayEntryText(['droidway']).replace(/^Exec=.*$/m, 'Exec=droidway --install %F'),
    );
    expect(await fs.readFile('resources/desktop/droidway-apk.xml', 'utf8')).toBe(APK_MIME_XML);
  });

  it('runs the cache tools by argv and ignores their absence', async () => {
    await fs.mkdir(path.join(dirs.dataHome, 'icons', 'hicolor'), { recursive: true });
    const ran: string[][] = [];
    await refreshDesktopCaches(dirs, {
      run: async (argv) => {
        ran.push([...argv]);
        return false;
      },
    });
    expect(ran).toEqual([
      ['update-desktop-database', '-q', path.join(dirs.dataHome, 'applications')],
      ['gtk-update-icon-cache', '-q', '-f', '-t', path.join(dirs.dataHome, 'icons', 'hicolor')],
    ]);
    // The real runner with a missing program resolves false instead of throwing.
    const { runTool } = await import('../../../../electron/core/apps/desktop-entry.js');
    expect(await runTool(['/nonexistent/tool'])).toBe(false);
  });
});

describe('the instance an app was installed in', () => {
  it('is named in Exec for launches and settings, unless it is the default', async () => {
    const { appEntryText } = await import('../../../../electron/core/apps/desktop-entry.js');
    const base = {
      packageName: 'org.example.hello',
      labels: { '': 'Hello' },
      launcher: ['/usr/bin/droidway'],
      hasIcon: true,
    };
    const work = appEntryText({ ...base, instance: 'work' });
    expect(work).toMatch(
      /^Exec=\/usr\/bin\/droidway --launch org\.example\.hello --instance work$/m,
    );
    expect(work).toMatch(
      /^Exec=\/usr\/bin\/droidway --launch-settings org\.example\.hello --instance work$/m,
    );
    expect(appEntryText({ ...base, instance: 'default' })).toMatch(
      /^Exec=\/usr\/bin\/droidway --launch org\.example\.hello$/m,
    );
    expect(() => appEntryText({ ...base, instance: 'a b' })).toThrow(/unusable instance name/);
  });
});
