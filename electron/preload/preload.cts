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
  IpcEvent,
  IpcEventPayload,
  IpcValue,
} from '../shared/ipc-contract.js';
import type { Result } from '../shared/result.js';
import type { SettingKey, Settings } from '../shared/settings.js';

const { contextBridge, ipcRenderer, webUtils } = electron;

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

// The preload cannot import the contract's values, so the event list is repeated; the type keeps
// it exhaustive (`Record<IpcEvent, true>`).
const EVENTS: Record<IpcEvent, true> = {
  'session:changed': true,
  'apps:changed': true,
  'install:progress': true,
  'settings:changed': true,
  notice: true,
};

/** Subscribes `listener` to one event's payloads; the page never sees the IPC event object. */
function on<E extends IpcEvent>(
  event: E,
  listener: (payload: IpcEventPayload<E>) => void,
): () => void {
  if (typeof event !== 'string' || !Object.hasOwn(EVENTS, event)) {
    throw new Error(`unknown event ${String(event).slice(0, 80)}`);
  }
  if (typeof listener !== 'function') throw new Error('listener must be a function');
  const wrapped = (_event: unknown, payload: unknown) => listener(payload as IpcEventPayload<E>);
  ipcRenderer.on(event, wrapped);
  return () => {
    ipcRenderer.removeListener(event, wrapped);
  };
}

const api = {
  app: { info: () => call('app:info') },
  doctor: { run: () => call('doctor:run') },
  apps: {
    list: () => call('apps:list'),
    launch: (packageName: string) => call('apps:launch', packageName),
    pin: (packageName: string) => call('apps:pin', packageName),
    unpin: (packageName: string) => call('apps:unpin', packageName),
    remove: (packageName: string) => call('apps:remove', packageName),
    info: (packageName: string) => call('apps:info', packageName),
  },
  install: {
    start: (paths: string[]) => call('install:start', paths),
    cancel: (id: string) => call('install:cancel', id),
    list: () => call('install:list'),
  },
  shm: { inspect: () => call('shm:inspect') },
  session: {
    status: () => call('session:status'),
    start: () => call('session:start'),
    stop: () => call('session:stop'),
    freeze: () => call('session:freeze'),
    unfreeze: () => call('session:unfreeze'),
  },
  settings: {
    get: () => call('settings:get'),
    choices: () => call('settings:choices'),
    set: <K extends SettingKey>(key: K, value: Settings[K]) => call('settings:set', key, value),
  },
  notices: { pending: () => call('notices:pending') },
  policy: {
    preset: (name: string) => call('policy:preset', name),
    current: () => call('policy:current'),
    validate: (policy: unknown) => call('policy:validate', policy),
    diff: (policy: unknown) => call('policy:diff', policy),
    apply: (policy: unknown) => call('policy:apply', policy),
    verify: () => call('policy:verify'),
  },
  on,
  files: {
    // The sandboxed page cannot see paths; only the preload may ask Electron for one.
    pathFor: (file: File) => {
      try {
        return webUtils.getPathForFile(file);
      } catch {
        return '';
      }
    },
  },
} satisfies DroidwayApi;

const key: typeof DROIDWAY_API_KEY = 'droidway';
contextBridge.exposeInMainWorld(key, api);
