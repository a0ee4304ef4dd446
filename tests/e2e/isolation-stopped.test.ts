/**
 * The Isolation page of an instance that has never run: Verify is disabled and the page says
 * why, and capability names stay whole (one line each). Needs only Chromium: the instance is
 * never started, its status is read from the real runtime.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { BRIDGE_INTEGER_LIMIT_KEYS } from '../../electron/core/policy/bridge-limits.js';
import { loadPreset } from '../../electron/core/policy/presets.js';
import { openSettings } from '../../electron/core/settings/settings-store.js';
import { itNeeds } from '../helpers/capability.js';
import { chromiumPath, ensureRendererBuilt, startTestHost, type TestHost } from './test-host.js';

const missing = existsSync(chromiumPath) ? null : `needs Debian's Chromium at ${chromiumPath}`;
const INSTANCE = `isostopped-${process.pid % 100000}`;

describe('Isolation page without a running session', () => {
  let host: TestHost | undefined;
  let settingsDir = '';

  beforeAll(async () => {
    if (missing !== null) return;
    await ensureRendererBuilt();
    settingsDir = mkdtempSync(join(tmpdir(), 'droidway-isostopped-'));
    openSettings({ cwd: settingsDir }).set('instanceName', INSTANCE);
    host = await startTestHost();
  }, 120_000);
  afterAll(async () => {
    await host?.close();
    if (settingsDir !== '') rmSync(settingsDir, { recursive: true, force: true });
  });

  itNeeds('disables Verify with the reason; capability names never wrap', missing, async () => {
    if (host === undefined) throw new Error('host did not start');
    const { page, diagnostics } = await host.open({
      services: { settings: openSettings({ cwd: settingsDir }) },
    });
    await page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('button', { name: 'Isolation' })
      .click();
    await page.getByText(`Instance ${INSTANCE}`).waitFor();
    await expect(page.getByRole('button', { name: 'Verify' }).isDisabled()).resolves.toBe(true);
    await page
      .getByText('Verify checks the running session: start it on the Session page first.')
      .waitFor();

    const lines = (await page.locator('td.cap').evaluateAll((cells) =>
      cells.map((cell) => {
        const range = (
          globalThis as unknown as {
            document: {
              createRange(): {
                selectNodeContents(n: unknown): void;
                getClientRects(): { top: number }[];
              };
            };
          }
        ).document.createRange();
        range.selectNodeContents(cell);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        return [cell.textContent, tops.size] as const;
      }),
    )) as [string, number][];
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.filter(([, n]) => n !== 1)).toEqual([]);
    expect(lines.map(([name]) => name)).toContain('dac_read_search');
    // The bridge limits the editor offers: every integer row of the core's table, in its order,
    // holding the value of the policy in force (the default preset, strict, for a new instance).
    const bridgeFields = (await page
      .locator('section[aria-labelledby="bridge-title"] label.field')
      .evaluateAll((labels) =>
        labels.map((label) => [
          label.querySelector('span')?.textContent,
          (label.querySelector('input') as unknown as { value: string } | null)?.value,
        ]),
      )) as [string, string][];
    const strict = loadPreset('strict').bridge.limits;
    expect(bridgeFields).toEqual(BRIDGE_INTEGER_LIMIT_KEYS.map((k) => [k, String(strict[k])]));
    expect(diagnostics.pageErrors).toEqual([]);
    expect(diagnostics.cspViolations).toEqual([]);
  });
});
