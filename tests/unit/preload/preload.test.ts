import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { IPC_CHANNELS } from '../../../electron/shared/ipc-contract.js';
import { transpilePreload } from '../../e2e/preload-script.js';

interface Loaded {
  exposed: Map<string, unknown>;
  /** Listeners the preload registered with `ipcRenderer.on`, by channel. */
  listeners: Map<string, Set<(event: unknown, payload: unknown) => void>>;
  invoked: Array<{ channel: string; args: unknown[] }>;
  required: string[];
}

/**
 * Runs the real preload in a fresh context with a recording stand-in for `electron`;
 * `answer` decides what `ipcRenderer.invoke` resolves or rejects with.
 */
async function loadPreload(answer: (channel: string) => Promise<unknown>): Promise<Loaded> {
  const loaded: Loaded = { exposed: new Map(), listeners: new Map(), invoked: [], required: [] };
  const electron = {
    contextBridge: {
      exposeInMainWorld: (key: string, api: unknown) => loaded.exposed.set(key, api),
    },
    ipcRenderer: {
      invoke: (channel: string, ...args: unknown[]) => {
        loaded.invoked.push({ channel, args });
        return answer(channel);
      },
      on: (channel: string, listener: (event: unknown, payload: unknown) => void) => {
        if (!loaded.listeners.has(channel)) loaded.listeners.set(channel, new Set());
        loaded.listeners.get(channel)?.add(listener);
      },
      removeListener: (channel: string, listener: (event: unknown, payload: unknown) => void) => {
        loaded.listeners.get(channel)?.delete(listener);
      },
    },
  };
  const require = (name: string): unknown => {
    loaded.required.push(name);
    if (name !== 'electron') throw new Error(`sandboxed preloads cannot require ${name}`);
    return electron;
  };
  const module = { exports: {} };
  runInNewContext(await transpilePreload(), { require, module, exports: module.exports });
  return loaded;
}

interface ExposedApi {
  app: { info(): Promise<unknown> };
  doctor: { run(): Promise<unknown> };
  settings: { set(key: string, value: unknown): Promise<unknown> };
  policy: { validate(doc: unknown): Promise<unknown> };
  on(event: string, listener: (payload: unknown) => void): () => void;
}

describe('preload', () => {
  it('requires only electron and exposes one API, window.droidway', async () => {
    const loaded = await loadPreload(async () => ({ ok: true, value: null }));
    expect(loaded.required).toEqual(['electron']);
    expect([...loaded.exposed.keys()]).toEqual(['droidway']);
  });

  it('maps each capability to its contract channel, with no extra arguments', async () => {
    const loaded = await loadPreload(async (channel) => ({ ok: true, value: channel }));
    const api = loaded.exposed.get('droidway') as ExposedApi;
    expect(Object.keys(api).sort()).toEqual([
      'app',
      'apps',
      'doctor',
      'files',
      'install',
      'notices',
      'on',
      'policy',
      'session',
      'settings',
      'shm',
    ]);
    expect(await api.app.info()).toEqual({ ok: true, value: 'app:info' });
    expect(await api.doctor.run()).toEqual({ ok: true, value: 'doctor:run' });
    expect(await api.settings.set('theme', 'dark')).toEqual({ ok: true, value: 'settings:set' });
    expect(await api.policy.validate({ a: 1 })).toEqual({ ok: true, value: 'policy:validate' });
    expect(loaded.invoked).toEqual([
      { channel: 'app:info', args: [] },
      { channel: 'doctor:run', args: [] },
      { channel: 'settings:set', args: ['theme', 'dark'] },
      { channel: 'policy:validate', args: [{ a: 1 }] },
    ]);
    for (const { channel } of loaded.invoked) expect(IPC_CHANNELS).toContain(channel);
  });

  it('has the method DroidwayApi derives for every channel: namespace:verb is namespace.verb', async () => {
    const loaded = await loadPreload(async (channel) => ({ ok: true, value: channel }));
    const api = loaded.exposed.get('droidway') as unknown as Record<
      string,
      Record<string, () => Promise<unknown>>
    >;
    for (const channel of IPC_CHANNELS) {
      const [namespace, verb] = channel.split(':') as [string, string];
      expect(typeof api[namespace]?.[verb], channel).toBe('function');
      expect(await api[namespace]![verb]!()).toEqual({ ok: true, value: channel });
    }
    expect(loaded.invoked.map((call) => call.channel)).toEqual([...IPC_CHANNELS]);
  });

  it('turns a failure of the IPC layer into an IPC_FAILED result instead of a rejection', async () => {
    const loaded = await loadPreload(() =>
      Promise.reject(new Error("No handler registered for 'doctor:run'")),
    );
    const api = loaded.exposed.get('droidway') as ExposedApi;
    expect(await api.doctor.run()).toEqual({
      ok: false,
      error: { code: 'IPC_FAILED', message: "No handler registered for 'doctor:run'" },
    });
  });

  it('on() delivers only the payload of contract events and unsubscribes', async () => {
    const loaded = await loadPreload(async () => ({ ok: true, value: null }));
    const api = loaded.exposed.get('droidway') as ExposedApi;
    const seen: unknown[] = [];
    const off = api.on('session:changed', (payload) => seen.push(payload));
    const listeners = loaded.listeners.get('session:changed');
    expect(listeners?.size).toBe(1);
    for (const listener of listeners ?? []) {
      listener(
        { sender: 'the IPC event stays in the preload' },
        { instance: 'x', state: 'running' },
      );
    }
    expect(seen).toEqual([{ instance: 'x', state: 'running' }]);
    off();
    expect(listeners?.size).toBe(0);
    for (const bad of ['shell:exec', 'toString', 7]) {
      expect(() => api.on(bad as string, () => undefined)).toThrow(/unknown event/);
    }
    expect(() => api.on('notice', 'not a function' as never)).toThrow(/listener/);
    expect([...loaded.listeners.keys()]).toEqual(['session:changed']);
  });
});
