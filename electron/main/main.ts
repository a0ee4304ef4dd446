/**
 * Electron main entry (`out/electron/main/main.js`, started by `npm start`): one instance per
 * user, one window, a tray, the IPC contract served by the core services. Everything
 * Electron-specific stays in `electron/main/`; the work happens in `electron/core/`.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, Menu, nativeTheme, session, type BrowserWindow } from 'electron';
import ElectronStore from 'electron-store';
import { launchApp } from '../core/apps/launch.js';
import { setAutostart } from '../core/apps/autostart.js';
import { createCoreApi, type CoreApi } from '../core/api.js';
import { instanceCatalogs, type AppCatalog } from '../core/apps/catalog.js';
import {
  installDroidwayIntegration,
  resolveLauncherCommand,
  xdgDirs,
} from '../core/apps/desktop-entry.js';
import { AppsStateStore, defaultAppsStateDir } from '../core/apps/apps-state.js';
import { trayApps, type TrayAction, type TrayModelInput } from '../core/apps/tray-model.js';
import { openSettings, type BackendFactory } from '../core/settings/settings-store.js';
import type { InstallItem } from '../shared/apps.js';
import type { IpcEventSink } from '../shared/ipc-contract.js';
import type { Settings } from '../shared/settings.js';
import { registerIpcHandlers } from './ipc.js';
import { createEventSender } from './ipc-events.js';
import { notifyInstallResult } from './notifications.js';
import {
  claimSingleInstance,
  dispatchLaunchRequests,
  firstInstanceRequests,
  type LaunchRequestHandlers,
} from './single-instance.js';
import { createTray, type DroidwayTray } from './tray.js';
import { createMainWindow, hardenWebContents } from './window.js';

const appRoot = app.getAppPath();
const files = {
  preloadPath: fileURLToPath(new URL('../preload/preload.cjs', import.meta.url)),
  pageFile: join(appRoot, 'renderer', 'dist', 'index.html'),
  iconPath: join(appRoot, 'resources', 'icons', 'droidway-512.png'),
};
const trustedIds = new Set<number>();
let mainWindow: BrowserWindow | null = null;
let api: CoreApi | null = null;
let tray: DroidwayTray | null = null;
/**
 * The catalog of each instance, the one the grid, the tray and the desktop entries (with their
 * hicolor icons) read; the core API refreshes it after each install.
 */
let catalogs: ((instance: string) => AppCatalog) | null = null;
let currentInstance: () => string = () => 'default';
/** Pins and recent launches, in the file the apps service writes. */
let appsStore: AppsStateStore | null = null;
let closeBehaviour: Settings['closeBehaviour'] = 'tray';
const trayState: TrayModelInput = { session: 'stopped', pinned: [], recents: [], apps: [] };

function showMainWindow(): void {
  if (mainWindow === null || mainWindow.isDestroyed()) {
    mainWindow = createMainWindow(files, trustedIds);
    mainWindow.on('closed', () => {
      mainWindow = null;
    });
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

/** Runs a core call from main (tray, second instance); a failure goes to the log. */
function run(what: string, call: () => Promise<unknown>): void {
  call().catch((error: unknown) => {
    trayState.error = error instanceof Error ? error.message : String(error);
    tray?.update(trayState);
    console.error(`droidway: ${what}: ${trayState.error}`);
  });
}

function onTrayAction(action: TrayAction): void {
  const core = api;
  if (core === null) return;
  switch (action.kind) {
    case 'show-window':
      return showMainWindow();
    case 'start-session':
      return run('start', () => core['session:start']());
    case 'stop-session':
      return run('stop', () => core['session:stop']());
    case 'unfreeze-session':
      return run('unfreeze', () => core['session:unfreeze']());
    case 'launch':
      return run(`launch ${action.packageName}`, () => core['apps:launch'](action.packageName));
    case 'quit':
      return app.quit();
  }
}

/**
 * The tray's apps, pins and recents anew from the catalog's last refresh (the one the grid and
 * the desktop entries show) and the pins and recents store.
 */
function refreshTrayApps(): void {
  const of = catalogs;
  const store = appsStore;
  if (of === null || store === null) return;
  run('tray apps', async () => {
    Object.assign(trayState, trayApps(of(currentInstance()), await store.read()));
    tray?.update(trayState);
  });
}

/** Re-reads the guest's apps, writes or removes their desktop entries and icons, then the tray. */
function syncDesktopEntries(): void {
  const of = catalogs;
  if (of === null) return;
  run('sync desktop entries', async () => {
    await of(currentInstance()).refresh();
    refreshTrayApps();
  });
}

const launchHandlers: LaunchRequestHandlers = {
  showWindow: showMainWindow,
  // A desktop entry names the instance its app was installed in; otherwise the current one.
  launch: (pkg, instance) =>
    run(`launch ${pkg}`, async () =>
      instance === null ? api?.['apps:launch'](pkg) : launchApp(pkg, { instance }),
    ),
  // The per-app settings view does not exist yet: show the window.
  openSettings: () => showMainWindow(),
  install: (paths) => run('install', async () => api?.['install:start'](paths)),
  problems: (problems) => console.warn(`droidway: ${problems.join('; ')}`),
};

function applySettings(settings: Settings): void {
  nativeTheme.themeSource = settings.theme;
  closeBehaviour = settings.closeBehaviour;
  // Electron's setLoginItemSettings does nothing on Linux: an XDG autostart entry does.
  const launcher = resolveLauncherCommand({ packaged: app.isPackaged });
  run('start at login', () => setAutostart(xdgDirs(), settings.startAtLogin, launcher));
}

async function start(): Promise<void> {
  await app.whenReady();
  // The renderer needs no device, notification or clipboard permission; refuse every request.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );
  session.defaultSession.setPermissionCheckHandler(() => false);
  Menu.setApplicationMenu(null);
  // electron-store and conf read the same file with the same schema (settings-store.ts).
  const electronStore: BackendFactory = (options) =>
    new ElectronStore<Record<string, unknown>>(
      options as unknown as ConstructorParameters<typeof ElectronStore>[0],
    );
  const settings = openSettings({ cwd: app.getPath('userData'), backend: electronStore });
  applySettings(settings.get());
  const sendEvent = createEventSender(trustedIds);
  const emit: IpcEventSink = (event, payload) => {
    if (event === 'settings:changed') applySettings(payload as Settings);
    if (event === 'session:changed') {
      trayState.session = (payload as { state: TrayModelInput['session'] }).state;
      if (trayState.session === 'running') syncDesktopEntries();
      trayState.error = null;
      tray?.update(trayState);
    }
    // The catalog refresh that changed the apps already synced the desktop entries; pins too.
    if (event === 'apps:changed') refreshTrayApps();
    if (event === 'install:progress') {
      const item = payload as InstallItem;
      // Only outcomes the user did not just watch happen need a desktop notification.
      if ((item.stage === 'done' || item.stage === 'failed') && !mainWindow?.isFocused()) {
        notifyInstallResult(
          {
            name: item.packageName ?? item.fileName,
            ok: item.stage === 'done',
            ...(item.message !== null ? { message: item.message } : {}),
          },
          showMainWindow,
        );
      }
    }
    sendEvent(event, payload);
  };
  const dirs = xdgDirs();
  const launcher = resolveLauncherCommand({ packaged: app.isPackaged });
  const cacheDir = join(app.getPath('userData'), 'catalog');
  catalogs = instanceCatalogs({
    icons: true,
    cacheDir: () => cacheDir,
    desktop: { dirs, launcher },
  });
  currentInstance = () => settings.get().instanceName;
  appsStore = new AppsStateStore(defaultAppsStateDir(dirs.configHome));
  // Pins and recents change from the grid, the CLI and every launch: the tray follows the file.
  try {
    appsStore.watch(refreshTrayApps);
  } catch (error) {
    console.warn(`droidway: the tray will not follow pins: ${String(error)}`);
  }
  api = createCoreApi({ settings, emit, catalogs });
  // The app's own entry makes `.apk` files offer "Install with Droidway".
  run('desktop integration', () => installDroidwayIntegration(dirs, { launcher }));
  registerIpcHandlers({
    api,
    senders: { allowedWebContentsIds: trustedIds, pageUrl: pathToFileURL(files.pageFile).href },
  });
  try {
    tray = createTray(files.iconPath, trayState, onTrayAction);
  } catch (error) {
    // A desktop without a status notifier: the app works without the tray.
    console.warn(`droidway: no tray: ${String(error)}`);
  }
  // Pins and recents show before the session runs; a launch from them starts it.
  refreshTrayApps();
  run('session status', async () => {
    const status = await api?.['session:status']();
    if (status !== undefined)
      emit('session:changed', { instance: status.instance, state: status.state });
  });
  dispatchLaunchRequests(firstInstanceRequests(), launchHandlers);
}

// A second launch (desktop icon, `droidway --launch <pkg>`) hands its argv to the first instance.
if (!claimSingleInstance(launchHandlers)) {
  app.quit();
} else {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  app.on('window-all-closed', () => {
    // With a tray and "close to tray", the app (and its session) keeps running.
    if (tray === null || closeBehaviour === 'quit') app.quit();
  });
  start().catch((error: unknown) => {
    console.error(
      `droidway: startup failed: ${error instanceof Error ? error.stack : String(error)}`,
    );
    app.exit(1);
  });
}
