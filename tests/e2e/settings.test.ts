/**
 * The Settings page on the real settings store (conf over a temporary folder): values survive a
 * restart of the host, an invalid value is refused with its reason, a corrupt file gives the
 * defaults plus a notice and is kept aside. Also the screenshots of the pages this area owns, in
 * light and dark, and keyboard navigation with a visible focus.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';
import { openSettings } from '../../electron/core/settings/settings-store.js';
import { itNeeds } from '../helpers/capability.js';
import { chromiumPath, ensureRendererBuilt, repoRoot, startTestHost } from './test-host.js';

const chromiumMissing = existsSync(chromiumPath)
  ? null
  : `needs Debian's Chromium at ${chromiumPath} (apt-get install chromium)`;
const screenshotDir = join(repoRoot, 'tests', 'artifacts', 'screenshots');

describe('Settings page on the real settings store', () => {
  let dir = '';
  beforeAll(async () => {
    if (chromiumMissing !== null) return;
    await ensureRendererBuilt();
    mkdirSync(screenshotDir, { recursive: true });
  }, 120_000);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'droidway-h6-settings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  itNeeds(
    'changes survive a restart of the host; an invalid value is refused',
    chromiumMissing,
    async () => {
      let host = await startTestHost();
      try {
        const { page } = await host.open({ services: { settings: openSettings({ cwd: dir }) } });
        await page
          .getByRole('navigation', { name: 'Pages' })
          .getByRole('button', { name: 'Settings' })
          .click();
        await page.getByRole('combobox', { name: 'Theme' }).selectOption('dark');
        await page.getByText('Saved theme.').waitFor();
        const scale = page.getByRole('spinbutton', { name: 'Scale', exact: true });
        await scale.fill('1.5');
        await scale.press('Tab');
        await page.getByText('Saved display scale.').waitFor();
        await page.getByRole('button', { name: 'New instance…' }).click();
        const instance = page.getByRole('textbox', { name: 'Name of the new instance' });
        await instance.fill('Not Valid!');
        await page
          .getByRole('alert')
          .filter({ hasText: 'instance name "Not Valid!" is invalid' })
          .waitFor();
        await instance.press('Enter');
        await expect(
          page.getByRole('button', { name: 'Use this instance' }).isDisabled(),
        ).resolves.toBe(true);
      } finally {
        await host.close();
      }
      host = await startTestHost();
      try {
        const { page } = await host.open({ services: { settings: openSettings({ cwd: dir }) } });
        await page
          .getByRole('navigation', { name: 'Pages' })
          .getByRole('button', { name: 'Settings' })
          .click();
        await expect(page.getByRole('combobox', { name: 'Theme' }).inputValue()).resolves.toBe(
          'dark',
        );
        await expect(
          page.getByRole('spinbutton', { name: 'Scale', exact: true }).inputValue(),
        ).resolves.toBe('1.5');
        await expect(
          page.getByRole('combobox', { name: 'Instance the app acts on' }).inputValue(),
        ).resolves.toBe('default');
      } finally {
        await host.close();
      }
    },
    120_000,
  );

  itNeeds(
    'a corrupt settings file: defaults, a notice, the bad file kept',
    chromiumMissing,
    async () => {
      writeFileSync(join(dir, 'settings.json'), '{"theme": "dark", oops');
      const host = await startTestHost();
      try {
        const { page } = await host.open({ services: { settings: openSettings({ cwd: dir }) } });
        const notice = page.getByRole('alert').filter({ hasText: 'Settings were reset' });
        await notice.waitFor();
        await expect(notice.innerText()).resolves.toMatch(/settings\.json\.corrupt-\d+/);
        const kept = readdirSync(dir).filter((f) => f.startsWith('settings.json.corrupt-'));
        expect(kept).toHaveLength(1);
        await page
          .getByRole('navigation', { name: 'Pages' })
          .getByRole('button', { name: 'Settings' })
          .click();
        await expect(page.getByRole('combobox', { name: 'Theme' }).inputValue()).resolves.toBe(
          'system',
        );
        await page.screenshot({ path: join(screenshotDir, 'settings-recovered-light.png') });
        await page.getByRole('button', { name: 'Dismiss: Settings were reset' }).click();
        await expect(notice.count()).resolves.toBe(0);
      } finally {
        await host.close();
      }
    },
    120_000,
  );

  itNeeds(
    'screenshots of Session, Isolation and Settings in light and dark; keyboard focus is visible',
    chromiumMissing,
    async () => {
      openSettings({ cwd: dir }).set('instanceName', 'h6-e2e-shots');
      const host = await startTestHost();
      try {
        for (const colorScheme of ['light', 'dark'] as const) {
          const { page, diagnostics } = await host.open({
            colorScheme,
            services: { settings: openSettings({ cwd: dir }) },
          });
          const nav = page.getByRole('navigation', { name: 'Pages' });
          await nav.getByRole('button', { name: 'Session' }).click();
          await page.getByRole('heading', { name: 'Instance h6-e2e-shots' }).waitFor();
          await page.getByRole('button', { name: 'Start', exact: true }).waitFor();
          await page.screenshot({ path: join(screenshotDir, `session-${colorScheme}.png`) });
          await nav.getByRole('button', { name: 'Isolation' }).click();
          await page.getByText('The policy is valid.').waitFor();
          await page.screenshot({ path: join(screenshotDir, `isolation-${colorScheme}.png`) });
          await nav.getByRole('button', { name: 'Settings' }).click();
          await page.getByRole('combobox', { name: 'Theme' }).waitFor();
          // Keyboard: Tab reaches the form controls, and the focused one draws an outline.
          await page.getByRole('combobox', { name: 'Image a session boots' }).focus();
          await page.keyboard.press('Tab');
          const outline = {
            label: await page.evaluate('document.activeElement.getAttribute("placeholder")'),
            style: await page.evaluate('getComputedStyle(document.activeElement).outlineStyle'),
          };
          expect(outline.label).toMatch(/https/);
          expect(outline.style).toBe('solid');
          await page.screenshot({ path: join(screenshotDir, `settings-${colorScheme}.png`) });
          expect(diagnostics.pageErrors).toEqual([]);
          expect(diagnostics.cspViolations).toEqual([]);
          const styled = await page.evaluate(
            // Chromium leaves an empty style attribute on form controls; only real inline styles count.
            '[...document.querySelectorAll("[style]")].map((e) => e.getAttribute("style").trim()).filter(Boolean)',
          );
          expect(styled).toEqual([]);
        }
      } finally {
        await host.close();
      }
    },
    120_000,
  );

  itNeeds(
    'the image picker offers the images the core finds; choosing one saves it',
    chromiumMissing,
    async () => {
      // A store with one image (what droidway image download leaves) and one half-copied.
      const store = join(dir, 'images');
      mkdirSync(join(store, 'lineage-20-x86_64'), { recursive: true });
      writeFileSync(join(store, 'lineage-20-x86_64', 'system.img'), 'system');
      writeFileSync(join(store, 'lineage-20-x86_64', 'vendor.img'), 'vendor');
      mkdirSync(join(store, 'half'), { recursive: true });
      writeFileSync(join(store, 'half', 'system.img'), 'system');
      // An instance of this test's own that never runs: the Session page shows its picker.
      openSettings({ cwd: dir }).set('instanceName', `settings-pick-${process.pid % 100000}`);
      const host = await startTestHost();
      try {
        const { page, diagnostics } = await host.open({
          services: {
            settings: openSettings({ cwd: dir }),
            imageDiscovery: { storeRoot: store, waydroidDirs: [] },
          },
        });
        await page
          .getByRole('navigation', { name: 'Pages' })
          .getByRole('button', { name: 'Settings' })
          .click();
        const picker = page.getByRole('combobox', { name: 'Image a session boots' });
        await expect
          .poll(() =>
            picker.locator('option').evaluateAll((o) => o.map((e) => e.getAttribute('value'))),
          )
          .toEqual(['demo', 'lineage-20-x86_64']);
        await picker.selectOption('lineage-20-x86_64');
        await page.getByText('Saved image.').waitFor();
        expect(openSettings({ cwd: dir }).get().image).toBe('lineage-20-x86_64');

        // The Session page offers the same images for the next start, showing the chosen one.
        await page
          .getByRole('navigation', { name: 'Pages' })
          .getByRole('button', { name: 'Session' })
          .click();
        const sessionPicker = page.getByRole('combobox', { name: 'Image' });
        await expect.poll(() => sessionPicker.inputValue()).toBe('lineage-20-x86_64');
        await sessionPicker.selectOption('demo');
        await expect.poll(() => openSettings({ cwd: dir }).get().image).toBe('demo');

        // The Isolation page's preset picker lists the core's presets.
        await page
          .getByRole('navigation', { name: 'Pages' })
          .getByRole('button', { name: 'Isolation' })
          .click();
        const presets = page.getByRole('combobox', { name: 'Load a preset' });
        await expect
          .poll(() => presets.locator('option:not([disabled])').allInnerTexts())
          .toEqual(['android', 'strict', 'privileged']);
        expect(diagnostics.pageErrors).toEqual([]);
      } finally {
        await host.close();
      }
    },
  );
});
