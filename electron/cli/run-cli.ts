/**
 * Runs a built `droidway` program: maps how a run ended to an exit status and prints a failure as
 * one line. Kept apart from the command list so that the bundled entry (`entry.ts`) loads only
 * the command group a run names.
 */
import { Command, CommanderError } from 'commander';
import { CliRefusal, codeOf, exitStatusOf, humanMessage } from './cli-errors.js';
import { CliExit, EXIT_FAILURE, processIo, type CliIo } from './cli-io.js';

/** The program with nothing registered but its name, description and `--version`. */
export function baseProgram(version: string): Command {
  return (
    new Command('droidway')
      .description('Run Android apps in an isolated LXC container as Wayland windows')
      .version(version, '-V, --version', 'print the version')
      // Program-level options (`--launch … --instance NAME`) only before a subcommand, so that a
      // subcommand's `--instance` stays its own.
      .enablePositionalOptions()
  );
}

export { processIo, type CliIo } from './cli-io.js';

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
