/**
 * Argument checks of the native facade. They mirror the C++ ones (`native/src/js_args.cc`) so a
 * bad argument fails here, in TypeScript, with the same error classes and codes: `TypeError`
 * (`code` `'ERR_INVALID_ARG_TYPE'`) and `RangeError` (`code` `'ERR_OUT_OF_RANGE'`).
 */

/** A `TypeError` with code `'ERR_INVALID_ARG_TYPE'`. */
export function invalidType(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A `RangeError` with code `'ERR_OUT_OF_RANGE'`. */
export function outOfRange(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

/** Checks that `value` is an integer in [min, max] and returns it. */
export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidType(`${name} must be a number`);
  if (!Number.isInteger(value)) throw outOfRange(`${name} must be an integer`);
  if (value < min || value > max) throw outOfRange(`${name} must be between ${min} and ${max}`);
  return value;
}

/** Largest fd number accepted (INT_MAX). */
export const MAX_FD = 2 ** 31 - 1;

/** Checks that `value` is an fd number (an integer in 0..INT_MAX). */
export function checkFd(value: unknown, name: string): number {
  return checkInteger(value, name, 0, MAX_FD);
}

/** Longest wait accepted for a timeout (poll() takes an int of milliseconds). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Checks a timeout in milliseconds (0..2^31-1). */
export function checkTimeout(value: unknown, name: string): number {
  return checkInteger(value, name, 0, MAX_TIMEOUT_MS);
}

/** Checks that `value` is a boolean. */
export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidType(`${name} must be a boolean`);
  return value;
}

/** Checks that `value` is one of `choices`. */
export function checkChoice<T extends string>(
  value: unknown,
  name: string,
  choices: readonly T[],
): T {
  if (typeof value !== 'string') throw invalidType(`${name} must be a string`);
  if (!(choices as readonly string[]).includes(value)) {
    throw outOfRange(`${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}`);
  }
  return value as T;
}
