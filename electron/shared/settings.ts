/**
 * The user's settings as the renderer and main see them. The schema that checks them lives in
 * `electron/core/settings/settings-schema.ts`; these are the shapes that cross IPC.
 */

/** How the app looks: follow the desktop, or force one. */
export type ThemeSetting = 'system' | 'light' | 'dark';
/** What closing the last window does. */
export type CloseBehaviour = 'tray' | 'quit';

/** Every setting, with its value. */
export interface Settings {
  /** Image a session boots: `demo`, an Android image's name or folder. */
  image: string;
  /** OTA channel URL Android images are downloaded from; `''` = the built-in default. */
  channelUrl: string;
  /** Instance the app manages (`[a-z0-9-]`). */
  instanceName: string;
  /** Host scale factor passed to Android's density. */
  displayScale: number;
  /** Android density override in dpi; 0 = derived from the scale. */
  density: number;
  /** Each Android app in a window of its own (else one window for the whole screen). */
  multiWindow: boolean;
  /** Start Droidway when the user logs in. */
  startAtLogin: boolean;
  /** What closing the last window does. */
  closeBehaviour: CloseBehaviour;
  theme: ThemeSetting;
}

/** A setting's name. */
export type SettingKey = keyof Settings;

/** The setting names, in the order the Settings page shows them. */
export const SETTING_KEYS: readonly SettingKey[] = Object.freeze([
  'image',
  'channelUrl',
  'instanceName',
  'displayScale',
  'density',
  'multiWindow',
  'startAtLogin',
  'closeBehaviour',
  'theme',
]);

/** What the pickers of the Settings, Session and Isolation pages offer, as the core knows them. */
export interface SettingChoices {
  /** Images a session can boot: `demo`, then the names of the images found (store, Waydroid). */
  images: string[];
  /** Policy preset names. */
  presets: string[];
  /**
   * The caller's instances, sorted (see `listInstances`): another user's are never listed. The
   * current one may be missing (it is made at its first start).
   */
  instances: string[];
}

/** Each setting in the user's words, as messages name it (`Saved display scale.`). */
export const SETTING_LABELS: Readonly<Record<SettingKey, string>> = Object.freeze({
  image: 'image',
  channelUrl: 'image channel URL',
  instanceName: 'instance name',
  displayScale: 'display scale',
  density: 'density',
  multiWindow: 'window per app',
  startAtLogin: 'start at login',
  closeBehaviour: 'what closing the window does',
  theme: 'theme',
});

/** A message for the user from main (a recovered settings file, an install result). */
export interface Notice {
  /** Unique per process, so the renderer can dismiss one. */
  id: string;
  level: 'info' | 'warning' | 'error';
  title: string;
  message: string;
}
