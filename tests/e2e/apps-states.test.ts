/**
 * The Apps and Shared memory pages when there is nothing to show: a stopped session (the real
 * runtime's status of an instance that does not run), a catalog that cannot be read, and a
 * dropped file that has no path on disk. Needs only Chromium.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { createCoreApi } from '../../electron/core/api.js';
import { inspectSessionShm } from '../../electron/core/session/shm-report.js';
import { catalogAppsService, type AppsService } from '../../electron/core/apps/apps-service.js';
import { InstallQueue } from '../../electron/core/install/install-queue.js';
import { itNeeds } from '../helpers/capability.js';
import { chromiumPath, expectCleanPage, repoRoot, useTestHost } from './test-host.js';

const missing = existsSync(chromiumPath) ? null : `needs Debian's Chromium at ${chromiumPath}`;
const STOPPED = `h7stopped-${process.pid % 100000}`;
const screenshotDir = path.join(repoRoot, 'tests', 'artifacts', 'screenshots');

describe('Apps and Shared memory pages without a running session', () => {
  const running = useTestHost(missing);

  const stoppedApi = () =>
    createCoreApi({
      apps: catalogAppsService({ instance: STOPPED }),
      install: new InstallQueue({
        exec: async () => {
          throw new Error('no guest command expected');
        },
        stagingRoot: '/nonexistent',
        install: async () => {
          throw new Error('no install expected');
        },
      }),
      inspectShm: () => inspectSessionShm({ instance: STOPPED }),
    });

  itNeeds('offers to start the session when it is stopped', missing, async () => {
    const view = await running().open({ api: stoppedApi() });
    const { page } = view;
    await page
      .getByRole('heading', { name: /^The Android session of instance \S+ is not running$/ })
      .waitFor();
    mkdirSync(screenshotDir, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: path.join(screenshotDir, `apps-stopped-${scheme}.png`) });
    }
    await page.getByRole('button', { name: 'Start session…' }).click();
    await page.getByRole('main', { name: 'Session' }).waitFor();
    // One refresh on the Session page: the checks and the session's status together.
    await expect(
      page
        .getByRole('main')
        .getByRole('button', { name: /refresh|re-run|checking/i })
        .count(),
    ).resolves.toBe(1);

    await page.getByRole('navigation').getByRole('button', { name: 'Shared memory' }).click();
    await page.getByRole('heading', { name: 'No session is running' }).waitFor();
    await expect(page.getByRole('main').innerText()).resolves.toContain(STOPPED);
    expectCleanPage(view.diagnostics);
  });

  itNeeds('shows the error with its code, and retries', missing, async () => {
    let calls = 0;
    const failing: AppsService = {
      ...catalogAppsService({ instance: STOPPED }),
      list: async () => {
        calls += 1;
        throw Object.assign(new Error('the guest package manager did not answer'), {
          code: 'GUEST_OUTPUT_INVALID',
        });
      },
    };
    const view = await running().open({ api: createCoreApi({ apps: failing }) });
    const { page } = view;
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.innerText()).resolves.toContain('The app list could not be read');
    // Plain words first; the raw text and its code only behind the Details disclosure.
    await expect(alert.innerText()).resolves.toContain(
      'Android answered with something Droidway does not understand.',
    );
    await expect(alert.innerText()).resolves.not.toContain('the guest package manager');
    await alert.getByText('Details').click();
    await expect(alert.innerText()).resolves.toContain('the guest package manager did not answer');
    await expect(alert.innerText()).resolves.toContain('GUEST_OUTPUT_INVALID');
    await alert.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => calls).toBe(2);
    expectCleanPage(view.diagnostics);
  });

  itNeeds('shows a running install with its progress bar and cancels it', missing, async () => {
    // The queue is real; the installer holds at 40 KiB of 100 KiB copied until it is cancelled.
    let aborted = false;
    const tracker = new InstallQueue({
      exec: async () => {
        throw new Error('no guest command expected');
      },
      stagingRoot: '/nonexistent',
      install: (file, options) =>
        new Promise((_resolve, reject) => {
          options.onProgress?.({
            id: options.id ?? '',
            file,
            stage: 'copying',
            bytes: 40 * 1024,
            totalBytes: 100 * 1024,
          });
          options.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(options.signal?.reason);
          });
        }),
    });
    const view = await running().open({
      services: { apps: catalogAppsService({ instance: STOPPED }), install: tracker },
    });
    const { page } = view;
    await page.evaluate(`window.__droidwayTestFilePaths = { 'slow.apk': '/tmp/slow.apk' }`);
    await page.evaluate(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['x'], 'slow.apk'));
      for (const type of ['dragenter', 'dragover', 'drop'])
        document.body.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    })()`);
    const item = page.locator('li[data-file="slow.apk"][data-stage="copying"]');
    await item.waitFor();
    const bar = item.getByRole('progressbar');
    await expect(bar.getAttribute('aria-label')).resolves.toBe(
      'slow.apk: Copying: 40 KiB of 100 KiB',
    );
    const progress = await bar.evaluate((el) => {
      const bar = el as unknown as { value: number; max: number };
      return [bar.value, bar.max];
    });
    expect(progress).toEqual([40960, 102400]);
    await item.getByRole('button', { name: 'Cancel slow.apk' }).click();
    await page.locator('li[data-file="slow.apk"][data-stage="cancelled"]').waitFor();
    expect(aborted).toBe(true);
    await expect(page.locator('li[data-file="slow.apk"]').innerText()).resolves.toContain(
      'Cancelled; nothing was installed.',
    );
    expectCleanPage(view.diagnostics);
  });

  itNeeds('refuses a dropped file that has no path on disk, with the reason', missing, async () => {
    const view = await running().open({ api: stoppedApi() });
    const { page } = view;
    await page.getByRole('navigation').getByRole('button', { name: 'Settings' }).click();
    // No path registered for this name: the stand-in of webUtils answers '' as Electron does.
    await page.evaluate(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['x'], 'from-browser.apk'));
      for (const type of ['dragenter', 'dragover', 'drop'])
        document.body.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    })()`);
    // A drop on any page brings the Apps page and its queue.
    await page.getByRole('main', { name: 'Apps' }).waitFor();
    const item = page.locator('li[data-file="from-browser.apk"]');
    await item.waitFor();
    await expect(item.getAttribute('data-stage')).resolves.toBe('refused');
    await expect(item.innerText()).resolves.toContain('This file is not on the disk');
    await page
      .getByRole('status')
      .filter({ hasText: '1 file added to the install queue.' })
      .waitFor();
    await page.getByRole('button', { name: 'Clear finished' }).click();
    await expect(item.count()).resolves.toBe(0);
    expectCleanPage(view.diagnostics);
  });
});
