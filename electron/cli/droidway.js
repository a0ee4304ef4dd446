#!/usr/bin/env node
// The `droidway` bin: starts the compiled CLI (`npm run build:ts` writes it to out/). Plain ESM
// JavaScript so that it runs before anything is built and can say what to do.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../../out/electron/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('Droidway is not built yet: run `npm run build` (or `npm run setup`)\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
