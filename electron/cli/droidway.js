#!/usr/bin/env node
// The `droidway` bin: starts the bundled CLI (`npm run build` writes it to out/cli/), else the
// compiled one (`npm run build:ts`, out/electron/). Plain ESM JavaScript so that it runs before
// anything is built and can say what to do.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundled = new URL('../../out/cli/droidway.js', import.meta.url);
const compiled = new URL('../../out/electron/cli/entry.js', import.meta.url);
const entry = existsSync(fileURLToPath(bundled)) ? bundled : compiled;
if (entry === compiled && !existsSync(fileURLToPath(compiled))) {
  process.stderr.write('Droidway is not built yet: run `npm run build` (or `npm run setup`)\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
