/**
 * Where Droidway's own files are: the folder holding its `package.json` (a checkout, or the
 * packaged app's `resources/app` / `app.asar.unpacked`), found by walking up from this module,
 * which runs from `electron/core/` (sources, under Vitest) or `out/electron/core/` (built).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null | undefined;

/**
 * The package root, or null when no `package.json` named `droidway` is above this module (or
 * above `start`, which tests give; only the answer for this module is cached).
 */
export function packageRoot(start?: string): string | null {
  if (start === undefined && cached !== undefined) return cached;
  let dir = start ?? path.dirname(fileURLToPath(import.meta.url));
  let found: string | null = null;
  for (;;) {
    if (readOwnManifest(dir) !== null) {
      found = dir;
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (start === undefined) cached = found;
  return found;
}

/** Droidway's `package.json` in `dir`, parsed, or null when there is none or it is not ours. */
export function readOwnManifest(dir: string): { version?: unknown; productName?: unknown } | null {
  const manifest = path.join(dir, 'package.json');
  if (!existsSync(manifest)) return null;
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as unknown;
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as { name?: unknown }).name === 'droidway'
    )
      return parsed as { version?: unknown; productName?: unknown };
  } catch {
    // Not JSON: not ours.
  }
  return null;
}
