/**
 * The session's side of the display bridge: what the session host is told about the bridge
 * (the host compositor's socket and the policy's bridge settings, or why it stays off), and the
 * running bridge's counters.
 */
import { statSync } from 'node:fs';
import { resolveHostSocket, supportedBridgeGlobals, type BridgeStats } from '../display/bridge.js';
import { displayHostSocket } from '../runtime/display-host.js';
import { requestBridgeStats, requestStatus } from '../runtime/control-client.js';
import { RuntimeError } from '../runtime/runtime-errors.js';
import { bridgeSettingsFromPolicy, type SessionBridgeConfig } from '../runtime/session-bridge.js';
import type { SessionRef } from '../runtime/session-client.js';
import { sessionPaths } from '../runtime/session-client.js';
import type { SessionPlan, StartSessionOptions } from './plan.js';

/**
 * What the session host is told about the display bridge: the host compositor's socket (see
 * `StartSessionOptions.hostDisplay`) and the policy's bridge settings, or why it stays off.
 * Globals the policy allows but the bridge cannot relay are noted in the plan's notes.
 */
export function bridgeConfigFor(
  plan: Pick<SessionPlan, 'compiled'>,
  options: Pick<StartSessionOptions, 'hostDisplay' | 'env' | 'bridgeGuestOwner'> & {
    /** Globals the native bridge relays; default the module's `bridgeSupportedGlobals`. */
    supportedGlobals?: readonly string[];
  },
): SessionBridgeConfig {
  const env = options.env ?? process.env;
  if (options.hostDisplay === undefined && !env.WAYLAND_DISPLAY)
    return {
      enabled: false,
      reason: 'no host display: WAYLAND_DISPLAY is unset and no --host-display was given',
    };
  let hostSocket: string;
  try {
    hostSocket = resolveHostSocket(options.hostDisplay, env);
  } catch (e) {
    return { enabled: false, reason: `no host display: ${(e as Error).message}` };
  }
  let isSocket = false;
  try {
    isSocket = statSync(hostSocket).isSocket();
  } catch {
    // Missing: said below.
  }
  if (!isSocket)
    return { enabled: false, reason: `no host display: ${hostSocket} is not a Wayland socket` };
  let supported: readonly string[];
  try {
    supported = options.supportedGlobals ?? supportedBridgeGlobals();
  } catch (e) {
    return { enabled: false, reason: `no display bridge: ${(e as Error).message}` };
  }
  const { settings, dropped } = bridgeSettingsFromPolicy(plan.compiled.bridge, supported);
  if (dropped.length > 0)
    plan.compiled.notes.push({
      field: '/bridge/globals',
      message: `the display bridge cannot relay ${dropped.join(', ')}; the guest will not see them`,
    });
  return {
    enabled: true,
    hostSocket,
    settings,
    ...(options.bridgeGuestOwner ? { guestOwner: options.bridgeGuestOwner } : {}),
  };
}

/**
 * The display bridge's per-client counters of the running session. Rejects with
 * `SESSION_NOT_RUNNING` when no host answers, `BRIDGE_OFF` when the session has no bridge.
 */
export async function bridgeStats(ref: SessionRef = {}): Promise<BridgeStats> {
  const paths = sessionPaths(ref.instance, ref);
  if (paths.owner !== 0 && paths.owner === process.getuid?.()) {
    await requestStatus(paths.controlSocket);
    return requestBridgeStats(displayHostSocket(paths.name)).catch((e: unknown) => {
      if ((e as { code?: unknown }).code === 'SESSION_NOT_RUNNING')
        throw new RuntimeError('BRIDGE_OFF', 'the display bridge of this session is not running');
      throw e;
    });
  }
  return requestBridgeStats(paths.controlSocket);
}
