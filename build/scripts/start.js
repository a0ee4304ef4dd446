#!/usr/bin/env node
/**
 * `npm start`: runs the built desktop app in Electron.
 *
 * Checks, without building or downloading anything, that the Electron binary exists and that the
 * app is built (`npm run build`), then starts Electron on this directory, whose package.json
 * `main` is `out/electron/main/main.js`. Where the binary is missing — its install-time download
 * was skipped (`ELECTRON_SKIP_BINARY_DOWNLOAD=1`) or blocked — it says so, how to get it, and how
 * to use Droidway without it, and exits 1. Otherwise it exits with Electron's exit status.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/** Files `npm run build` produces that the window cannot start without. */
const BUILD_OUTPUTS = [
  ['out/electron/main/main.js', 'npm run build:ts'],
  ['out/electron/preload/preload.cjs', 'npm run build:ts'],
  ['renderer/dist/index.html', 'npm run build:renderer'],
];

/**
 * Finds the Electron binary the way `require('electron')` does, but first checks the files it
 * would read: when `path.txt` or the binary is absent, Electron's index.js starts a download
 * (which, where it was skipped or blocked, hangs or fails), and `npm start` must not do that
 * behind the user's back.
 * @returns {{ path: string } | { missing: string }}
 */
function findElectron() {
  let packageDir;
  try {
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is not installed (run `npm install`)' };
  }
  if (!process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const pathFile = join(packageDir, 'path.txt');
    if (!existsSync(pathFile)) {
      return { missing: `${rel(packageDir)} has no binary (no path.txt)` };
    }
    const binary = join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim());
    if (!existsSync(binary)) return { missing: `${rel(binary)} does not exist` };
  }
  let binary;
  try {
    binary = require('electron');
  } catch (error) {
    return {
      missing: `require('electron') failed: ${error instanceof Error ? error.message : error}`,
    };
  }
  if (typeof binary !== 'string' || !existsSync(binary)) {
    return { missing: `${String(binary)} does not exist` };
  }
  return { path: binary };
}

function rel(path) {
  return relative(root, path) || '.';
}

function fail(lines) {
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}

const electron = findElectron();
if ('missing' in electron) {
  const skipping = process.env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  fail([
    'droidway: cannot start the desktop app: the Electron binary is missing.',
    `  ${electron.missing}.`,
    '  Its download, which normally runs when the node modules are installed, was skipped',
    '  (ELECTRON_SKIP_BINARY_DOWNLOAD) or blocked (no access to Electron\u2019s download server).',
    '',
    'To get it, with network access:',
    ...(skipping && skipping !== '0' && skipping !== 'false'
      ? ['  unset ELECTRON_SKIP_BINARY_DOWNLOAD   (it is set in this shell)']
      : []),
    '  npm rebuild electron',
    '  (or: node node_modules/electron/install.js)',
    '',
    'Without it, Droidway works from the command line:',
    '  npx droidway doctor        can this machine run Android in a container, and what to fix',
    '  npx droidway --help        every command',
  ]);
}

const unbuilt = BUILD_OUTPUTS.filter(([file]) => !existsSync(join(root, file)));
if (unbuilt.length > 0) {
  fail([
    'droidway: cannot start the desktop app: it is not built.',
    ...unbuilt.map(([file, command]) => `  missing ${file}  (${command})`),
    '',
    'Build it with:',
    '  npm run build',
  ]);
}

// Electron is given the app directory, not main.js, so that it reads package.json: the app's
// name, and with it the user-data directory and the window class, come from there.
const child = spawn(electron.path, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => fail([`droidway: cannot run ${electron.path}: ${error.message}`]));
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
});
