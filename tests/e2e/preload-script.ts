/**
 * The app's real preload (`electron/preload/preload.cts`) as something a plain browser page or a
 * `node:vm` context can run: transpiled to CommonJS, and wrapped with a stand-in for the two
 * Electron objects it uses. Used by the e2e test host and the preload's unit test.
 */
import { readFile } from 'node:fs/promises';
import ts from 'typescript';

const preloadUrl = new URL('../../electron/preload/preload.cts', import.meta.url);

/** The preload, transpiled to CommonJS exactly as `tsc` would emit it (types erased). */
export async function transpilePreload(): Promise<string> {
  const source = await readFile(preloadUrl, 'utf8');
  return ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: false,
    },
    fileName: 'preload.cts',
  }).outputText;
}

/**
 * A page init script that runs the preload in the page with:
 * - `contextBridge.exposeInMainWorld(key, api)` → a frozen, read-only `window[key]`, as
 *   Electron's bridge gives the page;
 * - `ipcRenderer.invoke(channel, ...args)` → `window[invokeBinding](channel, args)`, a function
 *   the host exposes (`page.exposeFunction`), which answers as main's IPC handler would;
 * - `ipcRenderer.on`/`removeListener` → listeners the host calls through
 *   `window.__droidwayEmitEvent(event, payload)` (`page.evaluate`), as main's `webContents.send`;
 * - `webUtils.getPathForFile(file)` → the path a test registered for the file's name in
 *   `window.__droidwayTestFilePaths` (a page made the `File`, so it has no path of its own);
 *   `''` for any other file, as Electron answers for a file that did not come from the disk;
 * - `require` of anything but `'electron'` throws, as in a sandboxed preload.
 */
export async function preloadInitScript(invokeBinding: string): Promise<string> {
  const preload = await transpilePreload();
  return `(() => {
  const freeze = (value) => {
    if (typeof value === 'object' && value !== null) {
      for (const inner of Object.values(value)) freeze(inner);
      Object.freeze(value);
    }
    return value;
  };
  const invoke = window[${JSON.stringify(invokeBinding)}];
  const listeners = new Map();
  Object.defineProperty(window, '__droidwayEmitEvent', {
    value: (event, payload) => {
      for (const listener of [...(listeners.get(event) ?? [])]) listener({}, payload);
    },
  });
  const electron = Object.freeze({
    contextBridge: {
      exposeInMainWorld(key, api) {
        Object.defineProperty(window, key, { value: freeze(api), enumerable: true });
      },
    },
    ipcRenderer: {
      invoke(channel, ...args) {
        return invoke(channel, args);
      },
      on(channel, listener) {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel).add(listener);
      },
      removeListener(channel, listener) {
        listeners.get(channel)?.delete(listener);
      },
    },
    webUtils: {
      getPathForFile(file) {
        const paths = window.__droidwayTestFilePaths ?? {};
        return Object.hasOwn(paths, file.name) ? String(paths[file.name]) : '';
      },
    },
  });
  const require = (name) => {
    if (name === 'electron') return electron;
    throw new Error('a sandboxed preload cannot require ' + name);
  };
  const module = { exports: {} };
  (function (require, module, exports) {
${preload}
  })(require, module, module.exports);
})();
`;
}
