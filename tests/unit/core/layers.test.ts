/**
 * The layers of electron/core (README, "Architecture"). The session stack: `session/` over
 * `runtime/` over `display/` over `native/`. Beside it, `doctor/` (it checks everything) over
 * `images/` over `host/` (the machine's facts). A module imports only from its own folder and
 * the folders below it, so "where does the bridge live" and "who starts a session" each have one
 * answer; and no folder of electron/core imports one that imports it back, so each can be read,
 * tested and moved from the bottom up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = path.join(import.meta.dirname, '../../../electron/core');
/** Each list runs from the bottom layer to the top one. */
const STACKS = [
  ['native', 'display', 'runtime', 'session'],
  ['host', 'images', 'doctor'],
] as const;

/** Every `from '…'`, `import '…'` and `import('…')` specifier of the .ts files under `dir`. */
function importsOf(dir: string): { file: string; spec: string }[] {
  const out: { file: string; spec: string }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)'([^']+)'/gm)) {
      out.push({ file, spec: m[1]! });
    }
  }
  return out;
}

/**
 * The node of electron/core a path lies in: its top folder, or for a file directly in
 * electron/core (`api.ts`, `package-root.ts`) that file's name without extension; null outside.
 */
function coreNode(target: string): string | null {
  const rel = path.relative(CORE, target);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const [top] = rel.split(path.sep);
  return top === undefined ? null : top.replace(/\.[jt]s$/, '');
}

/** The node of electron/core a relative specifier lands in, or null outside core. */
function coreFolder(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return coreNode(path.resolve(path.dirname(file), spec));
}

/** Node → imported node → the imports (`file → spec`) that make the edge; no self edges. */
type FolderGraph = Map<string, Map<string, string[]>>;

function folderGraph(): FolderGraph {
  const graph: FolderGraph = new Map();
  for (const { file, spec } of importsOf(CORE)) {
    const from = coreNode(file);
    const to = coreFolder(file, spec);
    if (from === null || to === null || from === to) continue;
    const out = graph.get(from) ?? new Map<string, string[]>();
    graph.set(from, out);
    out.set(to, [...(out.get(to) ?? []), `${path.relative(CORE, file)} → ${spec}`]);
  }
  return graph;
}

/**
 * The cycles of `graph`: its strongly connected components of more than one node (Tarjan),
 * each as its sorted node names, sorted.
 */
function cyclesOf(graph: FolderGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found.sort((a, b) => a.join().localeCompare(b.join()));
}

/** A cycle with the imports that close it, for a failure message a reader can act on. */
function describeCycle(graph: FolderGraph, members: string[]): string {
  const inside = new Set(members);
  const edges = members.flatMap((from) =>
    [...(graph.get(from) ?? new Map<string, string[]>())]
      .filter(([to]) => inside.has(to))
      .flatMap(([, imports]) => imports),
  );
  return `${members.join(' ⇄ ')}: ${edges.join('; ')}`;
}

describe('electron/core layers', () => {
  it('finds the imports it checks', () => {
    const graph = folderGraph();
    expect(graph.get('runtime')?.has('display')).toBe(true);
    expect(graph.get('images')?.has('host')).toBe(true);
    expect(graph.get('doctor')?.has('images')).toBe(true);
    expect(graph.get('doctor')?.has('host')).toBe(true);
    expect(graph.get('runtime')?.has('host')).toBe(true);
  });

  for (const layers of STACKS) {
    for (const [index, layer] of layers.entries()) {
      const above: readonly string[] = layers.slice(index + 1);
      it(`${layer}/ imports nothing from the layers above it (${above.join(', ') || 'none'})`, () => {
        const upward = importsOf(path.join(CORE, layer))
          .filter((i) => above.includes(coreFolder(i.file, i.spec) ?? ''))
          .map((i) => `${path.relative(CORE, i.file)} → ${i.spec}`);
        expect(upward).toEqual([]);
      });
    }
  }

  it('has no import cycle between the folders of electron/core', () => {
    const graph = folderGraph();
    expect(cyclesOf(graph).map((c) => describeCycle(graph, c))).toEqual([]);
  });

  it('sees an upward import when one is there (the check can fail)', () => {
    const file = path.join(CORE, 'display', 'x.ts');
    expect(coreFolder(file, '../runtime/session-bridge.js')).toBe('runtime');
    expect(coreFolder(file, './bridge.js')).toBe('display');
    expect(coreFolder(file, '../package-root.js')).toBe('package-root');
    expect(coreFolder(file, '../../../native/index.js')).toBeNull();
    expect(coreFolder(file, 'node:fs')).toBeNull();
    expect(coreNode(path.join(CORE, 'api.ts'))).toBe('api');
  });

  it('sees a cycle when one is there, with the imports that close it', () => {
    const graph: FolderGraph = new Map([
      ['images', new Map([['host', ['images/a.ts → ../host/b.js']]])],
      ['host', new Map([['doctor', ['host/b.ts → ../doctor/c.js']]])],
      [
        'doctor',
        new Map([
          ['images', ['doctor/c.ts → ../images/a.js']],
          ['native', ['doctor/c.ts → ../native/index.js']],
        ]),
      ],
      ['runtime', new Map([['native', ['runtime/d.ts → ../native/index.js']]])],
    ]);
    const cycles = cyclesOf(graph);
    expect(cycles).toEqual([['doctor', 'host', 'images']]);
    expect(describeCycle(graph, cycles[0]!)).toBe(
      'doctor ⇄ host ⇄ images: doctor/c.ts → ../images/a.js; host/b.ts → ../doctor/c.js; ' +
        'images/a.ts → ../host/b.js',
    );
    expect(cyclesOf(new Map([['a', new Map([['b', ['a → b']]])]]))).toEqual([]);
  });
});
