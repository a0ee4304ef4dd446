import { describe, expect, it } from 'vitest';
import {
  MAX_INSTALL_FILES,
  dispatchLaunchRequests,
  hasRequests,
  parseLaunchArgs,
  type LaunchRequestHandlers,
} from '../../../../electron/core/apps/launch-args.js';

describe('launch arguments', () => {
  it('reads --launch, --launch=, --launch-settings and --install among Chromium switches', () => {
    const r = parseLaunchArgs(
      [
        '/opt/Droidway/droidway',
        '--allow-file-access-from-files',
        '--launch',
        'com.a.maps',
        '--launch=com.a.mail',
        '--launch-settings',
        'com.a.maps',
        '--install',
        'a.apk',
        '/abs/b.apks',
        'file:///tmp/c%20d.xapk',
        '--original-process-start-time=1',
      ],
      '/home/u',
    );
    expect(r).toEqual({
      launch: ['com.a.maps', 'com.a.mail'],
      settings: ['com.a.maps'],
      install: ['/home/u/a.apk', '/abs/b.apks', '/tmp/c d.xapk'],
      instance: null,
      hidden: false,
      problems: [],
    });
    expect(hasRequests(r)).toBe(true);
  });

  it('reports bad package names, missing values and non-local files', () => {
    const r = parseLaunchArgs(
      [
        '--launch',
        '../etc',
        '--launch',
        '--launch-settings',
        'x',
        '--install',
        'https://e.com/a.apk',
        'ok\0.apk',
      ],
      '/w',
    );
    expect(r.launch).toEqual([]);
    expect(r.settings).toEqual([]);
    expect(r.install).toEqual([]);
    expect(r.problems).toEqual([
      '--launch: "../etc" is not an Android package name',
      '--launch needs a package name',
      '--launch-settings: "x" is not an Android package name',
      '--install: "https://e.com/a.apk" is not a local file',
      '--install: "ok\\u0000.apk" is not a local file',
    ]);
    expect(hasRequests(r)).toBe(false);
  });

  it('takes nothing from an argv without requests, and caps the files', () => {
    expect(hasRequests(parseLaunchArgs(['/usr/bin/droidway', '--no-sandbox'], '/'))).toBe(false);
    expect(parseLaunchArgs(['--install'], '/').install).toEqual([]);
    const files = Array.from({ length: MAX_INSTALL_FILES + 3 }, (_, i) => `f${i}.apk`);
    const r = parseLaunchArgs(['--install', ...files], '/d');
    expect(r.install).toHaveLength(MAX_INSTALL_FILES);
    expect(r.problems).toHaveLength(1);
  });
});

describe('dispatching requests', () => {
  function recorder(): { calls: string[]; handlers: LaunchRequestHandlers } {
    const calls: string[] = [];
    return {
      calls,
      handlers: {
        showWindow: () => calls.push('show'),
        launch: (p) => calls.push(`launch ${p}`),
        openSettings: (p) => calls.push(`settings ${p}`),
        install: (f) => calls.push(`install ${f.join(',')}`),
        problems: (p) => calls.push(`problems ${p.length}`),
      },
    };
  }

  it('shows the window for a bare start and for installs, not for a launch', () => {
    let r = recorder();
    dispatchLaunchRequests(parseLaunchArgs([], '/'), r.handlers);
    expect(r.calls).toEqual(['show']);
    r = recorder();
    dispatchLaunchRequests(
      parseLaunchArgs(['--launch', 'a.b', '--launch-settings', 'a.b'], '/'),
      r.handlers,
    );
    expect(r.calls).toEqual(['launch a.b', 'settings a.b']);
    r = recorder();
    dispatchLaunchRequests(
      parseLaunchArgs(['--install', 'x.apk', '--launch', 'bad'], '/d'),
      r.handlers,
    );
    expect(r.calls).toEqual(['problems 1', 'show', 'install /d/x.apk']);
  });
});

describe('--instance and --hidden', () => {
  it('names the instance a desktop entry installed the app in, and refuses a bad name', () => {
    expect(parseLaunchArgs(['--launch', 'com.a.b', '--instance', 'work'], '/').instance).toBe(
      'work',
    );
    expect(parseLaunchArgs(['--instance=work', '--launch', 'com.a.b'], '/').instance).toBe('work');
    const bad = parseLaunchArgs(['--launch', 'com.a.b', '--instance', '../x'], '/');
    expect(bad.instance).toBeNull();
    expect(bad.problems).toContain('--instance needs an instance name');
  });

  it('starts to the tray without a window when hidden', () => {
    const shown: string[] = [];
    const handlers = {
      showWindow: () => shown.push('window'),
      launch: () => {},
      openSettings: () => {},
      install: () => {},
    };
    dispatchLaunchRequests(parseLaunchArgs(['--hidden'], '/'), handlers);
    expect(shown).toEqual([]);
    dispatchLaunchRequests(parseLaunchArgs([], '/'), handlers);
    expect(shown).toEqual(['window']);
  });
});
