import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AppsStateStore,
  MAX_RECENTS,
  defaultAppsState,
  parseAppsState,
} from '../../../../electron/core/apps/apps-state.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-state-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('apps state store', () => {
  it('starts empty, pins, unpins and records recents newest first', async () => {
    const store = new AppsStateStore(path.join(dir, 'droidway'));
    expect(await store.read()).toEqual(defaultAppsState());
    await store.pin('com.a.one');
    await store.pin('com.a.two');
    await store.pin('com.a.one');
    await store.unpin('com.a.two');
    await store.recordLaunch('com.a.one', 1);
    await store.recordLaunch('com.a.two', 2);
    await store.recordLaunch('com.a.one', 3);
    const state = await new AppsStateStore(path.join(dir, 'droidway')).read();
    expect(state.pinned).toEqual(['com.a.one']);
    expect(state.recents).toEqual([
      { packageName: 'com.a.one', at: 3 },
      { packageName: 'com.a.two', at: 2 },
    ]);
    expect((await fs.stat(store.file)).mode & 0o777).toBe(0o600);
  });

  it('keeps at most MAX_RECENTS and forgets an uninstalled app', async () => {
    const store = new AppsStateStore(dir);
    for (let i = 0; i < MAX_RECENTS + 5; i++) await store.recordLaunch(`com.app.n${i}`, i);
    await store.pin('com.app.n14');
    const state = await store.forget('com.app.n14');
    expect(state.recents).toHaveLength(MAX_RECENTS - 1);
    expect(state.pinned).toEqual([]);
  });

  it('serializes concurrent updates', async () => {
    const store = new AppsStateStore(dir);
    await Promise.all(['com.a.a', 'com.a.b', 'com.a.c', 'com.a.d'].map((p) => store.pin(p)));
    expect((await store.read()).pinned.sort()).toEqual([
      'com.a.a',
      'com.a.b',
      'com.a.c',
      'com.a.d',
    ]);
  });

  for (const [name, text] of [
    ['not JSON', '{"version":1,'],
    ['wrong version', '{"version":2,"pinned":[],"recents":[]}'],
    ['bad package', '{"version":1,"pinned":["../x"],"recents":[]}'],
    ['bad recent', '{"version":1,"pinned":[],"recents":[{"packageName":"a.b","at":-1}]}'],
    ['null', 'null'],
  ] as const)
    it(`moves a corrupt file aside (${name}) and uses the defaults`, async () => {
      const store = new AppsStateStore(dir);
      await fs.writeFile(store.file, text);
      expect(await store.read()).toEqual(defaultAppsState());
      const names = await fs.readdir(dir);
      expect(names.some((n) => n.startsWith('apps-state.json.corrupt-'))).toBe(true);
      expect(names).not.toContain('apps-state.json');
      // And the store works again after.
      await store.pin('com.ok.app');
      expect((await store.read()).pinned).toEqual(['com.ok.app']);
    });

  it('refuses non-package names', async () => {
    const store = new AppsStateStore(dir);
    await expect(store.pin('nope')).rejects.toMatchObject({ code: 'PACKAGE_NAME_INVALID' });
    await expect(store.recordLaunch('a.b/../c')).rejects.toMatchObject({
      code: 'PACKAGE_NAME_INVALID',
    });
  });

  it('parses a valid state, dropping duplicates and unknown keys', () => {
    expect(
      parseAppsState({ version: 1, pinned: ['a.b', 'a.b'], recents: [], extra: true }),
    ).toEqual({ version: 1, pinned: ['a.b'], recents: [] });
  });
});

describe('AppsStateStore.watch', () => {
  it('reports a change another store made to the same file, until stopped', async () => {
    const watched = new AppsStateStore(path.join(dir, 'new-folder'));
    let changes = 0;
    let seen: () => void = () => undefined;
    const stop = watched.watch(() => {
      changes++;
      seen();
    }, 10);
    try {
      const changed = new Promise<void>((resolve) => (seen = resolve));
      // Another writer (the CLI's `app pin`) with its own store object.
      await new AppsStateStore(path.join(dir, 'new-folder')).pin('com.example.maps');
      await changed;
      expect(changes).toBeGreaterThanOrEqual(1);
      expect((await watched.read()).pinned).toEqual(['com.example.maps']);
    } finally {
      stop();
    }
  });
});
