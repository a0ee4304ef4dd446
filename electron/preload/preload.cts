/**
 * The preload of the main window: exposes `window.droidway`, the capability API of
 * `DroidwayApi`, and nothing else — the page never sees `ipcRenderer`. CommonJS and free of
 * relative imports because a sandboxed preload may only `require('electron')`; the contract's
 * types are imported type-only, so a channel name or signature that drifts fails `tsc`.
 */
// A sandboxed preload is CommonJS, and under verbatimModuleSyntax a .cts file imports this way.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');
import type {
  DROIDWAY_API_KEY,
  DroidwayApi,
  IpcArgs,
  IpcChannel,
  IpcValue,
} from '../shared/ipc-contract.js';
import type { Result } from '../shared/result.js';

const { contextBridge, ipcRenderer } = electron;

/** Invokes one contract channel; a failure of the IPC layer itself becomes an error result. */
function call<C extends IpcChannel>(channel: C, ...args: IpcArgs<C>): Promise<Result<IpcValue<C>>> {
  return ipcRenderer.invoke(channel, ...args).then(
    (result: unknown) => result as Result<IpcValue<C>>,
    (error: unknown) => ({
      ok: false as const,
      error: { code: 'IPC_FAILED', message: messageOf(error) },
    }),
  );
}

/** An error's message; duck-typed, since errors may come from another realm. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

const api = {
  app: { info: () => call('app:info') },
  doctor: { run: () => call('doctor:run') },
} satisfies DroidwayApi;

const key: typeof DROIDWAY_API_KEY = 'droidway';
contextBridge.exposeInMainWorld(key, api);
