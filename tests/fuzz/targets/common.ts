/** Helpers shared by the fuzz targets. */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApkError } from '../../../electron/core/apk/apk-errors.js';
import { RuntimeError } from '../../../electron/core/runtime/runtime-errors.js';

/** True for the APK reader's own refusal. */
export const isApkError = (e: unknown): boolean => e instanceof ApkError;

/** True for the runtime's own refusal (control socket, fd channel). */
export const isRuntimeError = (e: unknown): boolean => e instanceof RuntimeError;

/**
 * A scratch file the zip-level targets rewrite for every input (on tmpfs when there is one); its
 * directory is made on first use and again after `remove()`.
 */
export function scratchFile(name: string): { write: (b: Buffer) => string; remove: () => void } {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  let dir: string | undefined;
  return {
    write: (b: Buffer) => {
      dir ??= mkdtempSync(path.join(base, `droidway-fuzz-${name}-`));
      const file = path.join(dir, 'input.apk');
      writeFileSync(file, b);
      return file;
    },
    remove: () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

/** JSON seeds as buffers. */
export function jsonSeeds(values: unknown[]): Buffer[] {
  return values.map((v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
}

/** Tokens for JSON-shaped inputs. */
export const JSON_TOKENS = [
  '{', '}', '[', ']', ',', ':', '"', 'null', 'true', 'false', '0', '-1', '1e309', '1.5',
  '9007199254740993', '"\\u0000"', '"\\ud800"', '"__proto__"', '"constructor"', '{"a":1}',
  '[[[[[[[[', ']]]]]]]]', '"x"', '""',
]; // prettier-ignore
