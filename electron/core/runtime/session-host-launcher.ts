/**
 * Starting a detached session host, for `droidway session start`: the config (and seccomp
 * profile) go into the instance's data folder, the host runs as `node session-host-main.js …`
 * in its own session with stdio on `session-host.log`, and the launcher returns once the host's
 * control socket reports the guest running, or fails with the host's last log lines.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requestStatus } from './control-client.js';
import { isHostAlive, readHostRecord } from './host-record.js';
import type { InstancePaths } from './instance-paths.js';
import type { SessionBridgeConfig } from './session-bridge.js';
import type { SessionStorage } from './session-storage.js';
import { readLogTail } from './lxc.js';
import { RuntimeError } from './runtime-errors.js';
import type { SessionStatus } from './session.js';

/** Options of `launchSessionHost`. */
export interface LaunchOptions {
  paths: InstancePaths;
  lxcConfig: string;
  seccompProfile?: string;
  extraMountEntries?: readonly string[];
  /** The host's entry script; default `session-host-main.js` beside this module (built output). */
  hostScript?: string;
  /** How long to wait for `running`; default 60 s. */
  timeoutMs?: number;
  readyTimeoutMs?: number;
  /** The display bridge the host runs; default off. */
  bridge?: SessionBridgeConfig;
  /** The session's writable layers (see `session-storage.ts`); default the config's rootfs as is. */
  storage?: SessionStorage;
}

/** `session-host-main.js` next to this module. */
export function defaultHostScript(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'session-host-main.js');
}

/**
 * Launches the host and resolves with the running session's status. Rejects with
 * `SESSION_ALREADY_RUNNING` when a live host owns the instance, and `LXC_START_FAILED` with the
 * host log's tail when the host exits or reports an error before the guest runs.
 */
export async function launchSessionHost(options: LaunchOptions): Promise<SessionStatus> {
  const p = options.paths;
  const record = await readHostRecord(p.hostRecord);
  if (record !== null && record !== 'corrupt' && (await isHostAlive(record))) {
    throw new RuntimeError(
      'SESSION_ALREADY_RUNNING',
      `instance ${p.name} already has a session host (pid ${record.pid})`,
    );
  }
  await fs.mkdir(p.logDir, { recursive: true, mode: 0o700 });
  await fs.writeFile(p.configFile, options.lxcConfig, { mode: 0o600 });
  const args = [
    options.hostScript ?? defaultHostScript(),
    '--instance',
    p.name,
    '--data-root',
    path.dirname(p.dataDir),
    '--runtime-root',
    path.dirname(p.runtimeDir),
    '--config',
    p.configFile,
  ];
  if (options.seccompProfile !== undefined) {
    await fs.writeFile(p.seccompFile, options.seccompProfile, { mode: 0o600 });
    args.push('--seccomp', p.seccompFile);
  }
  for (const entry of options.extraMountEntries ?? []) args.push('--mount-entry', entry);
  if (options.storage !== undefined) args.push('--storage', JSON.stringify(options.storage));
  if (options.readyTimeoutMs !== undefined)
    args.push('--ready-timeout-ms', String(options.readyTimeoutMs));
  const bridge = options.bridge;
  if (bridge?.enabled === true)
    args.push(
      '--host-socket',
      bridge.hostSocket,
      '--bridge-settings',
      JSON.stringify(bridge.settings),
    );
  else if (bridge !== undefined) args.push('--bridge-off', bridge.reason);

  const out = openSync(p.hostLog, 'a', 0o600);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] });
    child.once('exit', (code, signal) => (exited = { code, signal }));
    child.once('error', () => {
      exited = { code: null, signal: null };
    });
    child.unref();
  } finally {
    closeSync(out);
  }

  const failed = async (why: string): Promise<never> => {
    throw new RuntimeError(
      'LXC_START_FAILED',
      `${why}\n--- last lines of ${p.hostLog} ---\n${await readLogTail(p.hostLog)}`,
    );
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== null) {
      const e = exited as { code: number | null; signal: NodeJS.Signals | null };
      return failed(
        `the session host exited (${e.signal ?? `status ${e.code}`}) before the guest ran`,
      );
    }
    const status = await requestStatus(p.controlSocket, 2000).catch(() => null);
    if (status?.state.name === 'running') return status;
    if (status?.state.name === 'error')
      return failed(`the session failed to start: ${status.state.reason ?? ''}`);
    if (Date.now() > deadline)
      return failed('the session host did not report a running guest in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
