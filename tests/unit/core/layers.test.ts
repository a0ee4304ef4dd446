/**
 * The session stack's layers (README, "Architecture"): `session/` over `runtime/` over
 * `display/` over `native/`. A module imports only from its own folder and the folders below
 * it, so "where does the bridge live" and "who starts a session" each have one answer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = path.join(import.meta.dirname, '../../../electron/core');
const LAYERS = ['native', 'display', 'runtime', 'session'] as const;

/** Every `from '…'` and `import('…')` specifier of the .ts files under `dir`. */
function importsOf(dir: string): { file: string; spec: string }[] {
  const out: { file: string; spec: string }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'([^']+)'/g)) {
      out.push({ file, spec: m[1]! });
    }
  }
  return out;
}

/** The folder of electron/core a relative specifier lands in, or null outside core. */
function coreFolder(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const rel = path.relative(CORE, path.resolve(path.dirname(file), spec));
  if (rel.startsWith('..')) return null;
  const [top] = rel.split(path.sep);
  return top ?? null;
}

describe('electron/core layers', () => {
  it('finds the imports it checks', () => {
    const runtime = importsOf(path.join(CORE, 'runtime'));
    expect(runtime.some((i) => coreFolder(i.file, i.spec) === 'display')).toBe(true);
  });

  for (const [index, layer] of LAYERS.entries()) {
    it(`${layer}/ imports nothing from the layers above it`, () => {
      const above = new Set<string>(LAYERS.slice(index + 1));
      const upward = importsOf(path.join(CORE, layer))
        .filter((i) => above.has(coreFolder(i.file, i.spec) ?? ''))
        .map((i) => `${path.relative(CORE, i.file)} → ${i.spec}`);
      expect(upward).toEqual([]);
    });
  }

  it('sees an upward import when one is there (the check can fail)', () => {
    const file = path.join(CORE, 'display', 'x.ts');
    expect(coreFolder(file, '../runtime/session-bridge.js')).toBe('runtime');
    expect(coreFolder(file, './bridge.js')).toBe('display');
    expect(coreFolder(file, '../../../native/index.js')).toBeNull();
    expect(coreFolder(file, 'node:fs')).toBeNull();
  });
});
