/**
 * The one place that decides how an app window is built: its web preferences (isolated,
 * sandboxed, no Node), what it may load (only the app's page) and what it may open (nothing).
 */
import { existsSync } from 'node:fs';
import { BrowserWindow, nativeTheme, type WebContents } from 'electron';

/** Files the main window needs. */
export interface MainWindowFiles {
  /** Compiled preload, `out/electron/preload/preload.cjs`. */
  preloadPath: string;
  /** The renderer's page, `renderer/dist/index.html`. */
  pageFile: string;
  /** Window icon (PNG); skipped when the file does not exist. */
  iconPath: string;
}

/**
 * Denies everything a page could do to leave the app: navigating any frame (links, `location`,
 * drag and drop of a file; `loadFile` from main is not affected), redirects, new windows and `<webview>`. Applied to every webContents
 * the app gets, not only the main window's.
 */
export function hardenWebContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/**
 * Creates the main window, adds its webContents id to `trustedIds` (the IPC sender allow-list)
 * until it is destroyed, and loads the app page. The window shows once its first frame is ready,
 * so it never flashes an empty background. A page that fails to load is reported and closes the
 * window: there is nothing useful to show without it.
 */
export function createMainWindow(files: MainWindowFiles, trustedIds: Set<number>): BrowserWindow {
  const window = new BrowserWindow({
    title: 'Droidway',
    width: 1120,
    height: 740,
    minWidth: 760,
    minHeight: 500,
    show: false,
    autoHideMenuBar: true,
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#17191d' : '#f5f6f8',
    ...(existsSync(files.iconPath) ? { icon: files.iconPath } : {}),
    webPreferences: {
      preload: files.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
    },
  });
  const contents = window.webContents;
  const id = contents.id;
  trustedIds.add(id);
  contents.once('destroyed', () => trustedIds.delete(id));
  hardenWebContents(contents);
  window.once('ready-to-show', () => window.show());
  window.loadFile(files.pageFile).catch((error: unknown) => {
    console.error(`droidway: cannot load ${files.pageFile}: ${String(error)}`);
    window.destroy();
  });
  return window;
}
