/**
 * The check of one setting's value against its property of `SETTINGS_SCHEMA`, by the validators
 * `npm run build:validators` compiled from it.
 */
import type { ValidateFunction } from 'ajv';
import * as settingValidators from '../../generated/settings.js';
import type { SettingKey, Settings } from '../../shared/settings.js';
import { instanceNameProblem } from '../../shared/instance-name.js';

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
  const validate = Object.hasOwn(settingValidators, key)
    ? (settingValidators as Record<string, ValidateFunction>)[key]
    : undefined;
  if (validate === undefined) throw new SettingsError(`unknown setting ${String(key)}`);
  if (!validate(value)) {
    // The CLI's words for the CLI's rule, not the schema's pattern.
    if (key === 'instanceName') throw new SettingsError(instanceNameProblem(value) ?? 'invalid');
    const why = (validate.errors ?? []).map((e) => e.message ?? 'is invalid').join('; ');
    throw new SettingsError(`${key} ${why}`);
  }
  return value as Settings[K];
}
