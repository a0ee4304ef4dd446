import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root. */
export const repoRoot = path.resolve(import.meta.dirname, '../../..');

const shim = path.join(repoRoot, 'electron/cli/droidway.js');

/**
 * Builds what the CLI and the detached session host run: the TypeScript into `out/`, the bundle
 * the shim prefers (`out/cli/`, so that it is never older than the sources) and, with `probe`,
 * the static isolation probe.
 */
export function buildCli(options: { probe?: boolean } = {}): void {
  try {
    execFileSync(
      process.execPath,
      [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      { cwd: repoRoot, stdio: 'pipe' },
    );
  } catch (e) {
    // tsc still emits when another module has a type error; only missing entry points matter.
    for (const entry of [
      'out/electron/cli/main.js',
      'out/electron/core/runtime/session-host-main.js',
    ])
      if (!existsSync(path.join(repoRoot, entry))) throw e;
  }
  execFileSync(process.execPath, [path.join(repoRoot, 'build/scripts/bundle-cli.js')], {
    cwd: repoRoot,
    stdio: 'pipe',
  });
  if (options.probe)
    execFileSync('make', ['-C', path.join(repoRoot, 'native/probe')], { stdio: 'pipe' });
}

/** What one run of the CLI gave. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `droidway` CLI; resolves with its exit status and output (never rejects on a status). */
export function droidway(...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [shim, ...args],
      { cwd: repoRoot, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** The host's mounts as comparable strings (mount ids excluded: they are not reused). */
export function mountTable(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(3).join(' '))
    .sort();
}
