/**
 * The bundled `droidway` entry (`npm run build:cli` writes it to `out/cli/droidway.js`): it reads
 * only the command group a run names, so `droidway session status` never loads the APK reader
 * and `droidway --version` loads no command and not even commander. `main.ts` keeps the whole program for tests.
 */
import type { Command } from 'commander';
import { packageRoot, readOwnManifest } from '../core/package-root.js';
import { EXIT_FAILURE, processIo, type CliIo } from './cli-io.js';

type Registrar = (program: Command) => void;

/**
 * Each command group by the name it registers, loaded on demand. The order is the order of
 * `createProgram` in `main.ts`, so `--help` lists the commands the same way.
 */
const GROUPS: Readonly<Record<string, () => Promise<readonly Registrar[]>>> = {
  doctor: async () => {
    const m = await import('./commands/doctor.js');
    return [(p) => m.register(p)];
  },
  policy: async () => {
    const m = await import('./commands/policy.js');
    return [(p) => m.register(p)];
  },
  session: async () => [(await import('./commands/session.js')).register],
  image: async () => {
    const m = await import('./commands/image.js');
    return [(p) => m.register(p)];
  },
  app: async () => {
    const m = await import('./commands/app.js');
    return [m.register, m.registerLaunchOptions];
  },
  apk: async () => {
    const m = await import('./commands/apk.js');
    return [(p) => m.register(p)];
  },
  bridge: async () => [(await import('./commands/bridge.js')).register],
};

/**
 * The groups a run needs, from its arguments (after `node script`): none for a leading
 * `--version`, the one named first, else every group (help, `--launch …`, an unknown command,
 * which commander answers with the list of commands).
 */
export function groupsFor(args: readonly string[]): readonly string[] {
  const first = args[0];
  if (first === '-V' || first === '--version') return [];
  if (first !== undefined && Object.hasOwn(GROUPS, first)) return [first];
  return Object.keys(GROUPS);
}

/** The version in the `package.json` named `droidway` above this file (or above `start`). */
export function packageVersion(start?: string): string {
  const root = packageRoot(start);
  const version = root === null ? undefined : readOwnManifest(root)?.version;
  if (typeof version !== 'string') throw new Error('package.json of droidway not found');
  return version;
}

/**
 * Whether a run reads an APK in the reader process as soon as its arguments are parsed:
 * `apk info …` (not its help). Such a run starts the reader before anything else, so that the
 * reader's Node start overlaps the CLI's own (commander, the command's chunk, parsing).
 */
export function readsApk(args: readonly string[]): boolean {
  return (
    args[0] === 'apk' && args[1] === 'info' && !args.includes('--help') && !args.includes('-h')
  );
}

/** Runs the CLI for `argv` (node-style) and returns the exit status (see `runCli`). */
export async function main(
  argv: readonly string[] = process.argv,
  io: CliIo = processIo,
): Promise<number> {
  const args = argv.slice(2);
  // The read takes this reader (the same defaults as `apk info`'s); unused, it ends unref'd.
  if (readsApk(args)) (await import('../core/apk/apk-worker-client.js')).prestartApkReader();
  let version: string;
  try {
    version = packageVersion();
  } catch (error) {
    io.writeErr(
      `droidway: cannot read its own version: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return EXIT_FAILURE;
  }
  // `droidway --version` alone is answered here, as commander would print it, so the run never
  // loads commander (most of the entry chunk before): the rest goes through `run-cli.ts`.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    io.writeOut(`${version}\n`);
    return 0;
  }
  const { baseProgram, runCli } = await import('./run-cli.js');
  const program = baseProgram(version);
  const loaded = await Promise.all(groupsFor(args).map((name) => GROUPS[name]!()));
  for (const registrars of loaded) for (const register of registrars) register(program);
  return runCli(program, argv, io);
}
