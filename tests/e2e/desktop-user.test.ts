/**
 * The app as a desktop user who is not root: the renderer in Chromium, the core services in a
 * process of that user's (what Electron main is), and the session started from the Session page
 * through the real privileged helper (pkexec, polkit granting the test account the action). The
 * session that runs is the user's own instance (its container name carries the uid), the page
 * shows it running, and Stop ends it. Then, as the same user, the rest of the README's first
 * session from the page: a dropped APK read (in the user's process, never root's) and installed
 * into the user's session, its tile in the grid, and Verify of the policy in force.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { defaultDataRoot, instancePaths } from '../../electron/core/runtime/instance-paths.js';
import { stopSession } from '../../electron/core/runtime/session-client.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { apkFixture, apkToolsMissing } from '../fixtures/apk/build-fixtures.js';
import { buildCli, repoRoot } from '../integration/helpers/cli.js';
import {
  ensureSystemBus,
  ensureUser,
  droidwayAs,
  grantHelper,
  helperMissing,
  openCheckoutToUsers,
  type TestUser,
} from '../integration/helpers/desktop-user.js';
import { chromiumPath, ensureRendererBuilt, startTestHost, type TestHost } from './test-host.js';
import { dropFiles } from './drop-files.js';
import { startUserCore, type UserCore } from './user-core.js';

const INSTANCE = `du-e2e-${process.pid % 100000}`;
const TOOLS = path.join(repoRoot, 'tests/fixtures/android-guest');

function missing(): string | null {
  if (!existsSync(chromiumPath)) return `needs Debian's Chromium at ${chromiumPath}`;
  return needRoot() ?? missingTool(['lxc-start']) ?? helperMissing() ?? apkToolsMissing();
}

describe('the app as a desktop user', () => {
  const reason = missing();
  let host: TestHost | undefined;
  let core: UserCore | undefined;
  let user: TestUser;
  let revoke: (() => Promise<void>) | null = null;
  let closeCheckout: (() => Promise<void>) | null = null;

  beforeAll(async () => {
    if (reason !== null) return;
    await ensureRendererBuilt();
    buildCli();
    user = ensureUser('droidway-it-a');
    ensureSystemBus();
    revoke = await grantHelper(user);
    closeCheckout = await openCheckoutToUsers();
    const settingsDir = path.join(user.home, '.config', 'droidway-e2e');
    await fs.mkdir(settingsDir, { recursive: true });
    await fs.writeFile(
      path.join(settingsDir, 'settings.json'),
      JSON.stringify({ instanceName: INSTANCE }),
    );
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, path.join(user.home, '.config')]);
    host = await startTestHost();
    core = await startUserCore(user, settingsDir, host.emit);
  }, 180_000);

  afterAll(async () => {
    core?.close();
    await host?.close();
    if (reason === null) {
      await stopSession({ instance: INSTANCE, owner: user.uid }, 10).catch(() => undefined);
      await revoke?.();
      await closeCheckout?.();
    }
  }, 60_000);

  itNeeds('starts and stops its own session from the Session page', reason, async () => {
    if (host === undefined || core === undefined) throw new Error('host did not start');
    expect(core.uid).toBe(user.uid);
    const { page, diagnostics } = await host.open({ dispatcher: core.dispatcher });
    await page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('button', { name: 'Session' })
      .click();
    await page.getByRole('heading', { name: `Instance ${INSTANCE}` }).waitFor();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const state = page.getByRole('status', { name: 'Session state' });
    await state.filter({ hasText: 'Running' }).waitFor({ timeout: 90_000 });
    // The container is the user's instance, started as root by the helper on the user's behalf.
    const paths = instancePaths(INSTANCE, { owner: user.uid });
    expect(
      execFileSync('lxc-info', ['-P', paths.lxcPath, '-n', paths.containerName, '-s'], {
        encoding: 'utf8',
      }),
    ).toMatch(/RUNNING/);
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await state.filter({ hasText: 'Stopped' }).waitFor({ timeout: 60_000 });

    // The instance picker lists the user's own instances: this one (found, not only current),
    // never one of root's.
    const rootOnly = path.join(defaultDataRoot(0), `du-root-${process.pid % 100000}`);
    await fs.mkdir(rootOnly, { recursive: true });
    try {
      await page
        .getByRole('navigation', { name: 'Pages' })
        .getByRole('button', { name: 'Settings' })
        .click();
      const options = await page
        .getByRole('combobox', { name: 'Instance the app acts on' })
        .locator('option')
        .allInnerTexts();
      expect(options).toContain(INSTANCE);
      expect(options).not.toContain(path.basename(rootOnly));
    } finally {
      await fs.rm(rootOnly, { recursive: true, force: true });
    }
    expect(diagnostics.pageErrors).toEqual([]);
  });

  itNeeds(
    'installs a dropped APK into its session and verifies the policy, all as the user',
    reason,
    async () => {
      if (host === undefined || core === undefined) throw new Error('host did not start');
      const started = await droidwayAs(user, [
        'session',
        'start',
        '--instance',
        INSTANCE,
        '--android-tools',
        TOOLS,
      ]);
      expect(started.stderr).toBe('');
      expect(started.code).toBe(0);
      try {
        // The APK is the user's own file, in the user's home.
        const apk = path.join(user.home, 'hello.apk');
        await fs.copyFile(await apkFixture('hello'), apk);
        await fs.chown(apk, user.uid, user.gid);
        const { page, diagnostics } = await host.open({ dispatcher: core.dispatcher });
        const nav = page.getByRole('navigation', { name: 'Pages' });
        await nav.getByRole('button', { name: 'Apps' }).click();
        await dropFiles(page, { 'hello.apk': apk });
        await page.waitForSelector('li[data-file="hello.apk"][data-stage="done"]', {
          timeout: 90_000,
        });
        await expect(page.locator('li[data-file="hello.apk"]').innerText()).resolves.toContain(
          'Installed org.example.hello 1.2.',
        );
        const tile = page.locator('.tile[data-package="org.example.hello"]');
        await tile.waitFor({ timeout: 30_000 });
        await expect
          .poll(() => tile.locator('.label').innerText(), { timeout: 30_000 })
          .toBe('Hello');

        await nav.getByRole('button', { name: 'Isolation' }).click();
        await page.getByText('The policy is valid.').waitFor();
        await page.getByRole('button', { name: 'Verify' }).click();
        await page.getByRole('table', { name: /^Verify:/ }).waitFor({ timeout: 240_000 });
        await expect(page.locator('tr[data-check="pids.limit"]').innerText()).resolves.toMatch(
          /pass$/,
        );
        expect(diagnostics.pageErrors).toEqual([]);
      } finally {
        await droidwayAs(user, ['session', 'stop', '--instance', INSTANCE]);
      }
    },
    420_000,
  );
});
