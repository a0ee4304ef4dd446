#!/usr/bin/env node
// Bundles the processes a person waits on into out/cli/: the `droidway` CLI (one entry, a chunk
// per command group, loaded on demand), the APK reader worker, the session host and the display
// host. Each keeps the file name its parent spawns it by (`session-host-main.js` beside the
// session code, and so on), so a bundled parent finds its bundled child beside itself. The APK
// reader is built apart, as one CommonJS file `apk-worker.cjs` (the reader client prefers it to
// `apk-worker.js`): a person waits on its start in every `droidway apk info`, Node starts a
// CommonJS file faster than ES modules, and a reader started by root drops to nobody before it
// reads an APK, after which it must need no other file (the checkout may be root's alone).
//
// A run loads its command's chunk and every chunk that chunk imports statically; the build
// refuses an output where a light command's chunks hold a module it must not load (see
// MUST_NOT_LOAD), so a static import that drags a validator or the session host back into
// `droidway session status` fails here rather than only in a benchmark.
import { rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = `${root}out/cli`;
await rm(outDir, { recursive: true, force: true });
const { output } = await build({
  cwd: root,
  input: {
    droidway: 'electron/cli/entry.ts',
    'session-host-main': 'electron/core/runtime/session-host-main.ts',
    'display-host-main': 'electron/core/runtime/display-host-main.ts',
    // The privileged helper pkexec starts: one bundle file instead of ~150 modules read one by
    // one at each session start of a desktop user.
    'helper-main': 'electron/core/privileged/helper-main.ts',
  },
  platform: 'node',
  // Electron and the native addon are loaded at run time by path, never bundled.
  external: [/^electron$/, /\.node$/],
  logLevel: 'warn',
  output: {
    dir: outDir,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    minify: false,
    sourcemap: true,
  },
});

const reader = await build({
  cwd: root,
  input: { 'apk-worker': 'electron/core/apk/apk-worker.ts' },
  platform: 'node',
  logLevel: 'warn',
  // What the reader loads on demand stays in its file (evaluated only when needed).
  transform: { define: { __DROIDWAY_SELF_CONTAINED__: 'true' } },
  output: {
    dir: outDir,
    format: 'cjs',
    entryFileNames: '[name].cjs',
    codeSplitting: false,
    minify: false,
    sourcemap: true,
  },
});

/**
 * Modules (paths from the repository root) that a chunk, by the module it was built for, must
 * not load statically: its own chunk and the chunks it imports. They may still be imported on
 * demand (`import()`), e.g. by `session start`.
 */
const MUST_NOT_LOAD = {
  'electron/cli/entry.ts': [
    'electron/cli/commands/',
    'electron/generated/',
    'electron/cli/run-cli.ts',
    'node_modules/commander/',
  ],
  'electron/cli/commands/session.ts': [
    'electron/generated/',
    'electron/core/session/plan.ts',
    'electron/core/runtime/session-host.ts',
  ],
  'electron/cli/commands/apk.ts': ['electron/generated/'],
  // `policy check|show|compile` never load the session and inspection code `policy verify` uses,
  // nor `app list|remove` the session start behind `app launch`.
  'electron/cli/commands/policy.ts': [
    'electron/core/session/verify.ts',
    'electron/core/runtime/session-host.ts',
  ],
  'electron/cli/commands/app.ts': [
    'electron/core/apps/launch.ts',
    'electron/core/session/start.ts',
    'electron/core/runtime/session-host.ts',
  ],
};

const chunks = new Map(output.filter((o) => o.type === 'chunk').map((c) => [c.fileName, c]));
/** The module ids a chunk loads before it runs: its own and those of its static imports. */
function staticModules(chunk, seen = new Set()) {
  if (seen.has(chunk.fileName)) return [];
  seen.add(chunk.fileName);
  return [
    ...chunk.moduleIds,
    ...chunk.imports.flatMap((f) => (chunks.has(f) ? staticModules(chunks.get(f), seen) : [])),
  ];
}
const problems = [];
const builtin = (id) => id.startsWith('node:') || builtinModules.includes(id);
for (const o of reader.output)
  if (o.type === 'chunk' && (o.fileName !== 'apk-worker.cjs' || !o.imports.every(builtin)))
    problems.push(`the APK reader is not one file: ${o.fileName} imports ${o.imports.join(', ')}`);
for (const [facade, banned] of Object.entries(MUST_NOT_LOAD)) {
  const chunk = [...chunks.values()].find((c) => c.facadeModuleId === `${root}${facade}`);
  if (chunk === undefined) {
    problems.push(`no chunk is built for ${facade}`);
    continue;
  }
  for (const id of staticModules(chunk)) {
    const rel = id.startsWith(root) ? id.slice(root.length) : id;
    if (banned.some((b) => rel.startsWith(b)))
      problems.push(`${facade} loads ${rel} (in ${chunk.fileName} or a chunk it imports)`);
  }
}
if (problems.length > 0) {
  process.stderr.write(
    `bundle-cli: a command loads what it must not:\n  ${problems.join('\n  ')}\n`,
  );
  process.exitCode = 1;
}
