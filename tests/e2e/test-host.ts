/**
 * The e2e test host: the built renderer (`renderer/dist`) in Debian's Chromium, driven by
 * playwright-core, with the real core services behind `window.droidway`.
 *
 * In the app, the preload exposes `window.droidway` and main answers over IPC. Here there is no
 * Electron, so the host runs the real preload source in the page with a stand-in for the two
 * Electron objects it uses (`contextBridge`, `ipcRenderer`), and `ipcRenderer.invoke` reaches
 * `dispatch(createCoreApi(), …)` in this process through `page.exposeFunction`. The renderer,
 * the preload, the contract validation and the core services are the app's own code; only
 * Electron's transport and its sender check are not exercised.
 */
import { spawnSync } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  createCoreApi,
  dispatch,
  type CoreApi,
  type CoreServices,
} from '../../electron/core/api.js';
import type { IpcEventSink } from '../../electron/shared/ipc-contract.js';
import { preloadInitScript } from './preload-script.js';

/** Repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Where `npm run build:renderer` writes the renderer. */
export const rendererDist = join(repoRoot, 'renderer', 'dist');
/** Debian's Chromium, the browser the e2e tests drive. */
export const chromiumPath = '/usr/bin/chromium';
/** The size of the app's main window (`electron/main/window.ts`). */
export const windowSize = { width: 1120, height: 740 };

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * The renderer's content security policy. `renderer/index.html` carries all of it in a meta
 * element except `frame-ancestors`, which only works as a header; the host sends it all as one.
 */
export const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'";

const INVOKE_BINDING = '__droidwayInvoke';
const CSP_BINDING = '__droidwayCspViolation';
const CSP_LISTENER = `document.addEventListener('securitypolicyviolation', (event) => {
  window.${CSP_BINDING}(event.violatedDirective + ' ' + event.blockedURI);
});`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** What went wrong in a page, collected from the moment it opened. */
export interface PageDiagnostics {
  /** `console.error` messages and browser-logged errors (failed loads, CSP refusals). */
  consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections. */
  pageErrors: string[];
  /** `securitypolicyviolation` events: `directive blocked-uri`. */
  cspViolations: string[];
}

/** A page of the app under test. */
export interface HostPage {
  page: Page;
  diagnostics: PageDiagnostics;
}

/** A running host: one http server and one browser, any number of pages. */
export interface TestHost {
  /** `http://127.0.0.1:<port>/`, serving `renderer/dist`. */
  readonly url: string;
  /**
   * Opens the app in a new page, in `colorScheme`, with `api` (default:
   * `createCoreApi({ emit: host.emit, ...services })`, the real services) behind
   * `window.droidway`, and waits until the shell has rendered.
   */
  open(options?: {
    api?: CoreApi;
    services?: Partial<CoreServices>;
    colorScheme?: 'light' | 'dark';
    /**
     * Answers the page's calls instead of `dispatch(api, …)` in this process: e.g. the core
     * services in another process, run as a desktop user (`user-core.ts`).
     */
    dispatcher?: (channel: unknown, args: unknown) => Promise<unknown>;
  }): Promise<HostPage>;
  /** Sends a main → renderer event to every open page, as main's `webContents.send` does. */
  readonly emit: IpcEventSink;
  /** Closes the browser and the server. */
  close(): Promise<void>;
}

/**
 * Starts the http server on a random port of 127.0.0.1 and launches Chromium headless.
 * Needs `renderer/dist` built and `/usr/bin/chromium` present.
 */
export async function startTestHost(distDir: string = rendererDist): Promise<TestHost> {
  const preloadScript = await preloadInitScript(INVOKE_BINDING);
  const server = await serveDirectory(distDir);
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  const emit: IpcEventSink = (event, payload) => {
    for (const page of pages) {
      if (page.isClosed()) continue;
      page
        .evaluate(
          ([name, data]) =>
            (
              globalThis as unknown as {
                __droidwayEmitEvent: (e: string, p: unknown) => void;
              }
            ).__droidwayEmitEvent(name, data),
          [event, payload] as const,
        )
        .catch(() => undefined);
    }
  };

  return {
    url,
    emit,
    async open(options = {}) {
      const dispatcher =
        options.dispatcher ??
        (
          (api: CoreApi) => (channel: unknown, args: unknown) =>
            dispatch(api, channel, args)
        )(options.api ?? createCoreApi({ emit, ...options.services }));
      const context = await browser.newContext({
        viewport: windowSize,
        colorScheme: options.colorScheme ?? 'light',
        reducedMotion: 'reduce',
      });
      contexts.push(context);
      const page = await context.newPage();
      pages.push(page);
      const diagnostics: PageDiagnostics = { consoleErrors: [], pageErrors: [], cspViolations: [] };
      page.on('console', (message) => {
        if (message.type() === 'error') diagnostics.consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => diagnostics.pageErrors.push(String(error)));
      await page.exposeFunction(CSP_BINDING, (text: string) => {
        diagnostics.cspViolations.push(text);
      });
      await page.exposeFunction(INVOKE_BINDING, dispatcher);
      await page.addInitScript({ content: CSP_LISTENER });
      await page.addInitScript({ content: preloadScript });
      await page.goto(url);
      await page.getByRole('navigation', { name: 'Pages' }).waitFor();
      return { page, diagnostics };
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      await closeServer(server);
    },
  };
}

/** Serves `root` read-only; anything outside it, or not a file, is a 404. */
function serveDirectory(root: string): Promise<Server> {
  const base = resolve(root);
  const server = createServer((request, response) => {
    void (async () => {
      try {
        const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://host').pathname);
        const file = normalize(join(base, pathname === '/' ? 'index.html' : pathname));
        const type = CONTENT_TYPES[extname(file)];
        if (request.method !== 'GET' || !file.startsWith(base + sep) || type === undefined) {
          throw new Error('not served');
        }
        if (!(await stat(file)).isFile()) throw new Error('not a file');
        const body = await readFile(file);
        response
          .writeHead(200, {
            'content-type': type,
            'cache-control': 'no-store',
            ...(type.startsWith('text/html') ? { 'content-security-policy': APP_CSP } : {}),
          })
          .end(body);
      } catch {
        response.writeHead(404).end();
      }
    })();
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePromise(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolvePromise) => server.close(() => resolvePromise()));
}

/** Inputs of the renderer build: when any is newer than `renderer/dist/index.html`, rebuild. */
const RENDERER_INPUTS = [
  'renderer/src',
  'renderer/index.html',
  'renderer/vite.config.ts',
  'electron/shared',
  'resources/icons',
];

/**
 * Builds the renderer (`vite build --config renderer/vite.config.ts`) when `renderer/dist` is
 * missing or older than its sources, so the tests never run against a stale build.
 */
export async function ensureRendererBuilt(): Promise<void> {
  const built = await stat(join(rendererDist, 'index.html')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  let newest = 0;
  for (const input of RENDERER_INPUTS)
    newest = Math.max(newest, await newestMtime(join(repoRoot, input)));
  if (built >= newest) return;
  const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(
    process.execPath,
    [vite, 'build', '--config', 'renderer/vite.config.ts'],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `renderer build failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

async function newestMtime(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path))
    newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

/** Fails unless the page met no CSP violation, console error or uncaught error. */
export function expectCleanPage(diagnostics: PageDiagnostics): void {
  expect(diagnostics.cspViolations).toEqual([]);
  expect(diagnostics.consoleErrors).toEqual([]);
  expect(diagnostics.pageErrors).toEqual([]);
}

/**
 * Starts a test host (the renderer built first) before the enclosing suite's tests and closes
 * it after them; nothing starts when `missing` names a reason. Returns a getter of the running
 * host, which throws when it did not start.
 */
export function useTestHost(missing: string | null): () => TestHost {
  let host: TestHost | undefined;
  beforeAll(async () => {
    if (missing !== null) return;
    await ensureRendererBuilt();
    host = await startTestHost();
  });
  afterAll(async () => {
    await host?.close();
  });
  return () => {
    if (host === undefined) throw new Error('test host did not start');
    return host;
  };
}
