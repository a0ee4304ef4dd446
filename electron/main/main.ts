/**
 * Electron main entry (`out/electron/main/main.js`, started by `npm start`): one instance per
 * user, one window, the IPC contract served by the core services. Everything Electron-specific
 * stays in `electron/main/`; the work happens in `electron/core/`.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, Menu, session, type BrowserWindow } from 'electron';
import { createCoreApi } from '../core/api.js';
import { registerIpcHandlers } from './ipc.js';
import { createMainWindow, hardenWebContents } from './window.js';

const appRoot = app.getAppPath();
const files = {
  preloadPath: fileURLToPath(new URL('../preload/preload.cjs', import.meta.url)),
  pageFile: join(appRoot, 'renderer', 'dist', 'index.html'),
  iconPath: join(appRoot, 'resources', 'icons', 'droidway-512.png'),
};
const trustedIds = new Set<number>();
let mainWindow: BrowserWindow | null = null;

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

async function start(): Promise<void> {
  await app.whenReady();
  // The renderer needs no device, notification or clipboard permission; refuse every request.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );
  session.defaultSession.setPermissionCheckHandler(() => false);
  Menu.setApplicationMenu(null);
  registerIpcHandlers({
    api: createCoreApi(),
    senders: { allowedWebContentsIds: trustedIds, pageUrl: pathToFileURL(files.pageFile).href },
  });
  showMainWindow();
}

// A second launch (desktop icon, `droidway --launch <pkg>` later) focuses the first instance.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  app.on('second-instance', () => {
    if (app.isReady()) showMainWindow();
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  app.on('window-all-closed', () => app.quit());
  start().catch((error: unknown) => {
    console.error(
      `droidway: startup failed: ${error instanceof Error ? error.stack : String(error)}`,
    );
    app.exit(1);
  });
}
