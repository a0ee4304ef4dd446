/**
 * The names of the built-in policy presets (see `presets.ts`). Its own module, so a command that
 * only lists the names (the `session start` help text) does not load the policy validator.
 */

/** Names of the built-in presets. */
export const PRESET_NAMES = ['android', 'strict', 'privileged'] as const;

export type PresetName = (typeof PRESET_NAMES)[number];
