/**
 * The `droidway` command line, over `electron/core`. Each command group lives in
 * `commands/<group>.ts` and adds itself with `register(program)`; this file only lists them and
 * maps how a run ended to an exit status. Started by the `droidway.js` shim.
 */
import type { Command } from 'commander';
import { createCoreApi } from '../core/api.js';
import { EXIT_FAILURE } from './cli-io.js';
import { baseProgram, processIo, runCli, type CliIo } from './run-cli.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerPolicy } from './commands/policy.js';
import { register as registerSession } from './commands/session.js';
import { register as registerImage } from './commands/image.js';
import { register as registerApp, registerLaunchOptions } from './commands/app.js';
import { register as registerApk } from './commands/apk.js';
import { register as registerBridge } from './commands/bridge.js';

/** Builds the `droidway` program with every command group registered. */
export function createProgram(version: string): Command {
  const program = baseProgram(version);
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

export { runCli, type CliIo } from './run-cli.js';

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
