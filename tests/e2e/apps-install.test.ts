/**
 * The Apps page, drag-and-drop install and the Shared memory page against the real stack: a demo
 * guest session started with the fixture Android tools (`--android-tools`), APKs built by aapt
 * and signed by apksigner (the ApkReader fixtures), the install pipeline streaming them into the
 * guest through lxc-attach, the guest's package manager listing and launching them, and the
 * shared-memory inspector reading `/proc/<pid>/maps` of the container's processes.
 *
 * The page is the built renderer in Chromium; a drop is a real `drop` event with a
 * `DataTransfer` of `File`s made in the page. Electron would give their paths through
 * `webUtils.getPathForFile`; the test host's stand-in answers with the paths this test
 * registers per file name.
 */
import { existsSync, mkdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { guestDataPathToHost } from '../../electron/core/android/guest-data.js';
import { readApkInfo } from '../../electron/core/apk/apk-reader.js';
import { decodePng, MAX_PNG_PIXELS } from '../../electron/core/apk/png.js';
import { AppsStateStore } from '../../electron/core/apps/apps-state.js';
import { inspectSessionShm } from '../../electron/core/session/shm-report.js';
import { sessionPaths } from '../../electron/core/runtime/session-client.js';
import { findRunningGuest, lxcGuestExecutor } from '../../electron/core/android/guest-exec.js';
import { catalogAppsService } from '../../electron/core/apps/apps-service.js';
import { stagingRootFor } from '../../electron/core/install/install-pipeline.js';
import { InstallQueue } from '../../electron/core/install/install-queue.js';
import type { InstallItem } from '../../electron/shared/apps.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { apkFixture, apkToolsMissing, cleanupApkFixtures } from '../fixtures/apk/build-fixtures.js';
import { buildCli } from '../integration/helpers/cli.js';
import { fixtureInstanceName, useFixtureSession } from '../integration/helpers/fixture-session.js';
import { startHeadlessWeston, type HeadlessWeston } from '../integration/helpers/weston.js';
import {
  chromiumPath,
  ensureRendererBuilt,
  expectCleanPage,
  type HostPage,
  repoRoot,
  startTestHost,
  type TestHost,
} from './test-host.js';
import { dropFiles } from './drop-files.js';

const INSTANCE = fixtureInstanceName('h7e2e');
const screenshotDir = path.join(repoRoot, 'tests', 'artifacts', 'screenshots');

function needs(): string | null {
  if (!existsSync(chromiumPath)) return `needs Debian's Chromium at ${chromiumPath}`;
  const root = needRoot();
  if (root !== null) return root;
  const tool = missingTool(['lxc-start', 'lxc-attach', 'weston', 'openssl', 'unzip']);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node')))
    return 'the native addon is not built (npm run build:native)';
  return apkToolsMissing();
}

const missing = needs();

/** Polls the async `probe` every 100 ms until it is true; throws naming `what` after `timeoutMs`. */
async function until(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function callsLog(): Promise<string> {
  const host = await guestDataPathToHost(INSTANCE, '/data/droidway-fixture/calls.log');
  return fs.readFile(host, 'utf8').catch(() => '');
}

describe('Apps, drag-and-drop install and Shared memory against a demo guest (root, LXC)', () => {
  let host: TestHost | undefined;
  let work: string;
  let tracker: InstallQueue;
  let store: AppsStateStore;
  let weston: HeadlessWeston | undefined;
  const events: InstallItem[] = [];
  const files: Record<string, string> = {};
  let view: HostPage | undefined;

  const page = (): HostPage['page'] => {
    if (view === undefined) throw new Error('the page did not open');
    return view.page;
  };

  beforeAll(async () => {
    if (missing !== null) return;
    await ensureRendererBuilt();
    buildCli();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'h7e2e-'));
    // Keyed by file name, which is what the page's File and main's queue item both carry.
    for (const fixture of ['hello', 'adaptive-fallback']) {
      const file = await apkFixture(fixture);
      files[path.basename(file)] = file;
    }
    files['notes.txt'] = path.join(work, 'notes.txt');
    await fs.writeFile(files['notes.txt'], 'not an app\n');
    // The session's display bridge shows the guest's windows here; the demo guest's init starts
    // its demo client once the bridge's socket is up.
    weston = await startHeadlessWeston('h7e2e-weston-');
  }, 300_000);
  // Runs after the session's own afterAll (hooks after the tests run in reverse order).
  afterAll(async () => {
    if (missing !== null) return;
    weston?.stop();
    await fs.rm(work, { recursive: true, force: true });
    cleanupApkFixtures();
  });

  useFixtureSession(missing, () => ({
    instance: INSTANCE,
    androidTools: true,
    hostDisplay: weston!.socket,
  }));

  beforeAll(async () => {
    if (missing !== null) return;
    store = new AppsStateStore(path.join(work, 'config'));
    tracker = new InstallQueue({
      target: async () => ({
        exec: lxcGuestExecutor(await findRunningGuest({ instance: INSTANCE })),
        stagingRoot: stagingRootFor(sessionPaths(INSTANCE)),
      }),
    });
    tracker.on('item', (item) => events.push(item));
    host = await startTestHost();
    view = await host.open({
      // The host's event sink is wired in: install progress reaches the page as main's events.
      services: {
        apps: catalogAppsService({ instance: INSTANCE, store }),
        install: tracker,
        inspectShm: () => inspectSessionShm({ instance: INSTANCE }),
      },
    });
  }, 300_000);

  afterAll(async () => {
    if (missing !== null) return;
    await host?.close();
  }, 120_000);

  itNeeds(
    'shows the empty state, then installs two dropped APKs with progress and refuses a text file',
    missing,
    async () => {
      const p = page();
      await p.getByRole('heading', { name: 'No apps yet — drop an APK here' }).waitFor();
      // Record every stage the queue shows, as the page renders it.
      await p.evaluate(`(() => {
        window.__stagesSeen = [];
        new MutationObserver(() => {
          for (const li of document.querySelectorAll('li[data-stage]'))
            window.__stagesSeen.push(li.dataset.file + ':' + li.dataset.stage + ':' + (li.querySelector('progress') ? 'bar' : ''));
        }).observe(document.body, { subtree: true, childList: true, attributes: true });
      })()`);

      const overlay = await dropFiles(p, files);
      expect(overlay).toBe(true);

      const refused = p.locator('li[data-file="notes.txt"]');
      await refused.waitFor();
      await expect(refused.getAttribute('data-stage')).resolves.toBe('refused');
      await expect(refused.innerText()).resolves.toContain(
        'Not an Android app: only .apk, .apks, .xapk files can be installed.',
      );

      for (const name of ['hello.apk', 'adaptive-fallback.apk']) {
        const item = p.locator(`li[data-file="${name}"]`);
        await p.waitForSelector(`li[data-file="${name}"][data-stage="done"]`, { timeout: 90_000 });
        await expect(item.innerText()).resolves.toMatch(/Installed org\.example\.\w+ /);
      }
      await expect(p.locator('li[data-file="hello.apk"]').innerText()).resolves.toContain(
        'Installed org.example.hello 1.2.',
      );

      // The pipeline reported every stage with bytes, and the page showed a progress bar.
      const helloStages = events.filter((e) => e.fileName === 'hello.apk');
      expect([...new Set(helloStages.map((e) => e.stage))]).toEqual([
        'queued',
        'copying',
        'checking',
        'installing',
        'done',
      ]);
      const size = (await fs.stat(files['hello.apk']!)).size;
      expect(helloStages.some((e) => e.stage === 'copying' && e.totalBytes === size)).toBe(true);
      const seen = (await p.evaluate('window.__stagesSeen')) as string[];
      expect(seen.some((s) => /:(copying|checking|installing|queued):bar$/.test(s))).toBe(true);
      expect(events.find((e) => e.fileName === 'notes.txt')?.stage).toBe('refused');

      // The grid lists both with their labels and PNG icons.
      const grid = p.getByRole('list', { name: 'Installed apps' });
      await grid.waitFor({ timeout: 30_000 });
      // Each finished install refreshes the list: wait for the second.
      await expect.poll(() => grid.getByRole('listitem').count(), { timeout: 30_000 }).toBe(2);
      const hello = p.locator('.tile[data-package="org.example.hello"]');
      await expect(hello.locator('.label').innerText()).resolves.toBe('Hello');
      await expect(hello.locator('img').getAttribute('src')).resolves.toMatch(
        /^data:image\/png;base64,/,
      );
      const loaded = await p.evaluate(
        `[...document.querySelectorAll('.tile img')].map((img) => img.complete && img.naturalWidth > 0)`,
      );
      expect(loaded).toEqual([true, true]);
      expectCleanPage(view!.diagnostics);
    },
    180_000,
  );

  itNeeds('search filters as you type', missing, async () => {
    const p = page();
    const search = p.getByRole('searchbox', { name: 'Search apps' });
    const tiles = (): Promise<string[]> =>
      p
        .locator('#app-grid .tile')
        .evaluateAll((els) =>
          els.map((el) => (el as unknown as { dataset: { package: string } }).dataset.package),
        );
    await search.pressSequentially('hel');
    await p.getByText('1 of 2 apps').waitFor();
    expect(await tiles()).toEqual(['org.example.hello']);
    await search.fill('EXAMPLE.ADAPT');
    await p.getByText('1 of 2 apps').waitFor();
    expect(await tiles()).toEqual(['org.example.adaptive']);
    await search.fill('nothing-like-this');
    await p.getByText('No app matches').waitFor();
    await search.fill('');
    await p.getByText('2 apps', { exact: true }).waitFor();
    expect(await tiles()).toHaveLength(2);

    // From the search box, Tab enters the grid at its one tab stop, with a visible focus ring;
    // the arrow keys move between the tiles.
    await search.focus();
    await p.keyboard.press('Tab');
    const first = await tiles();
    const label = async (): Promise<string | null> =>
      p.locator(':focus').getAttribute('aria-label');
    const entered = await label();
    expect(entered).toMatch(/^Launch /);
    expect(await p.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await p.keyboard.press('ArrowRight');
    await expect.poll(label).not.toBe(entered);
    expect(await label()).toMatch(/^Launch /);
    expect(first).toHaveLength(2);
  });

  itNeeds(
    'launches an app: the guest receives am start for its launcher activity',
    missing,
    async () => {
      const p = page();
      await p.getByRole('button', { name: 'Launch Hello' }).click();
      await until('am start in the fixture log', async () =>
        (await callsLog()).includes('am start -n org.example.hello/org.example.hello.Main'),
      );
      await p.getByRole('status').filter({ hasText: 'Launched Hello.' }).waitFor();
      expect((await store.read()).recents.map((r) => r.packageName)).toEqual(['org.example.hello']);
    },
  );

  itNeeds(
    'shows app info: version, permissions and signer digest, and pins it',
    missing,
    async () => {
      const p = page();
      const expected = await readApkInfo(files['hello.apk']!);
      await p.getByRole('button', { name: 'Details of Hello' }).click();
      const panel = p.getByRole('region', { name: 'Hello' });
      await panel.getByText('android.permission.CAMERA').waitFor();
      const text = await panel.innerText();
      expect(text).toContain('1.2 (7)');
      expect(text).toContain('API 21 and up, made for API 30');
      expect(expected.signatures.signerCertSha256.length).toBeGreaterThan(0);
      for (const digest of expected.signatures.signerCertSha256) expect(text).toContain(digest);
      expect(text).toContain('android.permission.INTERNET');

      await panel.getByRole('button', { name: 'Pin to tray' }).click();
      await panel.getByRole('button', { name: 'Unpin from tray' }).waitFor();
      await p.locator('.tile[data-package="org.example.hello"] .pin').waitFor();
      // Pinned in the store the tray reads.
      expect((await store.read()).pinned).toEqual(['org.example.hello']);
      await panel.getByRole('button', { name: 'Unpin from tray' }).click();
      await panel.getByRole('button', { name: 'Pin to tray' }).waitFor();
      expect((await store.read()).pinned).toEqual([]);
    },
  );

  itNeeds('the Apps page renders in light and dark (screenshots)', missing, async () => {
    mkdirSync(screenshotDir, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      // emulateMedia on the open page leaves this Chromium in the light theme (the "dark"
      // pictures were light): each theme gets a page opened in it, on the same services.
      const p =
        scheme === 'light'
          ? page()
          : (
              await host!.open({
                colorScheme: scheme,
                services: {
                  apps: catalogAppsService({ instance: INSTANCE, store }),
                  install: tracker,
                  inspectShm: () => inspectSessionShm({ instance: INSTANCE }),
                },
              })
            ).page;
      await p.locator('#app-grid .tile').nth(1).waitFor({ timeout: 30_000 });
      await p.evaluate('document.activeElement?.blur()');
      // The theme applies, both installed apps are on the grid, and the picture is that page.
      await expect(p.evaluate('getComputedStyle(document.body).backgroundColor')).resolves.toBe(
        scheme === 'light' ? 'rgb(245, 246, 248)' : 'rgb(23, 25, 29)',
      );
      await expect(p.locator('#app-grid .tile').count()).resolves.toBe(2);
      const shot = await p.screenshot({
        path: path.join(screenshotDir, `apps-grid-${scheme}.png`),
      });
      const image = decodePng(shot, MAX_PNG_PIXELS);
      const viewport = p.viewportSize();
      if (viewport !== null) {
        expect(image.width).toBe(viewport.width);
        expect(image.height).toBe(viewport.height);
      }
      // Not a blank frame: the tiles and labels make more than a handful of distinct colours.
      const colours = new Set<number>();
      for (let i = 0; i < image.rgba.length; i += 4)
        colours.add((image.rgba[i]! << 16) | (image.rgba[i + 1]! << 8) | image.rgba[i + 2]!);
      expect(colours.size).toBeGreaterThan(8);
    }
  });

  itNeeds('uninstalls after confirmation; Cancel keeps the app', missing, async () => {
    const p = page();
    await p.locator('.tile[data-package="org.example.adaptive"] .details').click();
    const panel = p.locator('section[data-package="org.example.adaptive"]');
    await panel.getByRole('button', { name: 'Uninstall…' }).click();
    const dialog = p.getByRole('dialog');
    await dialog.waitFor();
    // The safe choice has the focus; Escape cancels.
    await expect(p.locator(':focus').innerText()).resolves.toBe('Cancel');
    await p.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect(p.locator('#app-grid .tile').count()).resolves.toBe(2);

    await panel.getByRole('button', { name: 'Uninstall…' }).click();
    await dialog.getByRole('button', { name: 'Uninstall' }).click();
    await p
      .locator('.tile[data-package="org.example.adaptive"]')
      .waitFor({ state: 'detached', timeout: 30_000 });
    await expect(p.locator('#app-grid .tile').count()).resolves.toBe(1);
    expect(await callsLog()).toContain('uninstall org.example.adaptive');
  });

  itNeeds(
    "lists the demo client's memfd regions and the session's processes",
    missing,
    async () => {
      await until(
        'demo client memfd in the container',
        async () => {
          const report = await inspectSessionShm({ instance: INSTANCE });
          return report.processes.some((pr) =>
            pr.regions.some((r) => r.kind === 'memfd' && r.name.startsWith('droidway-demo:')),
          );
        },
        30_000,
      );
      const p = page();
      await p.getByRole('navigation').getByRole('button', { name: 'Shared memory' }).click();
      await p.getByRole('main', { name: 'Shared memory' }).waitFor();
      await p.getByRole('button', { name: 'Refresh' }).click();
      const table = p.locator('table.process[data-comm^="droidway-demo"]');
      await table.first().waitFor({ timeout: 10_000 });
      const rows = table.first().locator('tr[data-kind="memfd"]');
      expect(await rows.count()).toBeGreaterThan(0);
      const names = await rows.evaluateAll((trs) =>
        trs.map((tr) => (tr as unknown as { dataset: { region: string } }).dataset.region),
      );
      expect(names.some((n) => n.startsWith('droidway-demo:'))).toBe(true);
      await expect(table.first().innerText()).resolves.toMatch(/rw-s|r--s/);
      // The bridge's counters for the demo client: buffers forwarded, nothing copied.
      const client = p.locator('tr[data-client]').first();
      await client.waitFor();
      const cells = await client.locator('td').allInnerTexts();
      expect(cells[2]).toBe('connected');
      expect(Number.parseInt(cells[3]!, 10)).toBeGreaterThan(0);
      expect(cells[4]).toBe('0');
      expect(cells[5]?.trim()).toBe('0');
      const totalProcesses = Number(await p.locator('[data-total="processes"]').innerText());
      expect(totalProcesses).toBeGreaterThanOrEqual(2);
      mkdirSync(screenshotDir, { recursive: true });
      for (const scheme of ['light', 'dark'] as const) {
        await p.emulateMedia({ colorScheme: scheme });
        await p.evaluate('document.activeElement?.blur()');
        await p.screenshot({ path: path.join(screenshotDir, `shared-memory-live-${scheme}.png`) });
      }
      expectCleanPage(view!.diagnostics);
    },
    90_000,
  );
});
