import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GuestExecutor } from '../../../../electron/core/android/guest-exec.js';
import type { ApkInfo } from '../../../../electron/core/apk/apk-reader.js';
import { AppsStateStore } from '../../../../electron/core/apps/apps-state.js';
import {
  ensureSessionRunning,
  installedLauncherActivity,
  launchApp,
  openAppSettings,
  type LaunchDeps,
} from '../../../../electron/core/apps/launch.js';
import type { SessionStateName } from '../../../../electron/core/runtime/session-state.js';

let dir: string;
let calls: string[][];
let state: SessionStateName;
let events: string[];

/** A guest that knows com.a.maps (launcher .Main) and answers am start like Android. */
const exec: GuestExecutor = async (argv) => {
  calls.push([...argv]);
  const res = (stdout: string, exitCode = 0) => ({
    exitCode,
    signal: null,
    stdout,
    stderr: '',
    stdoutTruncated: false,
    stderrTruncated: false,
  });
  if (argv[0] === 'cmd' && argv[2] === 'path')
    return res(
      argv[3] === 'com.a.maps' ? 'package:/data/app/m/base.apk\n' : '',
      argv[3] === 'com.a.maps' ? 0 : 1,
    );
  if (argv[0] === 'am' && argv[2] === '-n') {
    if (argv[3] === 'com.a.maps/.Main') return res('Starting: Intent { cmp=com.a.maps/.Main }\n');
    return res(
      `Starting: Intent { cmp=${argv[3]} }\nError type 3\nError: Activity class {${argv[3]}} does not exist.\n`,
      1,
    );
  }
  if (argv[0] === 'am' && argv[2] === '-a')
    return res(
      'Starting: Intent { act=android.settings.APPLICATION_DETAILS_SETTINGS dat=package:com.a.maps }\n',
    );
  return res('', 1);
};

function deps(extra: Partial<LaunchDeps> = {}): LaunchDeps {
  return {
    status: async () => ({ state: { name: state, since: 0 } }),
    start: async () => {
      events.push('start');
      state = 'running';
    },
    unfreeze: async () => {
      events.push('unfreeze');
      state = 'running';
    },
    exec: async () => exec,
    launcherActivity: async (_e, pkg) => {
      if (pkg === 'com.a.maps') return '.Main';
      if (pkg === 'com.a.svc') return null;
      throw Object.assign(new Error(`${pkg} is not installed in the guest`), {
        code: 'APP_NOT_INSTALLED',
      });
    },
    store: new AppsStateStore(dir),
    ...extra,
  };
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-launch-'));
  calls = [];
  events = [];
  state = 'running';
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('launch', () => {
  it('starts the launcher activity and records the launch', async () => {
    const r = await launchApp('com.a.maps', deps());
    expect(r).toEqual({
      packageName: 'com.a.maps',
      component: 'com.a.maps/.Main',
      startedSession: false,
    });
    expect(calls).toEqual([['am', 'start', '-n', 'com.a.maps/.Main']]);
    expect((await new AppsStateStore(dir).read()).recents[0]?.packageName).toBe('com.a.maps');
  });

  it('starts a stopped session first, and resumes a frozen one', async () => {
    state = 'stopped';
    expect((await launchApp('com.a.maps', deps())).startedSession).toBe(true);
    state = 'frozen';
    await launchApp('com.a.maps', deps());
    expect(events).toEqual(['start', 'unfreeze']);
  });

  it('says why the session could not start', async () => {
    state = 'stopped';
    const failing = deps({
      start: async () => {
        throw Object.assign(new Error('lxc-start failed: no cgroup'), { code: 'LXC_START_FAILED' });
      },
    });
    await expect(launchApp('com.a.maps', failing)).rejects.toMatchObject({
      code: 'SESSION_START_FAILED',
      message: 'the session could not be started: LXC_START_FAILED: lxc-start failed: no cgroup',
    });
    expect(calls).toEqual([]);
  });

  it('refuses while the session is changing', async () => {
    state = 'stopping';
    await expect(ensureSessionRunning(deps())).rejects.toMatchObject({
      code: 'SESSION_UNAVAILABLE',
    });
  });

  it('fails clearly for unknown, unlaunchable and invalid packages', async () => {
    await expect(launchApp('com.a.nothere', deps())).rejects.toMatchObject({
      code: 'APP_NOT_INSTALLED',
    });
    await expect(launchApp('com.a.svc', deps())).rejects.toMatchObject({
      code: 'APP_NOT_LAUNCHABLE',
    });
    await expect(launchApp('not-a-package', deps())).rejects.toMatchObject({
      code: 'PACKAGE_NAME_INVALID',
    });
    await expect(
      launchApp('com.a.maps', deps({ launcherActivity: async () => '.Gone' })),
    ).rejects.toMatchObject({
      code: 'ACTIVITY_NOT_FOUND',
      message: expect.stringContaining('does not exist'),
    });
    expect((await new AppsStateStore(dir).read()).recents).toEqual([]);
  });

  it('opens the app settings page', async () => {
    await openAppSettings('com.a.maps', deps());
    expect(calls).toEqual([
      [
        'am',
        'start',
        '-a',
        'android.settings.APPLICATION_DETAILS_SETTINGS',
        '-d',
        'package:com.a.maps',
      ],
    ]);
    await expect(
      openAppSettings(
        'com.a.x',
        deps({
          exec: async () => async () => ({
            exitCode: 1,
            signal: null,
            stdout: 'Error: no activity\n',
            stderr: '',
            stdoutTruncated: false,
            stderrTruncated: false,
          }),
        }),
      ),
    ).rejects.toMatchObject({
      code: 'APP_NOT_LAUNCHABLE',
      message: expect.stringContaining('no activity'),
    });
  });

  it('reads the launcher activity from the installed APK through the data mapping', async () => {
    const roots = { dataRoot: dir, runtimeRoot: path.join(dir, 'run') };
    await fs.mkdir(path.join(dir, 'inst', 'data', 'app', 'm'), { recursive: true });
    const seen: string[] = [];
    const readApk = async (file: string): Promise<ApkInfo> => {
      seen.push(file);
      return { packageName: 'com.a.maps', launcherActivity: { name: '.Main' } } as ApkInfo;
    };
    expect(
      await installedLauncherActivity(exec, 'com.a.maps', { instance: 'inst', ...roots, readApk }),
    ).toBe('.Main');
    expect(seen).toEqual([path.join(dir, 'inst', 'data', 'app', 'm', 'base.apk')]);
    await expect(
      installedLauncherActivity(exec, 'com.a.other', { instance: 'inst', ...roots, readApk }),
    ).rejects.toMatchObject({ code: 'APP_NOT_INSTALLED' });
  });
});
