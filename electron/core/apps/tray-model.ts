/**
 * The tray menu as plain data: what `electron/main/tray.ts` renders with Electron's `Menu`.
 * A pure function of the session state, the pins, the recents and the catalog, so every state
 * the menu can be in is unit-tested without Electron. `trayApps` makes the menu's apps, pins and
 * recents a view of the catalog's last refresh and the apps state store, as the grid and the
 * desktop entries are.
 */
import type { SessionStateName } from '../runtime/session-state.js';
import type { AppsState } from './apps-state.js';
import type { AppCatalog } from './catalog.js';

/** What an item does when clicked (the Electron side maps these to calls). */
export type TrayAction =
  | { kind: 'show-window' }
  | { kind: 'start-session' }
  | { kind: 'stop-session' }
  | { kind: 'unfreeze-session' }
  | { kind: 'launch'; packageName: string }
  | { kind: 'quit' };

/** One item of the menu. */
export type TrayItem =
  | { type: 'separator'; id: string }
  | {
      type: 'item';
      id: string;
      label: string;
      enabled: boolean;
      /** Absent for a status line. */
      action?: TrayAction;
    }
  | { type: 'header'; id: string; label: string };

/** An app the menu may name. */
export interface TrayApp {
  packageName: string;
  label: string;
  launchable: boolean;
}

/** What the menu is made from. */
export interface TrayModelInput {
  session: SessionStateName;
  pinned: readonly string[];
  /** Newest first. */
  recents: readonly string[];
  /** The catalog's apps (for labels and whether they can launch); may lag the pins. */
  apps: readonly TrayApp[];
  /** The last session error, shown in the status line. */
  error?: string | null;
}

/**
 * The tray's share of `TrayModelInput` from `catalog`'s last refresh (labels and whether an app
 * can launch, read without asking the guest again) and the apps state store's pins and recents.
 */
export function trayApps(
  catalog: Pick<AppCatalog, 'apps'>,
  state: Pick<AppsState, 'pinned' | 'recents'>,
): Pick<TrayModelInput, 'apps' | 'pinned' | 'recents'> {
  return {
    apps: catalog.apps().map((app) => ({
      packageName: app.packageName,
      label: app.label,
      launchable: app.launcherActivity !== null,
    })),
    pinned: [...state.pinned],
    recents: state.recents.map((r) => r.packageName),
  };
}

/** Most recent apps shown (pinned apps are not repeated among them). */
export const TRAY_RECENTS = 5;
/** Most characters of a label or error in the menu. */
const MAX_TEXT = 60;

const STATUS: Readonly<Record<SessionStateName, string>> = {
  stopped: 'Android is stopped',
  starting: 'Android is starting…',
  running: 'Android is running',
  frozen: 'Android is paused',
  stopping: 'Android is stopping…',
  error: 'Android failed',
};

function short(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const chars = [...clean];
  return chars.length > MAX_TEXT ? `${chars.slice(0, MAX_TEXT - 1).join('')}…` : clean;
}

/**
 * The tray menu for `input`: a status line (with the error, in the error state), the session
 * toggle (start, stop, or resume when paused; disabled while it changes), show window, the
 * pinned apps, then recent apps not pinned, then quit. An app launches only when the session
 * is not busy starting or stopping and the catalog says it is launchable (an app not in the
 * catalog yet is offered: the launch itself starts the session and checks).
 */
export function trayMenuModel(input: TrayModelInput): TrayItem[] {
  const { session } = input;
  const items: TrayItem[] = [];
  const error = input.error?.trim() ? short(input.error) : null;
  items.push({
    type: 'item',
    id: 'status',
    label: session === 'error' && error !== null ? `${STATUS.error}: ${error}` : STATUS[session],
    enabled: false,
  });
  const busy = session === 'starting' || session === 'stopping';
  if (session === 'running' || session === 'stopping')
    items.push({
      type: 'item',
      id: 'session-toggle',
      label: 'Stop Android',
      enabled: !busy,
      action: { kind: 'stop-session' },
    });
  else if (session === 'frozen')
    items.push({
      type: 'item',
      id: 'session-toggle',
      label: 'Resume Android',
      enabled: true,
      action: { kind: 'unfreeze-session' },
    });
  else
    items.push({
      type: 'item',
      id: 'session-toggle',
      label: 'Start Android',
      enabled: !busy,
      action: { kind: 'start-session' },
    });
  items.push({
    type: 'item',
    id: 'show-window',
    label: 'Show Droidway',
    enabled: true,
    action: { kind: 'show-window' },
  });
  const byPkg = new Map(input.apps.map((a) => [a.packageName, a]));
  const appItem = (prefix: string, pkg: string): TrayItem => {
    const app = byPkg.get(pkg);
    return {
      type: 'item',
      id: `${prefix}:${pkg}`,
      label: short(app?.label || pkg),
      enabled: !busy && (app?.launchable ?? true),
      action: { kind: 'launch', packageName: pkg },
    };
  };
  const pinned = [...new Set(input.pinned)];
  if (pinned.length > 0) {
    items.push({ type: 'separator', id: 'sep-pinned' });
    items.push({ type: 'header', id: 'pinned-header', label: 'Pinned' });
    for (const pkg of pinned) items.push(appItem('pinned', pkg));
  }
  const recents = [...new Set(input.recents)]
    .filter((p) => !pinned.includes(p))
    .slice(0, TRAY_RECENTS);
  if (recents.length > 0) {
    items.push({ type: 'separator', id: 'sep-recent' });
    items.push({ type: 'header', id: 'recent-header', label: 'Recent' });
    for (const pkg of recents) items.push(appItem('recent', pkg));
  }
  items.push({ type: 'separator', id: 'sep-quit' });
  items.push({
    type: 'item',
    id: 'quit',
    label: 'Quit Droidway',
    enabled: true,
    action: { kind: 'quit' },
  });
  return items;
}
