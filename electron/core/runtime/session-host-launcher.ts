/**
 * Starting a detached session host, for `droidway session start`: the config (and seccomp
 * profile) go into the instance's data folder, the host runs as `node session-host-main.js …`
 * in its own session with stdio on `session-host.log`, and the launcher returns once the host's
 * control socket reports the guest running, or fails with the host's last log lines.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requestStatus } from './control-client.js';
import { nodeCommand } from './node-command.js';
import { isHostAlive, readHostRecord } from './host-record.js';
import type { InstancePaths } from './instance-paths.js';
import type { SessionBridgeConfig } from './session-bridge.js';
import type { SessionStorage } from './session-storage.js';
import { readLogTail } from './lxc.js';
import { RuntimeError } from './runtime-errors.js';
import type { SessionStatus } from './session.js';
import { hostLogLine, hostUntilDone, startHostFromArgs } from './session-host-run.js';

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
  /** A desktop user's bridge runs on the user's side: prepare its socket folder (uid, gid). */
  userBridgeFolder?: { uid: number; gid: number };
}

export { nodeCommand } from './node-command.js';

/** `session-host-main.js` next to this module. */
export function defaultHostScript(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'session-host-main.js');
}

/**
 * What both ways of hosting a session do first: refuses with `SESSION_ALREADY_RUNNING` when a
 * live host owns the instance, writes the LXC config (and seccomp profile) into the instance's
 * data folder, and returns the host's command line (see `session-host-run.ts`).
 */
async function prepareHostArgs(options: LaunchOptions): Promise<string[]> {
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
    '--instance',
    p.name,
    '--data-root',
    path.dirname(p.dataDir),
    '--runtime-root',
    path.dirname(p.runtimeDir),
    '--config',
    p.configFile,
    '--owner',
    String(p.owner),
  ];
  if (options.seccompProfile !== undefined) {
    await fs.writeFile(p.seccompFile, options.seccompProfile, { mode: 0o600 });
    args.push('--seccomp', p.seccompFile);
  }
  for (const entry of options.extraMountEntries ?? []) args.push('--mount-entry', entry);
  if (options.storage !== undefined) args.push('--storage', JSON.stringify(options.storage));
  if (options.readyTimeoutMs !== undefined)
    args.push('--ready-timeout-ms', String(options.readyTimeoutMs));
  if (options.userBridgeFolder !== undefined)
    args.push(
      '--user-bridge-folder',
      `${options.userBridgeFolder.uid}:${options.userBridgeFolder.gid}`,
    );
  const bridge = options.bridge;
  if (bridge?.enabled === true) {
    args.push(
      '--host-socket',
      bridge.hostSocket,
      '--bridge-settings',
      JSON.stringify(bridge.settings),
    );
    if (bridge.guestOwner)
      args.push('--bridge-guest-owner', `${bridge.guestOwner.uid}:${bridge.guestOwner.gid}`);
  } else if (bridge !== undefined) args.push('--bridge-off', bridge.reason);
  return args;
}

/**
 * Launches the host and resolves with the running session's status. Rejects with
 * `SESSION_ALREADY_RUNNING` when a live host owns the instance, and `LXC_START_FAILED` with the
 * host log's tail when the host exits or reports an error before the guest runs.
 */
export async function launchSessionHost(options: LaunchOptions): Promise<SessionStatus> {
  const p = options.paths;
  const args = [options.hostScript ?? defaultHostScript(), ...(await prepareHostArgs(options))];

  const out = openSync(p.hostLog, 'a', 0o600);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  try {
    const node = nodeCommand();
    const child = spawn(node.command, args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...node.env },
    });
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

/** A session hosted by this process (see `hostSessionHere`). */
export interface HostedHere {
  status: SessionStatus;
  /** Resolves with the exit status once the session has ended and the host cleaned up. */
  untilDone(): Promise<number>;
  /** The host log, open for appending; this process's stdout and stderr go there once detached. */
  logFd: number;
}

/**
 * Hosts the session in this process instead of spawning a host: what the privileged helper does
 * for a desktop user, so the session start pays for one process start (pkexec's) instead of
 * two. Progress lines go to the instance's `session-host.log` from the start. Resolves once the
 * guest runs; rejects as `launchSessionHost` does (`LXC_START_FAILED` with the log's tail).
 */
export async function hostSessionHere(options: LaunchOptions): Promise<HostedHere> {
  const p = options.paths;
  const args = await prepareHostArgs(options);
  const logFd = openSync(p.hostLog, 'a', 0o600);
  const log = (line: string): void => {
    try {
      writeSync(logFd, hostLogLine(line));
    } catch {
      // A full disk loses log lines, not the session.
    }
  };
  let started: Awaited<ReturnType<typeof startHostFromArgs>>;
  try {
    started = await startHostFromArgs(args, log);
  } catch (e) {
    log(`failed: ${e instanceof Error ? e.message : String(e)}`);
    closeSync(logFd);
    if (e instanceof RuntimeError && e.code === 'SESSION_ALREADY_RUNNING') throw e;
    throw new RuntimeError(
      'LXC_START_FAILED',
      `the session failed to start: ${e instanceof Error ? e.message : String(e)}\n--- last lines of ${p.hostLog} ---\n${await readLogTail(p.hostLog)}`,
    );
  }
  const { host } = started;
  return {
    status: { ...host.session.status(), bridge: host.bridge.status() },
    untilDone: () => hostUntilDone(host, log),
    logFd,
  };
}
