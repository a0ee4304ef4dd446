/**
 * Validators for values that arrive from another process. Every IPC argument is `unknown` until
 * one of these says otherwise; each takes explicit limits (lengths, ranges, counts) and throws a
 * `ValidationError` (code `'IPC_BAD_ARGS'`) naming the argument and what was wrong with it.
 * Pure functions, no Node or DOM APIs: imported by main, the test host and the renderer.
 */

/** Error code of every validation failure. */
export const BAD_ARGS_CODE = 'IPC_BAD_ARGS';

/** Longest string any IPC argument may carry unless a validator sets a smaller limit. */
export const MAX_IPC_STRING_LENGTH = 4096;

/** Thrown by the validators; `code` is always `'IPC_BAD_ARGS'`. */
export class ValidationError extends Error {
  readonly code = BAD_ARGS_CODE;
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** Names a value's type for error messages without echoing the value itself. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Checks that `args` is an array of exactly `count` elements (the argument list of one IPC
 * call) and returns it.
 */
export function expectArgs(args: unknown, count: number): readonly unknown[] {
  if (!Array.isArray(args)) {
    throw new ValidationError(`arguments must be an array, got ${describe(args)}`);
  }
  if (args.length !== count) {
    throw new ValidationError(`expected ${count} argument(s), got ${args.length}`);
  }
  return args;
}

/** Limits for `expectString`. */
export interface StringLimits {
  /** Minimum length in UTF-16 code units; default 0. */
  minLength?: number;
  /** Maximum length in UTF-16 code units; at most `MAX_IPC_STRING_LENGTH`. */
  maxLength: number;
  /** When given, the whole string must match. */
  pattern?: RegExp;
  /** Human description of `pattern` for the error message, e.g. `'a package name'`. */
  patternName?: string;
}

/**
 * Checks that `value` is a string within `limits` and without NUL characters (which would
 * truncate it at the first C API it reaches) and returns it.
 */
export function expectString(value: unknown, name: string, limits: StringLimits): string {
  if (typeof value !== 'string') {
    throw new ValidationError(`${name} must be a string, got ${describe(value)}`);
  }
  const max = Math.min(limits.maxLength, MAX_IPC_STRING_LENGTH);
  const min = limits.minLength ?? 0;
  if (value.length > max) {
    throw new ValidationError(`${name} is too long: ${value.length} characters, limit ${max}`);
  }
  if (value.length < min) {
    throw new ValidationError(`${name} is too short: ${value.length} characters, minimum ${min}`);
  }
  if (value.includes('\0')) {
    throw new ValidationError(`${name} must not contain NUL characters`);
  }
  if (limits.pattern !== undefined && !limits.pattern.test(value)) {
    throw new ValidationError(`${name} is not ${limits.patternName ?? 'in the expected format'}`);
  }
  return value;
}

/** Checks that `value` is a safe integer in `[min, max]` and returns it. */
export function expectInteger(
  value: unknown,
  name: string,
  range: { min: number; max: number },
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ValidationError(`${name} must be an integer, got ${describe(value)}`);
  }
  if (value < range.min || value > range.max) {
    throw new ValidationError(`${name} must be between ${range.min} and ${range.max}`);
  }
  return value;
}

/** Checks that `value` is a boolean and returns it. */
export function expectBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') {
    throw new ValidationError(`${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/** Checks that `value` is one of `allowed` (compared with `===`) and returns it. */
export function expectOneOf<const T extends string>(
  value: unknown,
  name: string,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(`${name} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/**
 * Checks that `value` is a plain object (prototype `Object.prototype` or `null`, as structured
 * clone produces) whose own keys are all in `allowedKeys`, and returns it. Its values are still
 * `unknown`: validate each.
 */
export function expectPlainObject(
  value: unknown,
  name: string,
  allowedKeys: readonly string[],
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${name} must be an object, got ${describe(value)}`);
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new ValidationError(`${name} must be a plain object`);
  }
  for (const key of Object.keys(value)) {
    if (!allowedKeys.includes(key)) {
      throw new ValidationError(
        `${name} has an unknown property (allowed: ${allowedKeys.join(', ')})`,
      );
    }
  }
  return value as Record<string, unknown>;
}

/** Android's limit on a package name's length (`PackageParser`/`FrameworkParsingPackageUtils`). */
export const MAX_PACKAGE_NAME_LENGTH = 255;

const PACKAGE_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/;

/**
 * Checks that `value` is an Android package name (`com.example.app`: at least two
 * dot-separated segments, each a letter then letters, digits or `_`) and returns it.
 */
export function expectPackageName(value: unknown, name: string): string {
  return expectString(value, name, {
    minLength: 3,
    maxLength: MAX_PACKAGE_NAME_LENGTH,
    pattern: PACKAGE_NAME,
    patternName: 'an Android package name (like com.example.app)',
  });
}

/** Limits of `expectJsonValue`. */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
  /** Most values (every object, array and scalar counts one). */
  maxNodes: number;
}

/**
 * Checks that `value` is plain JSON data within `limits` — objects (plain), arrays, finite
 * numbers, strings of at most `MAX_IPC_STRING_LENGTH`, booleans and null — and returns it. For
 * documents (a policy) whose meaning the core checks afterwards.
 */
export function expectJsonValue(value: unknown, name: string, limits: JsonLimits): unknown {
  let nodes = 0;
  const walk = (v: unknown, depth: number, where: string): void => {
    if (++nodes > limits.maxNodes) {
      throw new ValidationError(`${name} holds more than ${limits.maxNodes} values`);
    }
    if (v === null || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new ValidationError(`${where} must be a finite number`);
      return;
    }
    if (typeof v === 'string') {
      if (v.length > MAX_IPC_STRING_LENGTH) {
        throw new ValidationError(`${where} is longer than ${MAX_IPC_STRING_LENGTH} characters`);
      }
      return;
    }
    if (depth >= limits.maxDepth) {
      throw new ValidationError(`${name} is nested deeper than ${limits.maxDepth} levels`);
    }
    if (Array.isArray(v)) {
      v.forEach((item: unknown, i) => walk(item, depth + 1, `${where}[${i}]`));
      return;
    }
    if (typeof v === 'object') {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new ValidationError(`${where} must be a plain object`);
      }
      for (const [key, inner] of Object.entries(v)) {
        if (key.length > 256) throw new ValidationError(`${where} has an overlong key`);
        walk(inner, depth + 1, `${where}.${key}`);
      }
      return;
    }
    throw new ValidationError(`${where} must be JSON data, got ${describe(v)}`);
  };
  walk(value, 0, name);
  return value;
}
