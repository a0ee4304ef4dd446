import { describe, expect, it } from 'vitest';
import type { CatalogApp } from '../../../../electron/core/apps/catalog.js';
import {
  trayApps,
  trayMenuModel,
  type TrayItem,
} from '../../../../electron/core/apps/tray-model.js';

const apps = [
  { packageName: 'com.a.maps', label: 'Maps', launchable: true },
  { packageName: 'com.a.mail', label: 'Mail', launchable: true },
  { packageName: 'com.a.svc', label: 'Service', launchable: false },
];

function item(items: TrayItem[], id: string): Extract<TrayItem, { type: 'item' }> {
  const found = items.find((i) => i.id === id);
  if (found?.type !== 'item') throw new Error(`no item ${id}`);
  return found;
}

describe('tray menu model', () => {
  it('stopped: status, Start enabled, show window and quit, no app sections', () => {
    const m = trayMenuModel({ session: 'stopped', pinned: [], recents: [], apps: [] });
    expect(m.map((i) => i.id)).toEqual([
      'status',
      'session-toggle',
      'show-window',
      'sep-quit',
      'quit',
    ]);
    expect(item(m, 'status')).toMatchObject({ label: 'Android is stopped', enabled: false });
    expect(item(m, 'session-toggle')).toMatchObject({
      label: 'Start Android',
      enabled: true,
      action: { kind: 'start-session' },
    });
    expect(item(m, 'quit').action).toEqual({ kind: 'quit' });
  });

  it('starting: toggle and launches disabled', () => {
    const m = trayMenuModel({ session: 'starting', pinned: ['com.a.maps'], recents: [], apps });
    expect(item(m, 'status').label).toBe('Android is starting…');
    expect(item(m, 'session-toggle').enabled).toBe(false);
    expect(item(m, 'pinned:com.a.maps').enabled).toBe(false);
  });

  it('running with pins and recents: pinned first, recents without the pinned ones', () => {
    const m = trayMenuModel({
      session: 'running',
      pinned: ['com.a.maps', 'com.a.svc', 'com.a.gone'],
      recents: ['com.a.mail', 'com.a.maps', 'com.a.mail'],
      apps,
    });
    expect(m.map((i) => i.id)).toEqual([
      'status',
      'session-toggle',
      'show-window',
      'sep-pinned',
      'pinned-header',
      'pinned:com.a.maps',
      'pinned:com.a.svc',
      'pinned:com.a.gone',
      'sep-recent',
      'recent-header',
      'recent:com.a.mail',
      'sep-quit',
      'quit',
    ]);
    expect(item(m, 'session-toggle')).toMatchObject({
      label: 'Stop Android',
      action: { kind: 'stop-session' },
    });
    expect(item(m, 'pinned:com.a.maps')).toMatchObject({
      label: 'Maps',
      enabled: true,
      action: { kind: 'launch', packageName: 'com.a.maps' },
    });
    expect(item(m, 'pinned:com.a.svc').enabled).toBe(false);
    // Not in the catalog (yet): offered by its package name; the launch checks.
    expect(item(m, 'pinned:com.a.gone')).toMatchObject({ label: 'com.a.gone', enabled: true });
  });

  it('frozen: Resume', () => {
    const m = trayMenuModel({ session: 'frozen', pinned: [], recents: ['com.a.maps'], apps });
    expect(item(m, 'status').label).toBe('Android is paused');
    expect(item(m, 'session-toggle')).toMatchObject({
      label: 'Resume Android',
      enabled: true,
      action: { kind: 'unfreeze-session' },
    });
    expect(item(m, 'recent:com.a.maps').enabled).toBe(true);
  });

  it('error: the error in the status line, shortened and on one line; Start offered', () => {
    const m = trayMenuModel({
      session: 'error',
      pinned: [],
      recents: [],
      apps,
      error: `LXC_START_FAILED:\nlxc-start exited ${'x'.repeat(200)}`,
    });
    const status = item(m, 'status').label;
    expect(status.startsWith('Android failed: LXC_START_FAILED: lxc-start exited')).toBe(true);
    expect(status).not.toContain('\n');
    expect(status.length).toBeLessThan(90);
    expect(item(m, 'session-toggle').action).toEqual({ kind: 'start-session' });
  });

  it('shows at most five recents and shortens labels', () => {
    const many = Array.from({ length: 9 }, (_, i) => `com.r.app${i}`);
    const m = trayMenuModel({
      session: 'running',
      pinned: [],
      recents: many,
      apps: [{ packageName: 'com.r.app0', label: 'L'.repeat(300), launchable: true }],
    });
    expect(m.filter((i) => i.id.startsWith('recent:'))).toHaveLength(5);
    expect([...item(m, 'recent:com.r.app0').label].length).toBe(60);
  });
});

describe('trayApps', () => {
  const catalogApp = (packageName: string, label: string, launcher: boolean): CatalogApp => ({
    packageName,
    label,
    labels: { '': label },
    versionCode: 1,
    versionName: null,
    launcherActivity: launcher ? '.Main' : null,
    system: false,
    apkPath: null,
  });
  const catalog = {
    apps: () => [catalogApp('com.a.mail', 'Mail', true), catalogApp('com.a.svc', 'Service', false)],
  };

  it('takes labels and launchability from the catalog, pins and recents from the store', () => {
    const input = trayApps(catalog, {
      pinned: ['com.a.svc'],
      recents: [
        { packageName: 'com.a.mail', at: 2 },
        { packageName: 'com.a.gone', at: 1 },
      ],
    });
    expect(input).toEqual({
      apps: [
        { packageName: 'com.a.mail', label: 'Mail', launchable: true },
        { packageName: 'com.a.svc', label: 'Service', launchable: false },
      ],
      pinned: ['com.a.svc'],
      recents: ['com.a.mail', 'com.a.gone'],
    });
    const m = trayMenuModel({ session: 'running', ...input });
    expect(item(m, 'pinned:com.a.svc')).toMatchObject({ label: 'Service', enabled: false });
    expect(item(m, 'recent:com.a.mail')).toMatchObject({ label: 'Mail', enabled: true });
    // A recent app the catalog no longer lists is offered by name; the launch checks.
    expect(item(m, 'recent:com.a.gone')).toMatchObject({ label: 'com.a.gone', enabled: true });
  });
});
