/**
 * How this process runs another Node entry script (the session host, the display host). Its own
 * module, so a light importer (`display-host.ts`, reached by `droidway session status`) does not
 * load the session host's code with it.
 */

/**
 * How to run a Node entry script from this process: `process.execPath` in Node; in Electron that
 * is the Electron binary, which runs a script as plain Node only with `ELECTRON_RUN_AS_NODE=1`.
 */
export function nodeCommand(): { command: string; env: Record<string, string> } {
  return process.versions.electron !== undefined
    ? { command: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' } }
    : { command: process.execPath, env: {} };
}
