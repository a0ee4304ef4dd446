/**
 * `shm:inspect` for a session: finds the instance's running container, reads its processes'
 * shared-memory mappings (`shm-maps.ts`) and adds the display bridge's per-client counters.
 */
import type { ShmBridgeClient, ShmReport } from '../../shared/shm.js';
import type { BridgeClientStats } from '../display/bridge.js';
import { requestBridgeStats } from '../runtime/control-client.js';
import { sessionPaths, sessionStatus, type SessionRef } from '../runtime/session-client.js';
import { inspectContainerShm, inspectPids, type ShmLimits } from '../inspect/shm-maps.js';

/** Options of `inspectSessionShm`. */
export interface ShmReportOptions extends SessionRef {
  /**
   * Per-client bridge counters of the session, or null when there is no bridge to ask; default:
   * the session host's `bridge-stats` over its control socket.
   */
  bridgeStats?: () => Promise<readonly BridgeClientStats[] | null>;
  limits?: Partial<ShmLimits>;
  /** Where cgroups and procfs are mounted (tests). */
  cgroupRoot?: string;
  procRoot?: string;
}

/** Summarises one client's bridge counters for the report. */
export function bridgeClientSummary(client: BridgeClientStats): ShmBridgeClient {
  const rejectionsByReason: Record<string, number> = {};
  let rejections = 0;
  for (const [reason, count] of Object.entries(client.violations)) {
    if (!Number.isSafeInteger(count) || count <= 0) continue;
    rejectionsByReason[reason] = count;
    rejections += count;
  }
  return {
    clientId: client.clientId,
    pid: client.pid,
    connected: client.connected,
    disconnectReason: client.disconnectReason,
    buffersForwarded: { ...client.buffersForwarded },
    bytesCopied: client.bytesCopied,
    rejections,
    rejectionsByReason,
  };
}

/**
 * The shared-memory report of the instance's session: its processes' regions while it runs
 * (none when it is stopped) and the bridge counters when `bridgeStats` can tell them.
 */
export async function inspectSessionShm(options: ShmReportOptions = {}): Promise<ShmReport> {
  const status = await sessionStatus(options);
  const running = status.state.name === 'running' || status.state.name === 'frozen';
  const inspection = running
    ? await inspectContainerShm(
        {
          containerName: status.containerName,
          initPid: status.initPid,
          cgroupRoot: options.cgroupRoot,
          procRoot: options.procRoot,
        },
        options.limits,
      )
    : { ...(await inspectPids([])), source: 'none' as const };
  let bridge: ShmBridgeClient[] | null = null;
  if (running) {
    const ask =
      options.bridgeStats ??
      (async () =>
        (await requestBridgeStats(sessionPaths(options.instance, options).controlSocket)).clients);
    // No bridge (BRIDGE_OFF), or a host that cannot tell: the page says so instead of failing.
    const clients = await ask().catch(() => null);
    bridge = clients === null ? null : clients.map(bridgeClientSummary);
  }
  return {
    instance: status.instance,
    running,
    source: inspection.source,
    processes: inspection.processes,
    totals: inspection.totals,
    problems: inspection.problems,
    bridge,
    takenAt: Date.now(),
  };
}
