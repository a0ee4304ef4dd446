/**
 * Entry point of the detached session host (`droidway session start` spawns it with its stdio
 * on the instance's `session-host.log`):
 *
 *     node session-host-main.js --instance NAME --data-root DIR --runtime-root DIR \
 *       --config FILE [--seccomp FILE] [--mount-entry ENTRY]... [--ready-timeout-ms N] \
 *       [--host-socket PATH --bridge-settings JSON | --bridge-off REASON]
 *
 * With `--host-socket` it runs the display bridge toward that compositor socket, with the
 * settings of the compiled policy (see `parseBridgeSettings`); otherwise the bridge is off and
 * the status says why (`--bridge-off`).
 * It owns the session until the session ends, then exits: 0 after a clean stop, 1 otherwise.
 * SIGTERM and SIGINT stop the session first.
 */
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { peerCredentials } from '../native/index.js';
import { instancePaths } from './instance-paths.js';
import { parseBridgeSettings, type SessionBridgeConfig } from './session-bridge.js';
import { SessionHost } from './session-host.js';
import { parseSessionStorage } from './session-storage.js';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} session-host[${process.pid}]: ${line}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    strict: true,
    allowPositionals: false,
    options: {
      instance: { type: 'string' },
      'data-root': { type: 'string' },
      'runtime-root': { type: 'string' },
      config: { type: 'string' },
      seccomp: { type: 'string' },
      'mount-entry': { type: 'string', multiple: true },
      'ready-timeout-ms': { type: 'string' },
      'host-socket': { type: 'string' },
      'bridge-settings': { type: 'string' },
      'bridge-off': { type: 'string' },
      storage: { type: 'string' },
    },
  });
  if (!values.instance || !values.config) throw new Error('--instance and --config are required');
  const paths = instancePaths(values.instance, {
    ...(values['data-root'] ? { dataRoot: values['data-root'] } : {}),
    ...(values['runtime-root'] ? { runtimeRoot: values['runtime-root'] } : {}),
  });
  const readyTimeout =
    values['ready-timeout-ms'] === undefined ? undefined : Number(values['ready-timeout-ms']);
  if (readyTimeout !== undefined && !(Number.isInteger(readyTimeout) && readyTimeout > 0)) {
    throw new Error('--ready-timeout-ms must be a positive integer');
  }
  let bridge: SessionBridgeConfig;
  if (values['host-socket'] !== undefined) {
    if (values['bridge-settings'] === undefined)
      throw new Error('--host-socket needs --bridge-settings');
    bridge = {
      enabled: true,
      hostSocket: values['host-socket'],
      settings: parseBridgeSettings(values['bridge-settings']),
    };
  } else {
    bridge = { enabled: false, reason: values['bridge-off'] ?? 'no host display was given' };
  }
  const host = await SessionHost.start({
    bridge,
    session: {
      paths,
      lxcConfig: await fs.readFile(values.config, 'utf8'),
      ...(values.seccomp ? { seccompProfile: await fs.readFile(values.seccomp, 'utf8') } : {}),
      extraMountEntries: values['mount-entry'] ?? [],
      ...(readyTimeout !== undefined ? { readyTimeoutMs: readyTimeout } : {}),
      ...(values.storage !== undefined ? { storage: parseSessionStorage(values.storage) } : {}),
    },
    peerCredentials: (fd) => peerCredentials(fd),
    log,
  });
  log(`session ${paths.name} running, control socket ${host.socketPath}`);
  const stop = (signal: string): void => {
    log(`${signal}: stopping the session`);
    void host.stop();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {});
  const final = await host.whenDone();
  return final.name === 'stopped' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    log(`failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
