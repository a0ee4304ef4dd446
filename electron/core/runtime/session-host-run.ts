/**
 * What a session host does, from its command line to the end of its session: shared by the
 * detached host process (`session-host-main.js`, spawned for a root caller) and by the
 * privileged helper, which goes on as the host of the session it started for a desktop user
 * instead of paying for one more process start (see `privileged/helper-main.ts`).
 *
 *     --instance NAME --data-root DIR --runtime-root DIR --config FILE [--owner UID]
 *     [--seccomp FILE] [--mount-entry ENTRY]... [--ready-timeout-ms N] [--storage JSON]
 *     [--user-bridge-folder UID:GID]
 *     [--host-socket PATH --bridge-settings JSON [--bridge-guest-owner UID:GID] | --bridge-off REASON]
 *
 * With `--host-socket` it runs the display bridge toward that compositor socket, with the
 * settings of the compiled policy (see `parseBridgeSettings`); otherwise the bridge is off and
 * the status says why (`--bridge-off`). `--bridge-guest-owner` gives the bridge socket and its
 * folder to the guest's compositor client (its uid and gid as the host sees them).
 */
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { peerCredentials } from '../native/index.js';
import { instancePaths, type InstancePaths } from './instance-paths.js';
import {
  parseBridgeSettings,
  parseGuestOwner,
  type SessionBridgeConfig,
} from './session-bridge.js';
import { SessionHost } from './session-host.js';
import { parseSessionStorage } from './session-storage.js';

/** A host log line: time, pid, text. */
export function hostLogLine(line: string): string {
  return `${new Date().toISOString()} session-host[${process.pid}]: ${line}\n`;
}

/**
 * Starts the session the host command line `args` describes, in this process. Resolves with the
 * host once the guest runs (see `SessionHost.start`); `log` takes its progress lines.
 */
export async function startHostFromArgs(
  args: readonly string[],
  log: (line: string) => void,
): Promise<{ host: SessionHost; paths: InstancePaths }> {
  const { values } = parseArgs({
    args: [...args],
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
      owner: { type: 'string' },
      'user-bridge-folder': { type: 'string' },
      'bridge-guest-owner': { type: 'string' },
    },
  });
  if (!values.instance || !values.config) throw new Error('--instance and --config are required');
  const paths = instancePaths(values.instance, {
    ...(values['data-root'] ? { dataRoot: values['data-root'] } : {}),
    ...(values['runtime-root'] ? { runtimeRoot: values['runtime-root'] } : {}),
    ...(values.owner !== undefined ? { owner: Number(values.owner) } : {}),
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
    const owner = values['bridge-guest-owner'];
    bridge = {
      enabled: true,
      hostSocket: values['host-socket'],
      settings: parseBridgeSettings(values['bridge-settings']),
      ...(owner !== undefined ? { guestOwner: parseGuestOwner(owner) } : {}),
    };
  } else {
    bridge = { enabled: false, reason: values['bridge-off'] ?? 'no host display was given' };
  }
  const userFolder = values['user-bridge-folder'];
  const host = await SessionHost.start({
    ...(userFolder !== undefined ? { userBridgeFolder: parseGuestOwner(userFolder) } : {}),
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
  return { host, paths };
}

/**
 * Hosts a started session to its end: SIGTERM and SIGINT stop the session first, SIGHUP is
 * ignored. Resolves with the exit status: 0 after a clean stop, 1 otherwise.
 */
export async function hostUntilDone(
  host: SessionHost,
  log: (line: string) => void,
): Promise<number> {
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
