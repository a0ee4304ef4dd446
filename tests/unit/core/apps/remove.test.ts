import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GuestExecutor } from '../../../../electron/core/android/guest-exec.js';
import { encodePng, solidImage } from '../../../../electron/core/apk/png.js';
import { AppsStateStore } from '../../../../electron/core/apps/apps-state.js';
import { writeAppEntry, type XdgDirs } from '../../../../electron/core/apps/desktop-entry.js';
import { installAppIcons } from '../../../../electron/core/apps/hicolor-icons.js';
import { removeApp } from '../../../../electron/core/apps/remove.js';

let dir: string;
let dirs: XdgDirs;
let installed: Set<string>;
const calls: string[][] = [];

const exec: GuestExecutor = async (argv) => {
  calls.push([...argv]);
  const pkg = argv[3]!;
  const known = installed.delete(pkg);
  return {
    exitCode: known ? 0 : 1,
    signal: null,
    stdout: known ? 'Success\n' : 'Failure [DELETE_FAILED_INTERNAL_ERROR]\n',
    stderr: '',
    stdoutTruncated: false,
    stderrTruncated: false,
  };
};

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-remove-'));
  dirs = { dataHome: path.join(dir, 'data'), configHome: path.join(dir, 'config') };
  installed = new Set(['com.a.maps']);
  calls.length = 0;
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('removeApp', () => {
  it('uninstalls, then drops the entry, icons, pin and recents', async () => {
    const store = new AppsStateStore(dirs.configHome);
    await store.pin('com.a.maps');
    await store.recordLaunch('com.a.maps');
    const entry = await writeAppEntry(dirs, {
      packageName: 'com.a.maps',
      labels: {},
      launcher: ['d'],
      hasIcon: true,
    });
    const icons = await installAppIcons(dirs, 'com.a.maps', [
      { png: encodePng(solidImage(48, 48, 0xff000000)) },
    ]);
    await removeApp(exec, 'com.a.maps', { desktop: { dirs, run: async () => true }, store });
    expect(calls).toEqual([['cmd', 'package', 'uninstall', 'com.a.maps']]);
    expect(existsSync(entry)).toBe(false);
    expect(existsSync(icons.installed[0]!.file)).toBe(false);
    expect(await store.read()).toMatchObject({ pinned: [], recents: [] });
  });

  it('says an unknown package is not installed and keeps its entry', async () => {
    const entry = await writeAppEntry(dirs, {
      packageName: 'com.a.other',
      labels: {},
      launcher: ['d'],
      hasIcon: false,
    });
    await expect(removeApp(exec, 'com.a.other', { desktop: { dirs } })).rejects.toMatchObject({
      code: 'APP_NOT_INSTALLED',
      message: 'com.a.other is not installed in the guest',
    });
    expect(existsSync(entry)).toBe(true);
    await expect(removeApp(exec, 'bad', {})).rejects.toMatchObject({
      code: 'PACKAGE_NAME_INVALID',
    });
    expect(calls).toHaveLength(1);
  });
});
