#!/usr/bin/env node
// Bundles the processes a person waits on into out/cli/: the `droidway` CLI (one entry, a chunk
// per command group, loaded on demand), the APK reader worker, the session host and the display
// host. Each keeps the file name its parent spawns it by (`apk-worker.js` beside the reader
// client, and so on), so a bundled parent finds its bundled child beside itself.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = `${root}out/cli`;
await rm(outDir, { recursive: true, force: true });
await build({
  cwd: root,
  input: {
    droidway: 'electron/cli/entry.ts',
    'apk-worker': 'electron/core/apk/apk-worker.ts',
    'session-host-main': 'electron/core/runtime/session-host-main.ts',
    'display-host-main': 'electron/core/runtime/display-host-main.ts',
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
