/**
 * A launched app becomes its own window on the host, grouped by the desktop under
 * `droidway.<pkg>`: headless weston on the host, a demo guest with the display bridge and the
 * fixture Android tools, a fixture APK installed with `app install`, then `app launch`. The
 * fixture's `am start` shows the app's UI with the demo client (`--app-id <pkg>`); the proof is
 * taken on the host compositor's side: weston's own protocol log (`weston-debug proto`) must
 * show the bridge's host connection setting app_id `droidway.<pkg>`, and the screenshot must
 * show the second window.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { guestDataPathToHost } from '../../electron/core/android/guest-data.js';
import { countColor } from '../fixtures/bridge/png.js';
import { apkFixture, apkToolsMissing } from '../fixtures/apk/build-fixtures.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { buildCli, droidway, repoRoot } from './helpers/cli.js';
import { fixtureInstanceName, useFixtureSession } from './helpers/fixture-session.js';
import { startHeadlessWeston, waitFor, type HeadlessWeston } from './helpers/weston.js';

const INSTANCE = fixtureInstanceName('apps-win');
const HELLO = 'org.example.hello';
// The demo client's status bar colour and size (native/guest/droidway-demo-client.c).
const STATUS_COLOR = 0xe8a01a;
const STATUS_PIXELS = 360 * 24;

function needs(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool([
    'lxc-start',
    'lxc-attach',
    'weston',
    'weston-debug',
    'openssl',
    'unzip',
  ]);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/guest/build/droidway-demo-client')))
    return 'the demo client is not built (make -C native/guest)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node')))
    return 'the native addon is not built (npm run build:native)';
  return apkToolsMissing();
}

const missing = needs();
let weston: HeadlessWeston | null = null;
let protoLog: ChildProcess | null = null;
let proto = '';
let work = '';
const saved = { data: process.env.XDG_DATA_HOME, config: process.env.XDG_CONFIG_HOME };

describe('a launched app is its own host window (root, LXC, weston)', () => {
  beforeAll(async () => {
    if (missing) return;
    buildCli();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-win-'));
    process.env.XDG_DATA_HOME = path.join(work, 'data');
    process.env.XDG_CONFIG_HOME = path.join(work, 'config');
    weston = await startHeadlessWeston('droidway-apps-win-');
    // weston's protocol log: every request its clients send, the bridge's host connections too.
    protoLog = spawn('weston-debug', ['proto'], {
      env: { ...process.env, WAYLAND_DISPLAY: weston.socket },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    protoLog.stdout!.on('data', (chunk: Buffer) => {
      // Only what is needed is kept: the log grows with every frame.
      for (const line of chunk.toString().split('\n'))
        if (line.includes('set_app_id')) proto += `${line}\n`;
    });
  }, 300_000);

  // Runs after the session's own afterAll (hooks after the tests run in reverse order).
  afterAll(async () => {
    if (missing) return;
    protoLog?.kill();
    weston?.stop();
    if (work !== '') await fs.rm(work, { recursive: true, force: true });
    for (const [key, value] of [
      ['XDG_DATA_HOME', saved.data],
      ['XDG_CONFIG_HOME', saved.config],
    ] as const)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
  });

  useFixtureSession(missing, () => ({
    instance: INSTANCE,
    androidTools: true,
    hostDisplay: weston!.socket,
  }));

  itNeeds(
    'app launch brings up a window whose host app_id is droidway.<pkg>',
    missing,
    async () => {
      // The guest's own demo window comes first.
      await waitFor('the demo window on the host', () =>
        proto.includes('set_app_id("droidway.demo")') ? true : undefined,
      );
      const installed = await droidway(
        'app',
        'install',
        '--instance',
        INSTANCE,
        await apkFixture('hello'),
      );
      expect(installed.code, installed.stderr).toBe(0);
      expect(proto).not.toContain(`droidway.${HELLO}`);

      const launched = await droidway('app', 'launch', '--instance', INSTANCE, HELLO);
      expect(launched.code, launched.stderr).toBe(0);
      await waitFor(
        `set_app_id("droidway.${HELLO}") on the host`,
        () => (proto.includes(`set_app_id("droidway.${HELLO}")`) ? true : undefined),
        20_000,
      );
      // Two windows now: each demo client draws its own status bar.
      let bars = 0;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        bars = countColor(await weston!.screenshot(), STATUS_COLOR) / STATUS_PIXELS;
        if (bars === 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(bars).toBe(2);

      // A second launch resumes the app: no second window.
      const again = await droidway('app', 'launch', '--instance', INSTANCE, HELLO);
      expect(again.code, again.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 1000));
      const appIds = proto.split('\n').filter((l) => l.includes(`"droidway.${HELLO}"`));
      expect(appIds).toHaveLength(1);

      const log = await fs.readFile(
        await guestDataPathToHost(INSTANCE, '/data/droidway-fixture/calls.log'),
        'utf8',
      );
      expect(log).toMatch(new RegExp(`am start .*-n ${HELLO.replaceAll('.', '\\.')}/`));
    },
    180_000,
  );

  itNeeds('the demo client refuses an app_id that is not a package name', missing, () => {
    const client = path.join(repoRoot, 'native/guest/build/droidway-demo-client');
    for (const bad of ['', 'a b', 'x;rm', 'é', 'a'.repeat(256)]) {
      const r = spawnSync(client, ['--app-id', bad], { encoding: 'utf8', timeout: 5_000 });
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toContain('--app-id must be');
    }
  });

  itNeeds(
    'app settings opens the app page of Android settings',
    missing,
    async () => {
      const r = await droidway('app', 'settings', '--instance', INSTANCE, HELLO);
      expect(r.code, r.stderr).toBe(0);
      const log = await fs.readFile(
        await guestDataPathToHost(INSTANCE, '/data/droidway-fixture/calls.log'),
        'utf8',
      );
      expect(log).toContain(
        `am start -a android.settings.APPLICATION_DETAILS_SETTINGS -d package:${HELLO}`,
      );
    },
    60_000,
  );
});
