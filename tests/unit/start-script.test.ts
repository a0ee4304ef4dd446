import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const startScript = join(repoRoot, 'build', 'scripts', 'start.js');
const electronPackage = join(repoRoot, 'node_modules', 'electron');
const binaryInstalled = existsSync(join(electronPackage, 'path.txt'));

/** Environment without the variables that change where start.js looks for Electron. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.ELECTRON_OVERRIDE_DIST_PATH;
  if (!('ELECTRON_SKIP_BINARY_DOWNLOAD' in extra)) delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  return env;
}

function run(script: string, env: NodeJS.ProcessEnv, args: string[] = []) {
  return spawnSync(process.execPath, [script, ...args], { env, encoding: 'utf8', timeout: 15_000 });
}

function expectMissingBinaryMessage(stderr: string): void {
  expect(stderr).toContain('the Electron binary is missing');
  expect(stderr).toMatch(/skipped[\s\S]*ELECTRON_SKIP_BINARY_DOWNLOAD[\s\S]*blocked/);
  expect(stderr).toContain('npm rebuild electron');
  expect(stderr).toContain('node node_modules/electron/install.js');
  expect(stderr).toContain('npx droidway doctor');
}

describe('npm start (build/scripts/start.js)', () => {
  it.skipIf(binaryInstalled)(
    'in this checkout, without the Electron binary, explains what is missing and exits 1',
    () => {
      const result = run(startScript, cleanEnv());
      expect(result.status).toBe(1);
      expectMissingBinaryMessage(result.stderr);
      expect(result.stdout).toBe('');
    },
  );

  describe('in a scratch app layout', () => {
    let dir = '';
    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = '';
    });

    /**
     * A copy of start.js in a minimal app directory, with the real electron package's index.js
     * and, when `binary` is given, a stand-in Electron binary (a shell script) in its place.
     */
    function layout(options: { binary?: string; built: boolean }): string {
      dir = mkdtempSync(join(tmpdir(), 'droidway-start-'));
      const put = (path: string, text: string): void => {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      };
      put('package.json', JSON.stringify({ name: 'droidway', type: 'module' }));
      mkdirSync(join(dir, 'build/scripts'), { recursive: true });
      copyFileSync(startScript, join(dir, 'build/scripts/start.js'));
      put(
        'node_modules/electron/package.json',
        JSON.stringify({ name: 'electron', main: 'index.js' }),
      );
      copyFileSync(join(electronPackage, 'index.js'), join(dir, 'node_modules/electron/index.js'));
      if (options.binary !== undefined) {
        put('node_modules/electron/path.txt', 'electron');
        put('node_modules/electron/dist/electron', options.binary);
        chmodSync(join(dir, 'node_modules/electron/dist/electron'), 0o755);
      }
      if (options.built) {
        put('out/electron/main/main.js', '');
        put('out/electron/preload/preload.cjs', '');
        put('renderer/dist/index.html', '');
      }
      return join(dir, 'build/scripts/start.js');
    }

    it('without a binary: exits 1 with the message, and starts no download', () => {
      const script = layout({ built: true });
      const result = run(script, cleanEnv({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }));
      expect(result.status).toBe(1);
      expectMissingBinaryMessage(result.stderr);
      expect(result.stderr).toContain('unset ELECTRON_SKIP_BINARY_DOWNLOAD');
      expect(result.stdout).not.toContain('Downloading Electron');
    });

    it('with a path.txt naming a binary that is gone: exits 1 naming the missing file', () => {
      const script = layout({ binary: '', built: true });
      rmSync(join(dir, 'node_modules/electron/dist/electron'));
      const result = run(script, cleanEnv());
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('node_modules/electron/dist/electron does not exist');
      expectMissingBinaryMessage(result.stderr);
    });

    it('with a binary but no build: exits 1 listing what to build, and does not start it', () => {
      const script = layout({ binary: '#!/bin/sh\necho started\n', built: false });
      const result = run(script, cleanEnv());
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('it is not built');
      expect(result.stderr).toContain('missing out/electron/main/main.js  (npm run build:ts)');
      expect(result.stderr).toContain('missing renderer/dist/index.html  (npm run build:renderer)');
      expect(result.stderr).toContain('npm run build');
      expect(result.stdout).not.toContain('started');
    });

    it('with a binary and a build: runs it on the app directory and passes on its exit status', () => {
      const script = layout({
        binary: '#!/bin/sh\necho "electron-args: $*"\nexit 7\n',
        built: true,
      });
      const result = run(script, cleanEnv(), ['--launch', 'com.example.app']);
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe(`electron-args: ${dir}/ --launch com.example.app`);
      expect(result.status).toBe(7);
    });
  });
});
