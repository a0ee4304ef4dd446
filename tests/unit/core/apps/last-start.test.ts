import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  START_OPTIONS_FILE,
  lastStartOptions,
  rememberStartOptions,
} from '../../../../electron/core/apps/last-start.js';
import { compilePolicy } from '../../../../electron/core/policy/policy-compile.js';
import { loadPreset } from '../../../../electron/core/policy/presets.js';

let root: string;
const ref = (): { instance: string; dataRoot: string; runtimeRoot: string } => ({
  instance: 'inst',
  dataRoot: root,
  runtimeRoot: path.join(root, 'run'),
});

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-last-start-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('last start options', () => {
  it('defaults to the demo guest with its preset', async () => {
    expect(await lastStartOptions(ref())).toMatchObject({
      instance: 'inst',
      image: 'demo',
      policy: { preset: 'strict' },
    });
  });

  it('uses the remembered options, then the session record', async () => {
    await rememberStartOptions(ref(), {
      image: 'demo',
      policy: { preset: 'strict' },
      androidTools: '/opt/tools',
    });
    expect(await lastStartOptions(ref())).toMatchObject({ androidTools: '/opt/tools' });
    await fs.rm(path.join(root, 'inst', START_OPTIONS_FILE));
    await fs.writeFile(
      path.join(root, 'inst', 'session-policy.json'),
      JSON.stringify({
        version: 1,
        instance: 'inst',
        image: 'lineage',
        policyName: 'android',
        startedAt: '2026-12-03T07:00:00.000Z',
        // A record is read whole: what the android preset promises, compiled for a made-up host.
        expectations: compilePolicy(loadPreset('android'), {
          name: 'droidway-inst',
          rootfsPath: '/var/lib/droidway/inst/rootfs',
          logFile: '/var/log/droidway/inst/lxc.log',
          idRange: { hostBase: 1879048192, count: 131072 },
        }).expectations,
        notes: [],
        probe: null,
      }),
    );
    expect(await lastStartOptions(ref())).toMatchObject({
      image: 'lineage',
      policy: { preset: 'android' },
    });
  });

  it('ignores a malformed remembered file and unsafe values in it', async () => {
    await fs.mkdir(path.join(root, 'inst'), { recursive: true });
    const file = path.join(root, 'inst', START_OPTIONS_FILE);
    for (const text of ['{', 'null', '{"image":"demo","policy":{"file":"relative.json"}}']) {
      await fs.writeFile(file, text);
      expect(await lastStartOptions(ref())).toMatchObject({
        image: 'demo',
        policy: { preset: 'strict' },
      });
    }
    await fs.writeFile(
      file,
      '{"image":"demo","policy":{"preset":"strict"},"androidTools":"rel/dir","scale":1e9}',
    );
    const opts = await lastStartOptions(ref());
    expect(opts.androidTools).toBeUndefined();
    expect(opts.scale).toBeUndefined();
  });
});
