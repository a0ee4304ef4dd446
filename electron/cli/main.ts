/**
 * The `droidway` command line, over `electron/core`. Each command group lives in
 * `commands/<group>.ts` and adds itself with `register(program)`; this file only lists them and
 * maps how a run ended to an exit status. Started by the `droidway.js` shim.
 */
import { Command, CommanderError } from 'commander';
import { createCoreApi } from '../core/api.js';
import { CliRefusal, codeOf, exitStatusOf, humanMessage } from './cli-errors.js';
import { CliExit, EXIT_FAILURE } from './cli-io.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerPolicy } from './commands/policy.js';
import { register as registerSession } from './commands/session.js';
import { register as registerImage } from './commands/image.js';
import { register as registerApp, registerLaunchOptions } from './commands/app.js';
import { register as registerApk } from './commands/apk.js';
import { register as registerBridge } from './commands/bridge.js';

/** Builds the `droidway` program with every command group registered. */
export function createProgram(version: string): Command {
  const program = new Command('droidway')
    .description('Run Android apps in an isolated LXC container as Wayland windows')
    .version(version, '-V, --version', 'print the version')
    // Program-level options (`--launch … --instance NAME`) only before a subcommand, so that a
    // subcommand's `--instance` stays its own.
    .enablePositionalOptions();
  registerDoctor(program);
  registerPolicy(program);
  registerSession(program);
  registerImage(program);
  registerApp(program);
  registerLaunchOptions(program);
  registerApk(program);
  registerBridge(program);
  return program;
}

/** Where a run writes and what it reads from its environment. */
export interface CliIo {
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

const processIo: CliIo = {
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
  env: process.env,
};

/** Commander copies these settings to a subcommand only when it is created, so set them on each. */
function configureTree(command: Command, io: CliIo): void {
  command.exitOverride().configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr });
  for (const sub of command.commands) configureTree(sub, io);
}

/**
 * Parses `argv` (node-style: `[node, script, ...args]`) with `program` and runs the command.
 * Returns the exit status: the command's own (0, or a `CliExit`), 0 for `--help`/`--version`,
 * 2 for a usage error (commander has printed it), and for anything thrown the status of the rule
 * in `cli-errors.ts` (1 for an answer such as a session that is not running, else 2), printed as
 * one line that starts with words; `DROIDWAY_DEBUG=1` adds the code and the stack. Never rejects.
 */
export async function runCli(
  program: Command,
  argv: readonly string[],
  io: CliIo = processIo,
): Promise<number> {
  configureTree(program, io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CliExit) return error.exitCode;
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_FAILURE;
    const debug = io.env.DROIDWAY_DEBUG === '1';
    const code = error instanceof CliRefusal ? error.code : codeOf(error);
    if (!(error instanceof CliRefusal && error.printed)) {
      const message =
        error instanceof CliRefusal ? error.message : humanMessage(error).split('\n')[0];
      // A person reads words first; the code is for scripts (--json) and for debugging.
      io.writeErr(`droidway: ${debug && code !== 'INTERNAL' ? `${code}: ` : ''}${message}\n`);
    }
    const cause = error instanceof CliRefusal ? error.cause : error;
    if (debug && cause instanceof Error && cause.stack !== undefined) {
      io.writeErr(`${cause.stack}\n`);
    }
    return error instanceof CliRefusal ? error.exitCode : exitStatusOf(error);
  }
}

/** Runs the CLI for this process's arguments and returns the exit status (see `runCli`). */
export async function main(
  argv: readonly string[] = process.argv,
  io: CliIo = processIo,
): Promise<number> {
  let version: string;
  try {
    version = (await createCoreApi()['app:info']()).version;
  } catch (error) {
    io.writeErr(
      `droidway: cannot read its own version: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return EXIT_FAILURE;
  }
  return runCli(createProgram(version), argv, io);
}
