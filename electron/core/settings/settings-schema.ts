/**
 * The one schema of the user's settings: `conf` (plain Node) and `electron-store` (the app) both
 * take it, and `settings:set` checks each value against its property (`checkSetting`, with the
 * validators compiled from it ahead of time) before storing it.
 */
import type { SettingKey, Settings } from '../../shared/settings.js';
import { INSTANCE_NAME_PATTERN } from '../../shared/instance-name.js';

/** Every setting's value when the user has not chosen one. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  image: 'demo',
  channelUrl: '',
  instanceName: 'default',
  displayScale: 1,
  density: 0,
  multiWindow: true,
  startAtLogin: false,
  closeBehaviour: 'tray',
  theme: 'system',
});

/** JSON schema of each setting (the `schema` option of conf / electron-store). */
export const SETTINGS_SCHEMA = Object.freeze({
  image: {
    type: 'string',
    minLength: 1,
    maxLength: 4096,
    default: DEFAULT_SETTINGS.image,
    description: 'Image a session boots: demo, an Android image name or folder',
  },
  channelUrl: {
    type: 'string',
    maxLength: 2048,
    pattern: '^(|https://[^\\s]+)$',
    default: DEFAULT_SETTINGS.channelUrl,
    description: 'OTA channel (https) Android images come from; empty = the built-in one',
  },
  instanceName: {
    type: 'string',
    pattern: INSTANCE_NAME_PATTERN.source,
    default: DEFAULT_SETTINGS.instanceName,
    description: 'Instance the app manages',
  },
  displayScale: {
    type: 'number',
    minimum: 0.5,
    maximum: 4,
    default: DEFAULT_SETTINGS.displayScale,
    description: 'Host scale factor',
  },
  density: {
    type: 'integer',
    minimum: 0,
    maximum: 960,
    default: DEFAULT_SETTINGS.density,
    description: 'Android density in dpi; 0 = from the scale',
  },
  multiWindow: { type: 'boolean', default: DEFAULT_SETTINGS.multiWindow },
  startAtLogin: { type: 'boolean', default: DEFAULT_SETTINGS.startAtLogin },
  closeBehaviour: {
    type: 'string',
    enum: ['tray', 'quit'],
    default: DEFAULT_SETTINGS.closeBehaviour,
  },
  theme: { type: 'string', enum: ['system', 'light', 'dark'], default: DEFAULT_SETTINGS.theme },
} as const satisfies Record<SettingKey, object>);
