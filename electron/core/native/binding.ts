/**
 * Loading of the native module (`native/build/Release/droidway_native.node`). Everything in
 * `electron/core/native/` goes through `loadNative()`; tests of argument validation inject a fake
 * binding instead.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DroidwayNative } from '../../../native/index.js';
import { packageRoot } from '../package-root.js';

export type { DroidwayNative } from '../../../native/index.js';

/** Environment variable naming an explicit `.node` file to load instead of the built one. */
export const NATIVE_PATH_ENV = 'DROIDWAY_NATIVE_PATH';

/** Thrown when the native module is not built or does not load; `code` is `'ENATIVE'`. */
export class NativeUnavailableError extends Error {
  readonly code = 'ENATIVE';
  /** The path that was tried. */
  readonly path: string;

  constructor(path: string, reason: string, cause?: unknown) {
    super(
      `the native module could not be loaded from ${path}: ${reason}; run \`npm run build:native\``,
      cause === undefined ? undefined : { cause },
    );
    this.name = 'NativeUnavailableError';
    this.path = path;
  }
}

/**
 * The repository (or installed app) root, `packageRoot()`: the nearest ancestor holding the
 * `droidway` package.json. Works from the sources (`electron/core/native/`, as under Vitest) and
 * from the compiled tree (`out/electron/core/native/`).
 */
export function findProjectRoot(): string {
  const root = packageRoot();
  if (root === null) {
    throw new NativeUnavailableError(
      join(dirname(fileURLToPath(import.meta.url)), 'native/build/Release/droidway_native.node'),
      'no droidway package.json above this module',
    );
  }
  return root;
}

/**
 * The path `loadNative()` loads: `$DROIDWAY_NATIVE_PATH` when set, else
 * `<root>/native/build/Release/droidway_native.node`.
 */
export function nativeModulePath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[NATIVE_PATH_ENV];
  if (override !== undefined && override !== '') return resolve(override);
  return join(findProjectRoot(), 'native', 'build', 'Release', 'droidway_native.node');
}

let cached: DroidwayNative | null = null;

/**
 * Loads the native module once per process and returns it.
 * @throws NativeUnavailableError (code `'ENATIVE'`) when the file is missing or fails to load.
 */
export function loadNative(): DroidwayNative {
  if (cached !== null) return cached;
  const path = nativeModulePath();
  if (!existsSync(path)) throw new NativeUnavailableError(path, 'the file does not exist');
  try {
    cached = createRequire(import.meta.url)(path) as DroidwayNative;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NativeUnavailableError(path, reason, error);
  }
  return cached;
}
