/**
 * The policy editor end to end, on a real demo-guest session (root, LXC): edit the policy
 * (lower the pids limit, drop a capability) → validation and diff → apply → restart → Verify
 * shows the new values passing; an invalid value shows its field error and cannot be applied.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { instancePaths } from '../../electron/core/runtime/instance-paths.js';
import { sessionStatus, stopSession } from '../../electron/core/runtime/session-client.js';
import { openSettings } from '../../electron/core/settings/settings-store.js';
import { itNeeds, needRoot } from '../helpers/capability.js';
import {
  chromiumPath,
  ensureRendererBuilt,
  repoRoot,
  startTestHost,
  type TestHost,
} from './test-host.js';

const INSTANCE = 'h6-e2e-iso';
const screenshotDir = join(repoRoot, 'tests', 'artifacts', 'screenshots');

function missing(): string | null {
  if (!existsSync(chromiumPath)) return `needs Debian's Chromium at ${chromiumPath}`;
  const root = needRoot();
  if (root !== null) return root;
  try {
    execFileSync('which', ['lxc-start'], { stdio: 'ignore' });
  } catch {
    return 'lxc-start is not installed (Debian: lxc)';
  }
  if (!existsSync(join(repoRoot, 'native', 'probe', 'build', 'droidway-probe'))) {
    return 'needs the isolation probe (make -C native/probe)';
  }
  return null;
}

async function stopIfRunning(): Promise<void> {
  const status = await sessionStatus({ instance: INSTANCE });
  if (status.state.name !== 'stopped') await stopSession({ instance: INSTANCE });
}

describe('Isolation page: edit, apply, restart, verify', () => {
  const reason = missing();
  let host: TestHost | undefined;
  let settingsDir = '';

  beforeAll(async () => {
    if (reason !== null) return;
    await ensureRendererBuilt();
    mkdirSync(screenshotDir, { recursive: true });
    await stopIfRunning();
    // A clean instance: no policy applied yet, so the demo's default preset (strict) is in force.
    rmSync(instancePaths(INSTANCE).dataDir, { recursive: true, force: true });
    settingsDir = mkdtempSync(join(tmpdir(), 'droidway-h6-iso-'));
    openSettings({ cwd: settingsDir }).set('instanceName', INSTANCE);
    host = await startTestHost();
  }, 120_000);

  afterAll(async () => {
    await host?.close();
    if (reason === null) await stopIfRunning().catch(() => undefined);
    if (settingsDir !== '') rmSync(settingsDir, { recursive: true, force: true });
  }, 60_000);

  itNeeds(
    'lower pids and drop a capability: valid, diffed, applied, restarted, verified',
    reason,
    async () => {
      if (host === undefined) throw new Error('host did not start');
      const { page, diagnostics } = await host.open({
        services: { settings: openSettings({ cwd: settingsDir }) },
      });
      const nav = page.getByRole('navigation', { name: 'Pages' });

      // Start the session from the Session page.
      await nav.getByRole('button', { name: 'Session' }).click();
      await page.getByRole('heading', { name: `Instance ${INSTANCE}` }).waitFor();
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await page
        .getByRole('status', { name: 'Session state' })
        .filter({ hasText: 'Running' })
        .waitFor({ timeout: 90_000 });
      await expect(page.getByText('strict', { exact: true }).count()).resolves.toBeGreaterThan(0);
      // Resource use comes from the container's cgroup: a memory figure and a task count.
      await expect(page.locator('.facts').innerText()).resolves.toMatch(
        /Memory\s+[\d.]+ (KiB|MiB)\s+Tasks\s+\d+/,
      );
      await page.screenshot({ path: join(screenshotDir, 'session-running-light.png') });
      const state = page.getByRole('status', { name: 'Session state' });
      await page.getByRole('button', { name: 'Freeze' }).click();
      await state.filter({ hasText: 'Frozen' }).waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Unfreeze' }).click();
      await state.filter({ hasText: 'Running' }).waitFor({ timeout: 30_000 });

      await nav.getByRole('button', { name: 'Isolation' }).click();
      await page.getByText('The policy is valid.').waitFor();

      // An invalid value: the field error shows and Apply stays disabled.
      const pids = page.getByRole('textbox', { name: 'Tasks (pids)' });
      await pids.fill('1');
      await page
        .getByText(/must be >= 16|at least/)
        .first()
        .waitFor();
      await expect(pids.getAttribute('aria-invalid')).resolves.toBe('true');
      await expect(page.getByRole('button', { name: 'Apply' }).isDisabled()).resolves.toBe(true);

      // Valid edits: lower pids, drop sys_chroot.
      await pids.fill('200');
      await page.getByRole('checkbox', { name: 'Keep sys_chroot' }).uncheck();
      await page.getByText('The policy is valid.').waitFor();
      const diff = page.getByRole('table', { name: /Changes from the policy in force/ });
      await diff.getByRole('cell', { name: '/limits/pidsMax' }).waitFor();
      await diff.getByRole('cell', { name: '/capabilities' }).waitFor();
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByText(/restart it to apply/).waitFor();
      await page.screenshot({ path: join(screenshotDir, 'isolation-applied-light.png') });

      await page.getByRole('button', { name: 'Restart session' }).click();
      await page.getByText(/Session restarted with policy/).waitFor({ timeout: 120_000 });

      await page.getByRole('button', { name: 'Verify' }).click();
      const table = page.getByRole('table', { name: /^Verify:/ });
      await table.waitFor({ timeout: 240_000 });
      const pidsRow = page.locator('tr[data-check="pids.limit"]');
      await expect(pidsRow.innerText()).resolves.toMatch(/200[\s\S]*pass/);
      const capsRow = page.locator('tr[data-check="caps.bounding"]');
      const capsText = await capsRow.innerText();
      expect(capsText).toMatch(/pass$/);
      expect(capsText.split('\t')[1]).not.toContain('sys_chroot');
      await page.screenshot({
        path: join(screenshotDir, 'isolation-verify-light.png'),
        fullPage: true,
      });
      expect(diagnostics.pageErrors).toEqual([]);
      expect(diagnostics.cspViolations).toEqual([]);
    },
    600_000,
  );
});
