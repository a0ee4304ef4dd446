import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { IPC_CHANNELS } from '../../electron/shared/ipc-contract.js';
import { transpilePreload } from '../e2e/preload-script.js';

interface Loaded {
  exposed: Map<string, unknown>;
  invoked: Array<{ channel: string; args: unknown[] }>;
  required: string[];
}

/**
 * Runs the real preload in a fresh context with a recording stand-in for `electron`;
 * `answer` decides what `ipcRenderer.invoke` resolves or rejects with.
 */
async function loadPreload(answer: (channel: string) => Promise<unknown>): Promise<Loaded> {
  const loaded: Loaded = { exposed: new Map(), invoked: [], required: [] };
  const electron = {
    contextBridge: {
      exposeInMainWorld: (key: string, api: unknown) => loaded.exposed.set(key, api),
    },
    ipcRenderer: {
      invoke: (channel: string, ...args: unknown[]) => {
        loaded.invoked.push({ channel, args });
        return answer(channel);
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
    expect(Object.keys(api).sort()).toEqual(['app', 'doctor']);
    expect(await api.app.info()).toEqual({ ok: true, value: 'app:info' });
    expect(await api.doctor.run()).toEqual({ ok: true, value: 'doctor:run' });
    expect(loaded.invoked).toEqual([
      { channel: 'app:info', args: [] },
      { channel: 'doctor:run', args: [] },
    ]);
    for (const { channel } of loaded.invoked) expect(IPC_CHANNELS).toContain(channel);
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
});
