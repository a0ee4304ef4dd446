/**
 * Entry point of the detached session host (`droidway session start` spawns it for a root
 * caller, with its stdio on the instance's `session-host.log`); its arguments are those of
 * `startHostFromArgs` (`session-host-run.ts`). It owns the session until the session ends, then
 * exits: 0 after a clean stop, 1 otherwise. SIGTERM and SIGINT stop the session first.
 */
import { hostLogLine, hostUntilDone, startHostFromArgs } from './session-host-run.js';

function log(line: string): void {
  process.stdout.write(hostLogLine(line));
}

async function main(): Promise<number> {
  const { host } = await startHostFromArgs(process.argv.slice(2), log);
  return hostUntilDone(host, log);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    log(`failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
