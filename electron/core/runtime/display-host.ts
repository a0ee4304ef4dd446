/**
 * The display host: a desktop user's side of a session. The container and its session host
 * belong to root (started through the privileged helper); the display bridge must not — it parses
 * every byte the guest sends, and it draws on the user's own compositor, which root cannot reach.
 * So the user runs a small detached process per session (`display-host-main.js`) that runs the
 * session's bridge process as the user, toward the user's compositor, in the socket folder the
 * root host prepared for the user, and answers the user's own control socket (status,
 * bridge-stats, stop). It ends with the session: it watches the root host and leaves when the
 * session stops.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from './control-client.js';
import { nodeCommand } from './node-command.js';
import type { SessionBridgeSettings, SessionBridgeStatus } from './session-bridge.js';

/** Folder of the user's display hosts: `$XDG_RUNTIME_DIR/droidway/display` (0700). */
export function displayHostRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  const base =
    xdg && path.isAbsolute(xdg)
      ? xdg
      : path.join(os.tmpdir(), `droidway-${process.getuid?.() ?? 'user'}`);
  return path.join(base, 'droidway', 'display');
}

/** The control socket of the display host of `instance`. */
export function displayHostSocket(instance: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(displayHostRoot(env), instance, 'control.sock');
}

/** Where the display host logs: `$XDG_STATE_HOME/droidway/logs/display-NAME.log`. */
export function displayHostLog(instance: string, env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'droidway', 'logs', `display-${instance}.log`);
}

/** The bridge part of the session's status, from the user's display host; null when none runs. */
export async function displayHostStatus(
  instance: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SessionBridgeStatus | null> {
  try {
    return (await controlRequest(
      displayHostSocket(instance, env),
      'status',
      {},
      3000,
    )) as SessionBridgeStatus;
  } catch {
    return null;
  }
}

/** Options of `launchDisplayHost`. */
export interface DisplayHostLaunch {
  instance: string;
  hostSocket: string;
  settings: SessionBridgeSettings;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the bridge to be running (or down); default 10 s. */
  timeoutMs?: number;
}

/**
 * Starts the user's display host for `instance` (detached, its output in `displayHostLog`) and
 * resolves with its bridge status once the bridge runs or is down, or null when the host did not
 * answer in time (the session runs on; `session status` says the bridge is off).
 */
export async function launchDisplayHost(
  options: DisplayHostLaunch,
): Promise<SessionBridgeStatus | null> {
  const env = options.env ?? process.env;
  const log = displayHostLog(options.instance, env);
  mkdirSync(path.dirname(log), { recursive: true, mode: 0o700 });
  const out = openSync(log, 'a', 0o600);
  const node = nodeCommand();
  try {
    const child = spawn(
      node.command,
      [
        path.join(path.dirname(fileURLToPath(import.meta.url)), 'display-host-main.js'),
        '--instance',
        options.instance,
        '--host-socket',
        options.hostSocket,
        '--bridge-settings',
        JSON.stringify(options.settings),
      ],
      { detached: true, stdio: ['ignore', out, out], env: { ...env, ...node.env } },
    );
    child.on('error', () => {});
    child.unref();
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    const status = await displayHostStatus(options.instance, env);
    if (status !== null && status.state !== 'starting') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

/** Asks the user's display host of `instance` to stop its bridge and leave; quiet if none runs. */
export async function stopDisplayHost(
  instance: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  await controlRequest(displayHostSocket(instance, env), 'stop', {}, 5000).catch(() => undefined);
}
