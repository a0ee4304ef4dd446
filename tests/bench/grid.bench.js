// The Apps grid with thousands of apps, in Debian's Chromium through the e2e test host (the
// built renderer, the real preload and core API; the catalog answers generated apps): what one
// keystroke in the search field costs the page's main thread. A keystroke is measured in the
// page, from setting the field's value and dispatching its `input` event to the end of the
// forced style and layout that the next frame would do (the app's script, Svelte's update and
// the browser's rendering work; painting and rasterising are not counted). The queries are typed
// and erased one character at a time, so every keystroke changes the result. No baseline: the
// goal is absolute (≤ 16 ms, one frame). Needs Chromium and the built renderer.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './whole-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'tests', 'artifacts', 'bench', 'grid');
const chromium = '/usr/bin/chromium';

/**
 * Typed one character at a time, then erased the same way: most keystrokes change which apps
 * match (digits narrow the list tenfold; `qz` matches none), a few match all (`app`).
 */
const QUERIES = ['1234', 'app 042', '日本語 01', 'example.app0099', 'qz'];

/** App `i` of `count`: every 7th without a launcher, every 10th with a CJK label. */
function app(i) {
  const n = String(i).padStart(5, '0');
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

/** In the page: types `query` into the search field and erases it; the ms of each keystroke. */
const TYPE_AND_ERASE = async (query) => {
  /* global document */
  const input = document.querySelector('input[type="search"]');
  const grid = () => document.getElementById('app-grid') ?? document.querySelector('.no-match');
  const steps = [];
  for (let i = 1; i <= query.length; i++) steps.push(query.slice(0, i));
  for (let i = query.length - 1; i >= 0; i--) steps.push(query.slice(0, i));
  const costs = [];
  for (const value of steps) {
    await new Promise((resolve) => setTimeout(resolve, 30));
    const t0 = performance.now();
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    // Svelte applies the change in a microtask; its effects may queue more.
    for (let k = 0; k < 4; k++) await Promise.resolve();
    grid()?.getBoundingClientRect();
    void document.body.offsetHeight;
    costs.push(performance.now() - t0);
  }
  return costs;
};

export default {
  name: 'grid',
  unavailable() {
    if (!existsSync(chromium)) return `needs Debian's Chromium at ${chromium}`;
    if (!existsSync(join(root, 'renderer', 'dist', 'index.html')))
      return 'the renderer is not built (npm run build:renderer)';
    return null;
  },
  async run({ quick }) {
    const { startTestHost, createCoreApi, dispatch } = await import(compileHost());
    const rows = [];
    const host = await startTestHost(join(root, 'renderer', 'dist'));
    try {
      for (const count of quick ? [1000] : [1000, 5000]) {
        const apps = Array.from({ length: count }, (_, i) => app(i));
        const api = createCoreApi({
          emit: host.emit,
          apps: {
            list: async () => ({ session: 'running', apps }),
            launch: async () => undefined,
            pin: async () => undefined,
            unpin: async () => undefined,
            remove: async () => undefined,
            info: async () => {
              throw new Error('not in this benchmark');
            },
          },
        });
        const { page } = await host.open({ dispatcher: (c, a) => dispatch(api, c, a) });
        await page.getByText(`${count} apps`, { exact: true }).waitFor();
        const costs = [];
        for (let round = 0; round < (quick ? 1 : 3); round++)
          for (const query of QUERIES) costs.push(...(await page.evaluate(TYPE_AND_ERASE, query)));
        await page.close();
        costs.sort((a, b) => a - b);
        const p90 = costs[Math.min(costs.length - 1, Math.floor(costs.length * 0.9))];
        rows.push({
          metric: `search keystroke, ${count.toLocaleString('en')} apps (median)`,
          compared: 'absolute',
          value: median(costs),
          unit: 'ms',
          goal: '≤ 16 ms',
          detail: `${costs.length} keystrokes; p90 ${p90.toFixed(1)} ms, max ${costs[costs.length - 1].toFixed(1)} ms`,
        });
      }
    } finally {
      await host.close();
    }
    return rows;
  },
};

/** Compiles the e2e test host (and the core it imports) into tests/artifacts. */
function compileHost() {
  const out = join(artifacts, 'ts');
  mkdirSync(out, { recursive: true });
  const entry = join(out, 'grid-host.ts');
  writeFileSync(
    entry,
    `export { startTestHost } from '../../../../e2e/test-host.js';\n` +
      `export { createCoreApi, dispatch } from '../../../../../electron/core/api.js';\n`,
  );
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      ...['--outDir', out, '--rootDir', root, '--module', 'nodenext'],
      ...['--moduleResolution', 'nodenext', '--target', 'es2023', '--types', 'node'],
      ...['--skipLibCheck', '--strict', '--isolatedModules', '--verbatimModuleSyntax'],
      entry,
    ],
    { cwd: root, stdio: 'pipe' },
  );
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  // The host reads the preload's source next to where it runs.
  mkdirSync(join(out, 'electron', 'preload'), { recursive: true });
  copyFileSync(
    join(root, 'electron', 'preload', 'preload.cts'),
    join(out, 'electron', 'preload', 'preload.cts'),
  );
  if (!existsSync(join(out, 'node_modules')))
    symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
  return pathToFileURL(join(out, 'tests/artifacts/bench/grid/ts/grid-host.js')).href;
}
