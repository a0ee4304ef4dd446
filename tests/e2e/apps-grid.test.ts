/**
 * The Apps grid with 1,000 apps: how fast it shows, how many DOM nodes and tab stops it costs,
 * and that the keyboard alone reaches every app (one tab stop into the grid, arrow keys inside).
 * The catalog answers 1,000 generated apps through the real core API, contract validation and
 * preload; launching records the package. Needs only Chromium.
 */
import { existsSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { catalogAppsService, type AppsService } from '../../electron/core/apps/apps-service.js';
import { InstallQueue } from '../../electron/core/install/install-queue.js';
import type { AppSummary } from '../../electron/shared/apps.js';
import { itNeeds } from '../helpers/capability.js';
import { chromiumPath, expectCleanPage, useTestHost } from './test-host.js';

const missing = existsSync(chromiumPath) ? null : `needs Debian's Chromium at ${chromiumPath}`;
const fontMissing =
  missing ??
  (existsSync('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc')
    ? null
    : 'needs a CJK font (Debian: fonts-wqy-microhei)');
const INSTANCE = `appsgrid-${process.pid % 100000}`;
const COUNT = 1000;

/** App `i`: every 7th has no launcher activity; every 10th has a CJK label. */
function app(i: number): AppSummary {
  const n = String(i).padStart(4, '0');
  return {
    packageName: `org.example.app${n}`,
    label: i % 10 === 3 ? `日本語アプリ ${n}` : `App ${n}`,
    versionName: '1.0',
    versionCode: 1,
    iconDataUrl: null,
    launchable: i % 7 !== 5,
    pinned: false,
  };
}

/** What the page costs: element count, and elements a Tab press can reach. */
const COST = `(() => {
  const reachable = (el) =>
    el.tabIndex >= 0 && !el.disabled && el.getClientRects().length > 0 &&
    el.matches('a[href], button, input, select, textarea, [tabindex]');
  const all = [...document.querySelectorAll('*')];
  const grid = document.getElementById('app-grid');
  const inGrid = grid ? [...grid.querySelectorAll('*')] : [];
  return {
    nodes: all.length,
    gridNodes: inGrid.length,
    tabStops: all.filter(reachable).length,
    gridTabStops: inGrid.filter(reachable).length,
  };
})()`;

interface Cost {
  nodes: number;
  gridNodes: number;
  tabStops: number;
  gridTabStops: number;
}

describe('Apps grid with 1,000 apps', () => {
  const running = useTestHost(missing);
  const launched: string[] = [];
  const apps: AppsService = {
    ...catalogAppsService({ instance: INSTANCE }),
    list: async () => ({
      session: 'running',
      apps: Array.from({ length: COUNT }, (_, i) => app(i)),
    }),
    launch: async (pkg) => {
      launched.push(pkg);
    },
  };

  itNeeds('shows 1,000 apps with few nodes and tab stops', missing, async () => {
    const { page, diagnostics } = await running().open({ services: { apps } });
    const nav = page.getByRole('navigation', { name: 'Pages' });
    await page.getByText(`${COUNT} apps`, { exact: true }).waitFor();
    await nav.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('main', { name: 'Settings' }).waitFor();

    const t0 = Date.now();
    await nav.getByRole('button', { name: 'Apps' }).click();
    await page.locator('.tile[data-package="org.example.app0000"]').waitFor();
    const showMs = Date.now() - t0;
    const cost = (await page.evaluate(COST)) as Cost;

    const search = page.getByRole('searchbox', { name: 'Search apps' });
    const t1 = Date.now();
    await search.press('9');
    await page.getByText(/ of 1000 apps$/).waitFor();
    // The round trip through Playwright (key press, then polling for the count): not what the
    // keystroke costs the page; `npm run bench -- grid` measures that.
    const filterRoundTripMs = Date.now() - t1;
    await search.fill('');
    await page.getByText(`${COUNT} apps`, { exact: true }).waitFor();
    console.log(`apps-grid: ${JSON.stringify({ showMs, filterRoundTripMs, ...cost })}`);
    // Before virtualisation: 6,083 nodes (6,000 in the grid) and 1,860 tab stops (1,857 in it).
    expect(cost.gridTabStops).toBe(1);
    expect(cost.gridNodes).toBeLessThan(600);
    expect(cost.nodes).toBeLessThan(800);
    expect(cost.tabStops).toBeLessThan(20);
    // The list still tells assistive technology how many apps there are.
    await expect(page.locator('#app-grid li').first().getAttribute('aria-setsize')).resolves.toBe(
      String(COUNT),
    );
    expectCleanPage(diagnostics);
  });

  itNeeds('walks the grid with the keyboard and launches the last app', missing, async () => {
    launched.length = 0;
    const { page, diagnostics } = await running().open({ services: { apps } });
    const search = page.getByRole('searchbox', { name: 'Search apps' });
    await page.getByText(`${COUNT} apps`, { exact: true }).waitFor();
    await search.focus();
    await page.keyboard.press('Tab');
    const focused = (): Promise<string | null> =>
      page.evaluate('document.activeElement.closest(".tile")?.dataset.package ?? null') as Promise<
        string | null
      >;
    await expect.poll(focused).toBe('org.example.app0000');
    await page.keyboard.press('ArrowRight');
    await expect.poll(focused).toBe('org.example.app0001');
    const cols = (await page.evaluate(
      "getComputedStyle(document.getElementById('app-grid')).gridTemplateColumns.split(' ').length",
    )) as number;
    await page.keyboard.press('ArrowDown');
    await expect.poll(focused).toBe(`org.example.app${String(1 + cols).padStart(4, '0')}`);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowUp');
    await expect.poll(focused).toBe('org.example.app0000');
    // End reaches an app far outside the first render; the grid scrolls it in.
    await page.keyboard.press('End');
    await expect.poll(focused).toBe('org.example.app0999');
    // App 999 cannot be launched (no launcher): Enter does nothing there.
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(focused).toBe('org.example.app0998');
    await page.keyboard.press('Enter');
    await expect.poll(() => launched).toEqual(['org.example.app0998']);
    // Success is visible on the page, not only announced.
    const outcome = page.locator('[data-outcome="ok"]');
    await expect(outcome.innerText()).resolves.toContain('Launched App 0998.');
    // Tab from the grid leaves it, and Tab comes back into it: one tab stop (the current app,
    // or the first one in view when the page scrolled away from it).
    await page.keyboard.press('Shift+Tab');
    await expect.poll(focused).toBe(null);
    await page.keyboard.press('Tab');
    await expect.poll(focused).toMatch(/^org\.example\.app\d{4}$/);
    // I opens the details of the current app.
    await page.keyboard.press('Home');
    await expect.poll(focused).toBe('org.example.app0000');
    await page.keyboard.press('i');
    await page.locator('section[data-package="org.example.app0000"]').waitFor();
    expectCleanPage(diagnostics);
  });

  itNeeds(
    'says why an app cannot be launched, on its tile and in its details',
    missing,
    async () => {
      launched.length = 0;
      const { page, diagnostics } = await running().open({ services: { apps } });
      const tile = page.locator('.tile[data-package="org.example.app0005"]');
      await expect(tile.innerText()).resolves.toContain('Cannot be opened: no launcher screen');
      await tile.locator('.launch').click({ force: true });
      await tile.locator('.details').click();
      const panel = page.locator('section[data-package="org.example.app0005"]');
      await expect(panel.innerText()).resolves.toContain('This app cannot be opened');
      await expect(panel.getByRole('button', { name: 'Launch' }).isDisabled()).resolves.toBe(true);
      expect(launched).toEqual([]);
      expectCleanPage(diagnostics);
    },
  );

  itNeeds('installs with the keyboard: Install APK… opens a file picker', missing, async () => {
    const started: string[] = [];
    // The queue is real; its installer holds at 1 KiB of 4 KiB copied until it is cancelled.
    const tracker = new InstallQueue({
      exec: async () => {
        throw new Error('no guest command expected');
      },
      stagingRoot: '/nonexistent',
      install: (file, options) =>
        new Promise((_resolve, reject) => {
          started.push(file);
          options.onProgress?.({
            id: options.id ?? '',
            file,
            stage: 'copying',
            bytes: 1024,
            totalBytes: 4096,
          });
          options.signal?.addEventListener('abort', () => reject(options.signal?.reason));
        }),
    });
    const { page, diagnostics } = await running().open({ services: { apps, install: tracker } });
    await page.evaluate(`window.__droidwayTestFilePaths = { 'picked.apk': '/tmp/picked.apk' }`);
    // Listen first: Playwright intercepts the chooser only once it has told the browser to.
    const chosen = page.waitForEvent('filechooser');
    await page.getByText(`${COUNT} apps`, { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Install APK…' }).focus();
    await page.keyboard.press('Enter');
    const chooser = await chosen;
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles({
      name: 'picked.apk',
      mimeType: 'application/vnd.android.package-archive',
      buffer: Buffer.from('x'),
    });
    const item = page.locator('li[data-file="picked.apk"][data-stage="copying"]');
    await item.waitFor();
    expect(started).toEqual(['/tmp/picked.apk']);
    await item.getByRole('button', { name: 'Cancel picked.apk' }).click();
    await page.locator('li[data-file="picked.apk"][data-stage="cancelled"]').waitFor();
    expectCleanPage(diagnostics);
  });

  itNeeds('draws CJK labels with a CJK font, not boxes', fontMissing, async () => {
    const { page, diagnostics } = await running().open({ services: { apps } });
    const label = page.locator('.tile[data-package="org.example.app0003"] .label');
    await expect(label.innerText()).resolves.toBe('日本語アプリ 0003');
    // The fonts Chromium really used for the label's glyphs (DevTools protocol).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', {
      nodeId: root.nodeId,
      selector: '.tile[data-package="org.example.app0003"] .label',
    });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    const cjk = fonts.filter((f) => /WenQuanYi|CJK|Droid Sans Fallback/.test(f.familyName));
    // 日本語アプリ: six glyphs, all from a CJK face.
    expect(cjk.reduce((n, f) => n + f.glyphCount, 0)).toBe(6);
    expectCleanPage(diagnostics);
  });
});
