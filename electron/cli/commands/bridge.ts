/**
 * `droidway bridge …`: the running session's display bridge.
 * - `bridge stats [--instance NAME] [--json]`: per guest client (connected ones and the last
 *   gone ones): pid, connected or why it left, commits, buffers forwarded (shm, dmabuf), bytes
 *   of pixels copied (0: the bridge forwards fds), fds rejected by reason, violations.
 * No session, or a session whose bridge is off, prints why and exits 1.
 */
import type { Command } from 'commander';
import type { BridgeClientStats, BridgeStats } from '../../core/display/bridge.js';
import { bridgeStats } from '../../core/session/display.js';
import { type SessionRef } from '../../core/runtime/session-client.js';
import { refuse } from '../cli-errors.js';
import { outputOf } from '../cli-io.js';

function reasons(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  return entries.length === 0 ? '-' : entries.map(([k, n]) => `${k}=${n}`).join(',');
}

function stateOf(c: BridgeClientStats): string {
  return c.connected ? 'connected' : `gone (${c.disconnectReason ?? 'unknown'})`;
}

/** What the loop spent polling before it slept (native/src/bridge/adaptive_poll.h). */
function pollLine(poll: BridgeStats['poll']): string {
  if (poll.hits + poll.misses === 0) return 'never polled';
  const ms = poll.ns / 1e6;
  return `polled ${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms (${poll.hits} found a message, ${poll.misses} did not)`;
}

/** The stats as a table for a person, one row per client. */
export function formatBridgeStats(instance: string, stats: BridgeStats): string {
  const live = stats.clients.filter((c) => c.connected).length;
  const head = `instance ${instance}: bridge ${stats.running ? 'running' : 'stopped'}, ${live} client${live === 1 ? '' : 's'} connected, ${stats.clientsTotal} since start; ${pollLine(stats.poll)}\n`;
  if (stats.clients.length === 0) return head;
  const rows = [
    ['CLIENT', 'PID', 'STATE', 'COMMITS', 'SHM', 'DMABUF', 'COPIED', 'FDS-REJECTED', 'VIOLATIONS'],
    ...stats.clients.map((c) => [
      String(c.clientId),
      String(c.pid),
      stateOf(c),
      String(c.commits),
      String(c.buffersForwarded.shm),
      String(c.buffersForwarded.dmabuf),
      String(c.bytesCopied),
      reasons(c.fdsRejected),
      reasons(c.violations),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return `${head}${lines.join('\n')}\n`;
}

/** Adds the `bridge` command group to `program`. */
export function register(program: Command): void {
  const bridge = program.command('bridge').description("inspect the session's display bridge");
  bridge
    .command('stats')
    .description('per guest client: commits, buffers forwarded, bytes copied, fds rejected')
    .option('--instance <name>', 'instance name', 'default')
    .option('--json', 'print the counters as JSON')
    .action(async (options: { instance: string; json?: boolean }, command: Command) => {
      const { out } = outputOf(command);
      const json = options.json === true;
      const ref: SessionRef = { instance: options.instance };
      let stats: BridgeStats;
      try {
        stats = await bridgeStats(ref);
      } catch (e) {
        refuse(command, e, { json, instance: options.instance });
      }
      out(
        json ? `${JSON.stringify(stats, null, 2)}\n` : formatBridgeStats(options.instance, stats),
      );
    });
}
