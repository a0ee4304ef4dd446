/**
 * The rule for instance names, one copy for every place that takes one: the CLI's `--instance`,
 * the runtime's paths, the settings file and the Settings page's instance picker.
 */

/** Instance names: short, lowercase, usable in a container name, a path and a cgroup. */
export const INSTANCE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** The instance used when none is named. */
export const DEFAULT_INSTANCE = 'default';

/**
 * What is wrong with `name` as an instance name, in the words the CLI uses, or null when it is
 * one. At most 40 characters of the name are quoted back.
 */
export function instanceNameProblem(name: unknown): string | null {
  if (typeof name === 'string' && INSTANCE_NAME_PATTERN.test(name)) return null;
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name;
  return `instance name ${shown} is invalid: use 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit`;
}
