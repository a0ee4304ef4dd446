/**
 * The one schema of the user's settings: `conf` (plain Node) and `electron-store` (the app) both
 * take it, and `settings:set` checks each value against its property here before storing it.
 */
import type { ValidateFunction } from 'ajv';
import { ajvClass } from '../ajv-on-demand.js';
import { SETTING_KEYS, type SettingKey, type Settings } from '../../shared/settings.js';
import { INSTANCE_NAME_PATTERN, instanceNameProblem } from '../../shared/instance-name.js';

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

let compiledValidators: Map<SettingKey, ValidateFunction> | undefined;
/** Compiled on first use, so that importing this module costs no schema compile. */
function keyValidators(): Map<SettingKey, ValidateFunction> {
  if (compiledValidators === undefined) {
    const ajv = new (ajvClass())({ allErrors: true, strict: true, strictTypes: false });
    compiledValidators = new Map(
      SETTING_KEYS.map((key) => [key, ajv.compile(SETTINGS_SCHEMA[key] as object)] as const),
    );
  }
  return compiledValidators;
}

/** Code of a setting value the schema refuses. */
export const SETTINGS_INVALID = 'SETTINGS_INVALID';

/** Thrown for a value the schema refuses; the message names the setting and the rule. */
export class SettingsError extends Error {
  readonly code = SETTINGS_INVALID;
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** Checks `value` against the schema of `key` and returns it typed; throws `SettingsError`. */
export function checkSetting<K extends SettingKey>(key: K, value: unknown): Settings[K] {
  const validate = keyValidators().get(key);
  if (validate === undefined) throw new SettingsError(`unknown setting ${String(key)}`);
  if (!validate(value)) {
    // The CLI's words for the CLI's rule, not the schema's pattern.
    if (key === 'instanceName') throw new SettingsError(instanceNameProblem(value) ?? 'invalid');
    const why = (validate.errors ?? []).map((e) => e.message ?? 'is invalid').join('; ');
    throw new SettingsError(`${key} ${why}`);
  }
  return value as Settings[K];
}
