/**
 * What a CLI command needs from its surroundings, so commands are testable in-process: where to
 * write, and how to end with a status other than 0 without calling `process.exit` (which would
 * cut off piped output).
 */
import type { Command } from 'commander';

/** Where a run writes and what it reads from its environment. */
export interface CliIo {
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** The running process's streams and environment. */
export const processIo: CliIo = {
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
  env: process.env,
};

/** Exit status of a run where the command worked but the answer is "no" (e.g. doctor: cannot run). */
export const EXIT_NEGATIVE = 1;
/** Exit status of a usage error or an unexpected failure. */
export const EXIT_FAILURE = 2;

/**
 * Thrown by a command action to end the run with `exitCode` after its output is written;
 * `runCli` turns it into the return value. Not an error to report.
 */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}

/** Output streams of a command: the ones configured on the program (inherited by subcommands). */
export function outputOf(command: Command): {
  out: (text: string) => void;
  err: (text: string) => void;
} {
  const config = command.configureOutput();
  return {
    out: (text) => (config.writeOut ?? ((s: string) => process.stdout.write(s)))(text),
    err: (text) => (config.writeErr ?? ((s: string) => process.stderr.write(s)))(text),
  };
}
