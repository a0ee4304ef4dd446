import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { DisplayBridge, type BridgeEvent } from '../../electron/core/display/bridge.js';
import { countOpenFds } from '../../electron/core/native/index.js';
import { itNeeds, missingTool } from '../helpers/capability.js';
import { startHeadlessWeston, waitFor } from './helpers/weston.js';
import { buildWaylandClient } from './helpers/wayland-client-build.js';

// The wire fast path (native/src/bridge/wire_fastpath.cc) relays wl_surface attach, damage,
// damage_buffer and commit without libwayland. A guest writing those messages itself must meet
// exactly what the generic path does: libwayland-server's own errors for bad ids, wrong
// interfaces and short messages, the relay's caps, and its requests in the order it sent them,
// however the bytes are split and whatever fds come between.
const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '../fixtures/bridge/wire-client.c');
const missing =
  missingTool(['weston', 'gcc', 'wayland-scanner']) ??
  (existsSync(join(import.meta.dirname, '../../native/build/Release/droidway_native.node'))
    ? null
    : 'the native module is not built (npm run build:native)');

let buildDir = '';
let client = '';

beforeAll(async () => {
  if (missing !== null) return;
  buildDir = mkdtempSync('/tmp/droidway-bridge-fastpath-build-');
  client = await buildWaylandClient({ source: FIXTURE, protocols: [], outDir: buildDir });
}, 60_000);

afterAll(() => {
  if (buildDir !== '') rmSync(buildDir, { recursive: true, force: true });
});

const DAMAGE_CAP = 64;
const REGION_CAP = 128;

async function withBridge(
  fn: (ctx: {
    bridge: DisplayBridge;
    events: BridgeEvent[];
    runClient: (args: string[]) => Promise<{ out: string; pid: number }>;
  }) => Promise<void>,
): Promise<void> {
  const weston = await startHeadlessWeston('droidway-fastpath-');
  const socketDir = mkdtempSync('/tmp/droidway-fastpath-sock-');
  const bridgeSocket = join(socketDir, 'bridge-0');
  const env = { ...process.env, XDG_RUNTIME_DIR: socketDir, WAYLAND_DISPLAY: bridgeSocket };
  const events: BridgeEvent[] = [];
  const bridge = DisplayBridge.start({
    socketPath: bridgeSocket,
    hostDisplay: weston.socket,
    globals: ['wl_compositor', 'wl_shm'],
    limits: { maxDamageRects: DAMAGE_CAP, maxRegionRects: REGION_CAP },
    onEvent: (event) => events.push(event),
  });
  await bridge.ready;
  const runClient = async (args: string[]) => {
    const child = run(client, args, { env, timeout: 30_000 });
    const pid = child.child.pid ?? -1;
    const { stdout, stderr } = await child;
    return { out: `${stderr}${stdout}`, pid };
  };
  try {
    // One client first: libwayland's event loop makes its one timerfd (for every client's
    // first-request deadline) then, and keeps it.
    expect((await runClient(['split', '1'])).out).toContain('survived');
    await waitFor('the first client gone', () =>
      bridge.stats().clients.every((c) => !c.connected) ? true : undefined,
    );
    const fdsBefore = countOpenFds();
    await fn({ bridge, events, runClient });
    // Every guest connection (its socket, the socketpair, its host connection) is closed again.
    await waitFor('fds back', () => (countOpenFds() === fdsBefore ? true : undefined));
  } finally {
    bridge.stop();
    weston.stop();
    rmSync(socketDir, { recursive: true, force: true });
  }
}

function statsOf(bridge: DisplayBridge, pid: number) {
  const stats = bridge.stats().clients.find((c) => c.pid === pid);
  if (stats === undefined) throw new Error(`no stats for client ${pid}`);
  return stats;
}

/** Requests the fast path relayed for client `pid` (an addon counter, not in the typings). */
function fastRequestsOf(bridge: DisplayBridge, pid: number): number {
  return (statsOf(bridge, pid) as { fastRequests?: number }).fastRequests ?? -1;
}

describe('display bridge wire fast path', () => {
  itNeeds(
    'answers bad ids, wrong interfaces and short messages as libwayland-server does',
    missing,
    async () => {
      await withBridge(async ({ runClient }) => {
        const badObject = await runClient(['bad-object']);
        expect(badObject.out).toMatch(/wl_display@1: error 0: invalid object \d+/);
        expect(badObject.out).not.toContain('survived');

        const badBuffer = await runClient(['bad-buffer']);
        expect(badBuffer.out).toMatch(/error 1: invalid arguments for wl_surface@\d+\.attach/);

        const wrongBuffer = await runClient(['wrong-buffer']);
        expect(wrongBuffer.out).toMatch(/error 1: invalid arguments for wl_surface@\d+\.attach/);

        const truncated = await runClient(['truncated']);
        expect(truncated.out).toMatch(/error 1: invalid arguments for wl_surface@\d+\.damage/);

        // A header that cannot frame a message: passed through for libwayland-server to judge.
        const badSize = await runClient(['bad-size']);
        expect(badSize.out).toMatch(/error 1: invalid arguments for wl_surface@\d+\.commit/);
      });
    },
    60_000,
  );

  itNeeds(
    'relays damage-shaped messages of a region as region requests, under the region cap',
    missing,
    async () => {
      await withBridge(async ({ bridge, runClient }) => {
        const under = await runClient(['wrong-sender', `${REGION_CAP}`]);
        expect(under.out).toContain('survived');
        const over = await runClient(['wrong-sender', `${REGION_CAP + 1}`]);
        expect(over.out).toContain(`limit-region-rects: at most ${REGION_CAP}`);
        expect(over.out).toContain('protocol-error wl_display 3');
        expect(statsOf(bridge, over.pid).violations['limit-region-rects']).toBe(1);
        // No surface damage was counted for either.
        expect(statsOf(bridge, under.pid).damageRectsDropped).toBe(0);
      });
    },
    60_000,
  );

  itNeeds(
    'keeps order across split writes and across slow messages with fds between fast ones',
    missing,
    async () => {
      await withBridge(async ({ bridge, runClient }) => {
        const split = await runClient(['split', '40']);
        expect(split.out).toContain('survived');
        expect(statsOf(bridge, split.pid).commits).toBe(40);
        expect(statsOf(bridge, split.pid).buffersForwarded.shm).toBe(40);
        expect(fastRequestsOf(bridge, split.pid)).toBeGreaterThan(0);

        // Each round's second attach names a buffer made (with its pool's fd) by the slow path
        // just before: relayed out of order, it would be an unknown object.
        const interleaved = await runClient(['interleaved', '30']);
        expect(interleaved.out).toContain('survived');
        const stats = statsOf(bridge, interleaved.pid);
        expect(stats.commits).toBe(60);
        expect(stats.buffersForwarded.shm).toBe(60);
        expect(stats.violations).toEqual({});
        expect(fastRequestsOf(bridge, interleaved.pid)).toBeGreaterThan(0);
      });
    },
    60_000,
  );

  itNeeds(
    'drops damage past the per-commit cap, counted, however it arrives',
    missing,
    async () => {
      await withBridge(async ({ bridge, runClient }) => {
        const flood = await runClient(['damage-cap', '700']);
        expect(flood.out).toContain('survived');
        const stats = statsOf(bridge, flood.pid);
        expect(stats.commits).toBe(2);
        expect(stats.damageRectsDropped).toBe(2 * (700 - DAMAGE_CAP));
        expect(fastRequestsOf(bridge, flood.pid)).toBeGreaterThan(DAMAGE_CAP);
      });
    },
    60_000,
  );
});
