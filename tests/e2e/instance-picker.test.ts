/**
 * The instance picker (Settings): it lists the caller's instances as the core finds them (a data
 * root of this test's own, with two instance folders and some that are not instances), says so
 * when there is none, checks a new name by the CLI's rule as it is typed, and what it picks is
 * what the Apps page then acts on: its listing and its launches go to the picked instance, and
 * the real guest apps service reports that instance's own (stopped) session. Needs only Chromium:
 * no instance runs.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { catalogAppsService, type AppsService } from '../../electron/core/apps/apps-service.js';
import { openSettings } from '../../electron/core/settings/settings-store.js';
import type { AppSummary } from '../../electron/shared/apps.js';
import { itNeeds } from '../helpers/capability.js';
import { chromiumPath, expectCleanPage, useTestHost } from './test-host.js';

const missing = existsSync(chromiumPath) ? null : `needs Debian's Chromium at ${chromiumPath}`;
const WORK = 'nc3-work';
const GAMES = 'nc3-games';

function app(packageName: string, label: string): AppSummary {
  return {
    packageName,
    label,
    versionName: '1.0',
    versionCode: 1,
    iconDataUrl: null,
    launchable: true,
    pinned: false,
  };
}

/** What each instance's guest holds, as its catalog would list it. */
const GUEST_APPS: Record<string, AppSummary[]> = {
  [WORK]: [app('org.example.mail', 'Mail'), app('org.example.notes', 'Notes')],
  [GAMES]: [app('org.example.chess', 'Chess')],
};

describe('instance picker', () => {
  let dir = '';
  const running = useTestHost(missing);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'droidway-nc3-instances-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A data root holding `names` as instance folders, plus entries that are not instances. */
  function dataRoot(names: readonly string[]): string {
    const root = join(dir, 'instances');
    mkdirSync(root);
    for (const name of names) mkdirSync(join(root, name));
    mkdirSync(join(root, 'Not-An-Instance'));
    writeFileSync(join(root, 'stray-file'), '');
    return root;
  }

  itNeeds('picks another instance, and the Apps page then acts on it', missing, async () => {
    const settings = openSettings({ cwd: join(dir, 'settings') });
    settings.set('instanceName', WORK);
    const launched: string[] = [];
    // The catalog of whichever instance the core says is current, asked at each call.
    const appsOf = (current: () => string): AppsService => ({
      ...catalogAppsService({ currentInstance: current }),
      list: async () => ({ session: 'running', apps: GUEST_APPS[current()] ?? [] }),
      launch: async (pkg: string) => {
        launched.push(`${current()}/${pkg}`);
      },
    });
    const { page, diagnostics } = await running().open({
      services: {
        settings,
        appsOf,
        locations: { dataRoot: dataRoot([WORK, GAMES]), runtimeRoot: join(dir, 'run') },
      },
    });
    const nav = page.getByRole('navigation', { name: 'Pages' });
    const grid = page.getByRole('list', { name: 'Installed apps' });

    await page.locator(`p.instance[data-instance="${WORK}"]`).waitFor();
    await grid.getByRole('button', { name: 'Launch Mail' }).waitFor();

    await page.getByRole('button', { name: 'Change…' }).click();
    const picker = page.getByRole('combobox', { name: 'Instance the app acts on' });
    await expect(picker.inputValue()).resolves.toBe(WORK);
    // The core's instances only: not the folder with capitals, not the file.
    // The list fills once the core has answered: poll until it has (a read before showed only
    // the current instance).
    await expect.poll(() => picker.locator('option').allInnerTexts()).toEqual([GAMES, WORK]);
    await expect(page.locator('[data-empty="instances"]').count()).resolves.toBe(0);
    await picker.selectOption(GAMES);
    await page.getByText(`Droidway now acts on instance ${GAMES}.`).waitFor();
    expect(settings.get().instanceName).toBe(GAMES);

    await nav.getByRole('button', { name: 'Apps' }).click();
    await page.locator(`p.instance[data-instance="${GAMES}"]`).waitFor();
    await grid.getByRole('button', { name: 'Launch Chess' }).click();
    await expect.poll(() => launched).toEqual([`${GAMES}/org.example.chess`]);
    await expect(grid.getByRole('button', { name: 'Launch Mail' }).count()).resolves.toBe(0);
    expectCleanPage(diagnostics);
  });

  itNeeds(
    'no instance yet: says so; a new name is checked by the CLI rule, then acted on',
    missing,
    async () => {
      const settings = openSettings({ cwd: join(dir, 'settings') });
      const fresh = `nc3-new-${process.pid % 100000}`;
      const { page, diagnostics } = await running().open({
        services: {
          settings,
          // The real service: it asks the runtime about the current instance's own session.
          appsOf: (current) => catalogAppsService({ currentInstance: current, ...roots() }),
          locations: roots(),
        },
      });
      function roots(): { dataRoot: string; runtimeRoot: string } {
        return { dataRoot: join(dir, 'none'), runtimeRoot: join(dir, 'run') };
      }
      const nav = page.getByRole('navigation', { name: 'Pages' });
      await nav.getByRole('button', { name: 'Settings' }).click();
      const empty = page.locator('[data-empty="instances"]');
      await expect(empty.innerText()).resolves.toContain('No instance on this computer yet');
      const picker = page.getByRole('combobox', { name: 'Instance the app acts on' });
      await expect
        .poll(() => picker.locator('option').allInnerTexts())
        .toEqual(['default (made at its first start)']);

      await page.getByRole('button', { name: 'New instance…' }).click();
      const name = page.getByRole('textbox', { name: 'Name of the new instance' });
      await expect.poll(() => page.evaluate('document.activeElement?.tagName')).toBe('INPUT');
      const use = page.getByRole('button', { name: 'Use this instance' });
      await expect(use.isDisabled()).resolves.toBe(true);
      for (const bad of ['Work', '-work', 'work_1', 'w'.repeat(33)]) {
        await name.fill(bad);
        await page
          .getByRole('alert')
          .filter({ hasText: `is invalid: use 1-32 characters of a-z, 0-9 and '-'` })
          .waitFor();
        await expect(use.isDisabled()).resolves.toBe(true);
      }
      await name.fill(fresh);
      await expect(use.isDisabled()).resolves.toBe(false);
      await name.press('Enter');
      await page.getByText(`Droidway now acts on instance ${fresh}.`).waitFor();
      expect(settings.get().instanceName).toBe(fresh);
      await expect(picker.inputValue()).resolves.toBe(fresh);

      await nav.getByRole('button', { name: 'Apps' }).click();
      await page
        .getByRole('heading', { name: `The Android session of instance ${fresh} is not running` })
        .waitFor();
      expectCleanPage(diagnostics);
    },
  );
});
