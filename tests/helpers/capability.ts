import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { it, type TestFunction } from 'vitest';

/** True when running under CI, where a missing capability is a failure, not a skip. */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Declares a test that needs a machine capability. Locally, a missing capability skips the test
 * with its reason; in CI, where `.ci/run` installs every capability, it fails the test instead.
 * @param name test name
 * @param missing the reason the capability is missing, or null when present
 */
export function itNeeds(
  name: string,
  missing: string | null,
  fn: TestFunction,
  timeout?: number,
): void {
  if (missing === null) {
    it(name, fn, timeout);
  } else if (inCI) {
    it(name, () => {
      throw new Error(`required capability missing in CI: ${missing}`);
    });
  } else {
    it.skip(`${name} [skipped: ${missing}]`, fn);
  }
}

/** Reason the current process is not root, or null. */
export function needRoot(): string | null {
  return process.getuid?.() === 0 ? null : 'needs root';
}

/** `'<tool> is not installed'` for the first of `tools` not on PATH, or null when all are. */
export function missingTool(tools: readonly string[]): string | null {
  const dirs = (process.env.PATH ?? '').split(':').filter((dir) => dir !== '');
  const absent = tools.find((tool) => !dirs.some((dir) => existsSync(join(dir, tool))));
  return absent === undefined ? null : `${absent} is not installed`;
}
