import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsError, checkSetting } from '../../../../electron/core/settings/settings-check.js';
import { DEFAULT_SETTINGS } from '../../../../electron/core/settings/settings-schema.js';
import {
  openSettings,
  readSettingsFile,
} from '../../../../electron/core/settings/settings-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'droidway-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('settings store (conf, the shared schema)', () => {
  it('starts from the defaults and keeps what is set across a reopen', () => {
    const store = openSettings({ cwd: dir });
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
    expect(store.recovered).toBeNull();
    store.set('theme', 'dark');
    store.set('displayScale', 1.5);
    store.set('startAtLogin', true);
    const again = openSettings({ cwd: dir });
    expect(again.get()).toMatchObject({ theme: 'dark', displayScale: 1.5, startAtLogin: true });
    expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8'))).toMatchObject({
      theme: 'dark',
    });
  });

  it('refuses a value the schema refuses and keeps the stored one', () => {
    const store = openSettings({ cwd: dir });
    expect(() => store.set('theme', 'purple')).toThrow(SettingsError);
    expect(() => store.set('instanceName', '../etc')).toThrow(
      /instance name "..\/etc" is invalid: use 1-32 characters/,
    );
    expect(() => store.set('displayScale', 100)).toThrow(/displayScale/);
    expect(() => store.set('density', 1.5)).toThrow(/density/);
    expect(() => store.set('channelUrl', 'http://plain.example')).toThrow(/channelUrl/);
    expect(() => store.set('multiWindow', 'yes')).toThrow(/multiWindow/);
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
  });

  it.each([
    ['invalid JSON', '{"theme": "dark",'],
    ['a schema violation', JSON.stringify({ theme: 'purple', displayScale: 'big' })],
    ['not an object', '[1, 2, 3]'],
  ])('moves a file with %s aside, loads the defaults and raises a notice', (_what, text) => {
    writeFileSync(join(dir, 'settings.json'), text);
    const store = openSettings({ cwd: dir, now: () => 1234 });
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
    expect(store.recovered).toMatchObject({ level: 'warning', title: 'Settings were reset' });
    expect(store.recovered?.message).toContain('settings.json.corrupt-1234');
    // The bad file is kept, byte for byte, for the user to look at.
    expect(readFileSync(join(dir, 'settings.json.corrupt-1234'), 'utf8')).toBe(text);
    expect(readdirSync(dir).sort()).toEqual(['settings.json', 'settings.json.corrupt-1234']);
    store.set('theme', 'light');
    expect(openSettings({ cwd: dir }).get().theme).toBe('light');
  });

  it('checkSetting accepts each default', () => {
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) {
      expect(checkSetting(key as keyof typeof DEFAULT_SETTINGS, value)).toBe(value);
    }
  });
});

describe("readSettingsFile (what the CLI reads of the app's settings)", () => {
  it('gives the defaults for a missing file, and creates nothing', () => {
    const missing = join(dir, 'nothing-here');
    expect(readSettingsFile(missing)).toEqual(DEFAULT_SETTINGS);
    expect(readdirSync(dir)).not.toContain('nothing-here');
  });

  it('reads what the app saved', () => {
    openSettings({ cwd: dir }).set('channelUrl', 'https://ota.example.org');
    expect(readSettingsFile(dir).channelUrl).toBe('https://ota.example.org');
  });

  it('ignores a value the app would refuse, and a corrupt file', () => {
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({ channelUrl: 42, density: 5000, theme: 'dark' }),
    );
    expect(readSettingsFile(dir)).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark' });
    for (const bad of ['{', '[]', 'null', '"x"']) {
      writeFileSync(join(dir, 'settings.json'), bad);
      expect(readSettingsFile(dir), bad).toEqual(DEFAULT_SETTINGS);
    }
  });
});
