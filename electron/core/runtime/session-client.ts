/**
 * The thin client of a running session: its paths, and status, stop, freeze and thaw requests to
 * its session host over the instance's control socket (a desktop user's bridge status and stop go
 * to the user's display host). Starting and verifying a session live in `core/session/`.
 */
import { existsSync } from 'node:fs';
import { displayHostStatus, stopDisplayHost } from './display-host.js';
import { requestFreeze, requestStatus, requestStop, requestUnfreeze } from './control-client.js';
import {
  DEFAULT_INSTANCE,
  instancePaths,
  type InstancePaths,
  type InstanceRoots,
} from './instance-paths.js';
import { RuntimeError } from './runtime-errors.js';
import type { SessionStatus } from './session.js';

/** Paths of instance `name` (default `default`) under `locations`. */
export function sessionPaths(
  name: string | undefined,
  locations: InstanceRoots = {},
): InstancePaths {
  return instancePaths(name ?? DEFAULT_INSTANCE, {
    ...(locations.dataRoot !== undefined ? { dataRoot: locations.dataRoot } : {}),
    ...(locations.runtimeRoot !== undefined ? { runtimeRoot: locations.runtimeRoot } : {}),
    ...(locations.owner !== undefined ? { owner: locations.owner } : {}),
  });
}

/** Options naming a session: its instance and where instances live. */
export interface SessionRef extends InstanceRoots {
  instance?: string;
}

/**
 * The session's status, or a `stopped` status when no host answers for the instance. Rejects
 * with the runtime's errors for anything else (`CONTROL_UNAVAILABLE` …).
 */
export async function sessionStatus(ref: SessionRef = {}): Promise<SessionStatus> {
  const paths = sessionPaths(ref.instance, ref);
  try {
    const status = await requestStatus(paths.controlSocket);
    // A desktop user's bridge runs in the user's display host, not in the root session host.
    if (paths.owner !== 0 && paths.owner === process.getuid?.()) {
      const bridge = await displayHostStatus(paths.name);
      if (bridge !== null) status.bridge = bridge;
    }
    return status;
  } catch (e) {
    if ((e as { code?: string }).code !== 'SESSION_NOT_RUNNING') throw e;
    return {
      instance: paths.name,
      containerName: paths.containerName,
      state: { name: 'stopped', since: Date.now() },
      initPid: null,
      monitorPid: null,
    };
  }
}

/**
 * Stops the session and resolves with its final status once the host has cleaned up. Rejects
 * with `SESSION_NOT_RUNNING` when no host answers.
 */
export async function stopSession(
  ref: SessionRef = {},
  timeoutSeconds?: number,
): Promise<SessionStatus> {
  const paths = sessionPaths(ref.instance, ref);
  if (paths.owner !== 0 && paths.owner === process.getuid?.()) await stopDisplayHost(paths.name);
  const status = await requestStop(paths.controlSocket, timeoutSeconds);
  // The host answers once the session is stopped and cleaned, then closes its socket and removes
  // its own files; waiting for that keeps the promise that a returned stop leaves nothing behind.
  const deadline = Date.now() + HOST_EXIT_WAIT_MS;
  while (existsSync(paths.hostRecord) || existsSync(paths.controlDir)) {
    if (Date.now() > deadline) {
      throw new RuntimeError(
        'SESSION_HOST_STUCK',
        `the session stopped, but its host did not remove ${paths.controlDir} within ${HOST_EXIT_WAIT_MS} ms; see ${paths.logDir}/session-host.log`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return status;
}

/** How long `stopSession` waits for the host to remove its files after the session stopped. */
const HOST_EXIT_WAIT_MS = 5000;

/** Freezes the session (`SESSION_NOT_RUNNING` without a host, `SESSION_BAD_STATE` unless running). */
export async function freezeSession(ref: SessionRef = {}): Promise<SessionStatus> {
  return requestFreeze(sessionPaths(ref.instance, ref).controlSocket);
}

/** Thaws the session (`SESSION_NOT_RUNNING` without a host, `SESSION_BAD_STATE` unless frozen). */
export async function unfreezeSession(ref: SessionRef = {}): Promise<SessionStatus> {
  return requestUnfreeze(sessionPaths(ref.instance, ref).controlSocket);
}
