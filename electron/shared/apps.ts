/**
 * What the Apps page and the install queue exchange with main (`apps:*`, `install:*`): plain
 * data, imported by core (which fills it) and the renderer (which shows it).
 */

/** One installed app as the grid shows it. */
export interface AppSummary {
  packageName: string;
  /** The launcher label (the user's locale when the APK has it), else the package name. */
  label: string;
  versionName: string | null;
  versionCode: number;
  /** The launcher icon as `data:image/png;base64,…`, or null when the APK has none. */
  iconDataUrl: string | null;
  /** Whether the app has a launcher activity (apps without one cannot be launched). */
  launchable: boolean;
  /** Whether the app is pinned to the tray. */
  pinned: boolean;
}

/** The answer of `apps:list`. */
export interface AppsListing {
  /** The session's state: apps are listed only while it runs (or is frozen). */
  session: 'stopped' | 'starting' | 'running' | 'frozen' | 'stopping' | 'error';
  apps: AppSummary[];
}

/** The answer of `apps:info`: what the APK says about itself. */
export interface AppDetails extends AppSummary {
  minSdk: number | null;
  targetSdk: number | null;
  /** Requested permissions, as declared (`android.permission.CAMERA`). */
  permissions: string[];
  /** SHA-256 of each signing certificate, lowercase hex. */
  signerSha256: string[];
  /** Signature schemes found (`v1`, `v2`, `v3`). */
  signatureSchemes: string[];
  /** Native ABIs the APK carries (`x86_64`, `arm64-v8a`); empty for pure Java/Kotlin apps. */
  nativeAbis: string[];
}

/** Where one file of the install queue is. */
export type InstallStage =
  'refused' | 'queued' | 'copying' | 'checking' | 'installing' | 'done' | 'failed' | 'cancelled';

/** Stages after which nothing happens to the item any more. */
export const FINAL_INSTALL_STAGES: readonly InstallStage[] = [
  'refused',
  'done',
  'failed',
  'cancelled',
];

/** One file of the install queue (`install:start`, `install:list`, event `install:progress`). */
export interface InstallItem {
  /** Queue id, for `install:cancel`. */
  id: string;
  /** The file's name (not its full path). */
  fileName: string;
  stage: InstallStage;
  /** Bytes processed in the current stage, and the file's size (0 while unknown). */
  bytes: number;
  totalBytes: number;
  /** The installed package, once known. */
  packageName: string | null;
  /**
   * The outcome in plain words, once final: why the file was refused, Android's verdict
   * explained (`needs Android 15, this guest runs Android 14`), or that it was installed.
   */
  message: string | null;
  /** Android's verdict as the package manager printed it (`Failure [INSTALL_FAILED_OLDER_SDK…]`). */
  verdict: string | null;
}

/** The file extensions the install queue accepts. */
export const INSTALLABLE_EXTENSIONS: readonly string[] = ['.apk', '.apks', '.xapk'];

/** Whether a file name ends in an installable extension (case-insensitive). */
export function isInstallableName(name: string): boolean {
  const lower = name.toLowerCase();
  return INSTALLABLE_EXTENSIONS.some((ext) => lower.endsWith(ext) && lower.length > ext.length);
}
