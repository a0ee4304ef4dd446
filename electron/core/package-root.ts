/**
 * Where Droidway's own files are: the folder holding its `package.json` (a checkout, or the
 * packaged app's `resources/app` / `app.asar.unpacked`), found by walking up from this module,
 * which runs from `electron/core/` (sources, under Vitest) or `out/electron/core/` (built).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null | undefined;

/** The package root, or null when no `package.json` named `droidway` is above this module. */
export function packageRoot(): string | null {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'droidway')
          return (cached = dir);
      } catch {
        // Not ours; keep walking.
      }
    }
    dir = path.dirname(dir);
  }
  return (cached = null);
}
