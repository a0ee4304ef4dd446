import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  compilePolicy,
  type CompileContext,
} from '../../../../electron/core/policy/policy-compile.js';
import { loadPreset, PRESET_NAMES } from '../../../../electron/core/policy/presets.js';

/**
 * Golden tests: each preset compiled with a fixed context must equal the files in
 * tests/fixtures/policy/golden/. After an intended change, regenerate them with
 * `UPDATE_GOLDEN=1 npx vitest run --project unit tests/unit/core/policy/policy-golden.test.ts`
 * and review the diff. A new bridge limit (a row of `BRIDGE_LIMITS`) is one such change: it adds
 * its line to the `bridge` of the three `*.meta.json.golden` files (the LXC and seccomp files do
 * not hold the bridge), and this command writes it.
 */
const goldenDir = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/policy/golden');
const update = process.env.UPDATE_GOLDEN === '1';

/** The context every golden file is compiled with: this project's cgroup v1 host without AppArmor. */
export const GOLDEN_CONTEXT: CompileContext = {
  name: 'droidway-golden',
  rootfsPath: '/var/lib/droidway/instances/golden/rootfs',
  seccompProfilePath: '/run/droidway/golden/seccomp.profile',
  logFile: '/var/lib/droidway/instances/golden/lxc.log',
  init: ['/sbin/init'],
  cgroupVersion: 1,
  unsupportedLimits: ['ioWeight'],
  apparmorAvailable: false,
  maskFile: '/run/droidway/golden/empty',
  nodumpWrapper: '/opt/droidway/probe/droidway-nodump',
  idRange: { hostBase: 1879048192, count: 131072 },
  extraMounts: [
    {
      source: '/run/droidway/golden/wayland',
      target: '/run/xdg',
      options: 'bind,create=dir,nosuid,nodev',
    },
  ],
};

function golden(file: string, actual: string): void {
  const path = join(goldenDir, file);
  if (update) {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(actual, `${file} differs; UPDATE_GOLDEN=1 regenerates it`).toBe(
    readFileSync(path, 'utf8'),
  );
}

describe('golden compile of the presets', () => {
  for (const name of PRESET_NAMES) {
    it(`${name}: LXC config, seccomp profile, bridge settings, expectations and notes`, () => {
      const out = compilePolicy(loadPreset(name), GOLDEN_CONTEXT);
      golden(`${name}.lxc.conf`, out.lxcConfig);
      golden(`${name}.seccomp`, out.seccompProfile);
      golden(
        `${name}.meta.json.golden`,
        `${JSON.stringify({ bridge: out.bridge, expectations: out.expectations, notes: out.notes }, null, 2)}\n`,
      );
    });
  }
});
