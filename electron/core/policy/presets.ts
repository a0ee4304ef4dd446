/**
 * The built-in policy presets, `resources/policies/<name>.json` (documented in that folder's
 * README.md). Presets are validated when loaded like any other policy, so a broken preset is an
 * error, never a silently weaker container.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY_INVALID, PolicyError } from './policy-errors.js';
import type { ValidatedPolicy } from './policy-document.js';
import { parsePolicyText } from './policy-validate.js';
import { packageRoot } from '../package-root.js';
import { PRESET_NAMES, type PresetName } from './preset-names.js';

export { PRESET_NAMES, type PresetName } from './preset-names.js';

/** Code of an unknown preset name. */
export const POLICY_UNKNOWN_PRESET = 'POLICY_UNKNOWN_PRESET';

/** Whether `name` is a built-in preset. */
export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/**
 * The folder holding the preset files: `resources/policies` of the package, found by walking up
 * from this module (the same code runs from `electron/` in development and `out/electron/` built).
 */
export function presetDirectory(): string {
  const root = packageRoot();
  const candidate = root === null ? null : join(root, 'resources', 'policies');
  if (candidate !== null && existsSync(join(candidate, 'strict.json'))) return candidate;
  throw new Error('the policy presets (resources/policies) are missing from this installation');
}

/** Path of a preset's file. */
export function presetPath(name: PresetName): string {
  return join(presetDirectory(), `${name}.json`);
}

/**
 * Loads and validates a built-in preset. Throws a `PolicyError`: `POLICY_UNKNOWN_PRESET` for a
 * name that is not a preset, `POLICY_INVALID` if the file does not validate.
 */
export function loadPreset(name: string): ValidatedPolicy {
  if (!isPresetName(name)) {
    throw new PolicyError(POLICY_UNKNOWN_PRESET, [
      { path: '', message: `unknown preset '${name}' (presets: ${PRESET_NAMES.join(', ')})` },
    ]);
  }
  const result = parsePolicyText(readFileSync(presetPath(name), 'utf8'));
  if (!result.ok) throw new PolicyError(POLICY_INVALID, result.issues);
  return result.policy;
}
