import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { DisplayBridge, type BridgeEvent } from '../../electron/core/display/bridge.js';
import { itNeeds, missingTool } from '../helpers/capability.js';
import { startHeadlessWeston, waitFor } from './helpers/weston.js';
import { buildWaylandClient } from './helpers/wayland-client-build.js';

// The wire fast path (native/src/bridge/wire_fastpath.cc) relays wl_surface attach, damage,
// damage_buffer, commit and frame, and wl_display.sync, without libwayland. A guest writing those messages itself must meet
// exactly what the generic path does: libwayland-server's own errors for bad ids, wrong
// interfaces and short messages, the relay's caps, and its requests in the order it sent them,
// however the bytes are split and whatever fds come between.
const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '../fixtures/bridge/wire-client.c');
const HOST_FIXTURE = join(import.meta.dirname, '../fixtures/bridge/scripted-host.c');
const PROTOCOLS = '/usr/share/wayland-protocols';
const HOST_XML = [
  `${PROTOCOLS}/stable/xdg-shell/xdg-shell.xml`,
  `${PROTOCOLS}/stable/viewporter/viewporter.xml`,
  `${PROTOCOLS}/staging/fractional-scale/fractional-scale-v1.xml`,
  `${PROTOCOLS}/unstable/tablet/tablet-unstable-v2.xml`,
];
const missing =
  missingTool(['weston', 'gcc', 'wayland-scanner']) ??
  (existsSync(join(import.meta.dirname, '../../native/build/Release/droidway_native.node'))
    ? null
    : 'the native module is not built (npm run build:native)');

let buildDir = '';
let client = '';
let scriptedHost = '';

beforeAll(async () => {
  if (missing !== null) return;
  buildDir = mkdtempSync('/tmp/droidway-bridge-fastpath-build-');
  client = await buildWaylandClient({ source: FIXTURE, protocols: [], outDir: buildDir });
  scriptedHost = await buildWaylandClient({
    source: HOST_FIXTURE,
    protocols: HOST_XML,
    outDir: buildDir,
    libs: ['-lwayland-server'],
  });
}, 60_000);

afterAll(() => {
  if (buildDir !== '') rmSync(buildDir, { recursive: true, force: true });
});

const DAMAGE_CAP = 64;
const REGION_CAP = 128;

/** Starts tests/fixtures/bridge/scripted-host.c (`cut N`: see there) in its own runtime dir. */
async function startScriptedHost(cut: number | undefined) {
  const dir = mkdtempSync('/tmp/droidway-fastpath-host-');
  const host = spawn(scriptedHost, ['host-0', ...(cut ? ['cut', `${cut}`] : [])], {
    env: { ...process.env, XDG_RUNTIME_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  host.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('scripted host', () => (output.includes('listening') ? true : undefined));
  return {
    socket: join(dir, 'host-0'),
    output: () => output,
    stop: () => {
      host.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function withBridge(
  fn: (ctx: {
    bridge: DisplayBridge;
    events: BridgeEvent[];
    runClient: (args: string[]) => Promise<{ out: string; pid: number }>;
    hostOutput: () => string;
  }) => Promise<void>,
  options: { host?: 'weston' | 'scripted'; cut?: number; pollMaxUs?: number } = {},
): Promise<void> {
  const weston =
    options.host === 'scripted'
      ? await startScriptedHost(options.cut)
      : await startHeadlessWeston('droidway-fastpath-');
  const hostOutput = 'output' in weston ? weston.output : () => '';
  const socketDir = mkdtempSync('/tmp/droidway-fastpath-sock-');
  const bridgeSocket = join(socketDir, 'bridge-0');
  const env = { ...process.env, XDG_RUNTIME_DIR: socketDir, WAYLAND_DISPLAY: bridgeSocket };
  const events: BridgeEvent[] = [];
  const bridge = DisplayBridge.start({
    socketPath: bridgeSocket,
    hostDisplay: weston.socket,
    globals: ['wl_compositor', 'wl_shm', 'wl_seat'],
    limits: { maxDamageRects: DAMAGE_CAP, maxRegionRects: REGION_CAP },
    ...(options.pollMaxUs === undefined ? {} : { pollMaxUs: options.pollMaxUs }),
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
    const fdsBefore = openFds();
    await fn({ bridge, events, runClient, hostOutput });
    // Every guest connection (its socket, the socketpair, its host connection) is closed again:
    // no fd is open that was not open before, as the same file. (Not a count: the test process
    // itself may close a transient fd meanwhile, such as a child's stdio socket.)
    await waitFor('no fd left open', () => {
      const kept = [...openFds()].filter(([fd, file]) => fdsBefore.get(fd) !== file);
      return kept.length === 0 ? true : undefined;
    });
  } finally {
    bridge.stop();
    weston.stop();
    rmSync(socketDir, { recursive: true, force: true });
  }
}

/** This process's open fds and what each is (a socket's inode tells one socket from another). */
function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      fds.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the directory's own fd, closed once listed
    }
  }
  return fds;
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

/** Events (a sync's done) the fast path wrote to client `pid` (an addon counter too). */
function fastEventsOf(bridge: DisplayBridge, pid: number): number {
  return (statsOf(bridge, pid) as { fastEvents?: number }).fastEvents ?? -1;
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
  itNeeds(
    'keeps order when a message with fds and fast-shaped ones share one write',
    missing,
    async () => {
      await withBridge(async ({ bridge, runClient }) => {
        // Each round's last attach names the buffer made (from its pool's fd) earlier in the
        // same sendmsg: relayed ahead of it, it would be an unknown object.
        const oneWrite = await runClient(['one-write', '30']);
        expect(oneWrite.out).toContain('survived');
        const stats = statsOf(bridge, oneWrite.pid);
        expect(stats.commits).toBe(60);
        expect(stats.buffersForwarded.shm).toBe(60);
        expect(stats.violations).toEqual({});
      });
    },
    60_000,
  );

  itNeeds(
    'a guest that stops reading with keymap fds pending keeps nothing open and stalls no one',
    missing,
    async () => {
      await withBridge(
        async ({ bridge, runClient }) => {
          // A second of not reading, then every keymap arrives, each with a readable fd.
          const few = await runClient(['stall', '40']);
          expect(few.out).toContain('keymaps 40');
          expect(few.out).toContain('survived');
          expect(statsOf(bridge, few.pid).commits).toBe(4);

          // Far more than the sockets between bridge and guest hold, beside a guest drawing.
          const [many, other] = await Promise.all([
            runClient(['stall', '3000']),
            runClient(['split', '40']),
          ]);
          expect(other.out).toContain('survived');
          expect(statsOf(bridge, other.pid).commits).toBe(40);
          const got = /keymaps (\d+)/.exec(many.out);
          expect(got).not.toBeNull();
          if (many.out.includes('survived')) {
            expect(got?.[1]).toBe('3000');
          } else {
            // libwayland-server's own buffer overflowed: the guest is dropped, nothing else.
            expect(many.out).toMatch(/protocol-error|connection-error/);
            expect(statsOf(bridge, many.pid).connected).toBe(false);
          }

          // A guest that never reads again and exits: its pending fds are closed with it.
          const gone = await runClient(['stall-exit', '3000']);
          await waitFor('the exited guest gone', () =>
            statsOf(bridge, gone.pid).connected ? undefined : true,
          );
          // withBridge checks that the bridge's fds are back where they were.
        },
        { host: 'scripted' },
      );
    },
    90_000,
  );

  itNeeds(
    'relays frame requests on the wire, each answered at its own commit, in order',
    missing,
    async () => {
      await withBridge(
        async ({ bridge, runClient }) => {
          const frames = await runClient(['frames', '200']);
          // The host answers a surface's callbacks at its next commit with that commit's number:
          // a frame relayed after its commit (or a commit before it) would carry another.
          expect(frames.out).toContain('frames 200 in-order');
          expect(frames.out).toContain('survived');
          const stats = statsOf(bridge, frames.pid);
          expect(stats.commits).toBe(200);
          expect(stats.violations).toEqual({});
          // frame, attach, damage and commit of every round, and the syncs of the round trips.
          expect(fastRequestsOf(bridge, frames.pid)).toBeGreaterThanOrEqual(4 * 200);
        },
        { host: 'scripted' },
      );
    },
    60_000,
  );

  itNeeds(
    'answers a sync only after the events the host sent before its own answer, on the wire or not',
    missing,
    async () => {
      await withBridge(
        async ({ bridge, runClient }) => {
          // Each sync follows a get_keyboard the host answers with a keymap at once: its done
          // must reach the guest after that keymap, whichever way the bridge sends it.
          const few = await runClient(['sync-order', '50']);
          expect(few.out).toContain('sync-order ok');
          expect(few.out).toContain('survived');
          // Enough to fill the sockets while the guest does not read.
          const many = await runClient(['sync-order', '1500']);
          expect(many.out).toContain('sync-order ok');
          expect(many.out).toContain('survived');
          // The round trips of a guest that reads at once take the wire both ways.
          const frames = await runClient(['frames', '50']);
          expect(frames.out).toContain('survived');
          expect(fastEventsOf(bridge, frames.pid)).toBeGreaterThan(0);
        },
        { host: 'scripted' },
      );
    },
    60_000,
  );

  itNeeds(
    'refuses new ids libwayland-server would refuse, for frame and sync alike',
    missing,
    async () => {
      await withBridge(async ({ runClient }) => {
        for (const what of ['frame', 'sync'] as const) {
          // libwayland-server's own error (invalid method, on wl_display: libwayland-client
          // reports it as EINVAL), as when the generic path dispatches the request.
          const error =
            what === 'frame'
              ? /wl_display@1: error 1: invalid arguments for wl_surface@\d+\.frame/
              : /wl_display@1: error 1: invalid arguments for wl_display@1\.sync/;
          for (const id of ['used', 'skip', 'server', 'zero']) {
            const result = await runClient(['bad-new-id', what, id]);
            expect(result.out, `${what} ${id}`).toMatch(error);
            expect(result.out, `${what} ${id}`).toContain('connection-error Invalid argument');
          }
        }
      });
    },
    60_000,
  );

  itNeeds(
    'counts frame callbacks made on the wire against the object cap',
    missing,
    async () => {
      await withBridge(async ({ bridge, runClient }) => {
        const flood = await runClient(['frame-flood', '5000']);
        expect(flood.out).toContain('limit-objects: at most 4096');
        expect(flood.out).toContain('protocol-error wl_display 3');
        expect(statsOf(bridge, flood.pid).violations['limit-objects']).toBe(1);
        expect(fastRequestsOf(bridge, flood.pid)).toBeGreaterThan(0);
      });
    },
    60_000,
  );

  itNeeds(
    'polls before sleeping only while messages come densely, and never when told not to',
    missing,
    async () => {
      // Adaptive polling (native/src/bridge/adaptive_poll.h): back-to-back round trips through
      // weston are a stream, so the loop polls and finds messages; an idle bridge does not poll.
      await withBridge(async ({ bridge, runClient }) => {
        const before = bridge.stats().poll;
        const dense = await runClient(['roundtrips', '3000']);
        expect(dense.out).toContain('roundtrips 3000');
        const after = bridge.stats().poll;
        expect(after.hits).toBeGreaterThan(before.hits);
        expect(after.ns).toBeGreaterThan(before.ns);
        await waitFor('the client gone', () =>
          bridge.stats().clients.every((c) => !c.connected) ? true : undefined,
        );
        // The last poll of the stream missed and closed the window: nothing polls while idle.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const idle = bridge.stats().poll;
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(bridge.stats().poll).toEqual(idle);
      });
      await withBridge(
        async ({ bridge, runClient }) => {
          const dense = await runClient(['roundtrips', '3000']);
          expect(dense.out).toContain('roundtrips 3000');
          expect(bridge.stats().poll).toEqual({ ns: 0, workNs: 0, hits: 0, misses: 0 });
        },
        { pollMaxUs: 0 },
      );
    },
    60_000,
  );

  itNeeds(
    'a guest trickling cheap messages cannot make the bridge poll more than its work pays for',
    missing,
    async () => {
      // One damage request every 100 µs (with the timer's slack, ~150–200 µs apart), inside the
      // 200 µs window: without the work credit (adaptive_poll.h) the bridge polled 337 ms of
      // this 390 ms run, for 4 ms of work — a core spun for a guest that does almost nothing.
      // With it, polling is at most 8 ns per ns of the work the guest's messages cost, but for
      // the last clock read of each poll.
      await withBridge(async ({ bridge, runClient }) => {
        const before = bridge.stats().poll;
        const started = performance.now();
        const trickle = await runClient(['trickle', '2000', '100']);
        const wallNs = (performance.now() - started) * 1e6;
        expect(trickle.out).toContain('trickled 2000');
        expect(trickle.out).toContain('survived');
        const after = bridge.stats().poll;
        const polled = after.ns - before.ns;
        const work = after.workNs - before.workNs;
        const polls = after.hits + after.misses - (before.hits + before.misses);
        expect(polled).toBeLessThanOrEqual(8 * work + polls * 20_000);
        // The trickle lasted its 2000 × 100 µs (so it did trickle).
        expect(wallNs).toBeGreaterThan(2000 * 100_000);
      });
    },
    60_000,
  );

  itNeeds(
    'a host connection shut mid-stream ends that guest with an error and no other',
    missing,
    async () => {
      const CUT = 10;
      await withBridge(
        async ({ bridge, runClient, hostOutput }) => {
          const [cut, other] = await Promise.all([
            runClient(['stream', '300']),
            runClient(['split', `${CUT - 1}`]),
          ]);
          expect(hostOutput()).toContain('cut');
          // The fast path's own send found the connection broken (the host froze after the
          // cut, so no hang-up told the bridge first).
          expect(cut.out).toContain('writing to the host compositor failed');
          // The bridge's implementation error (wl_display code 3), not a hang or a crash.
          expect(cut.out).toMatch(/protocol-error wl_display 3/);
          const stats = statsOf(bridge, cut.pid);
          expect(stats.connected).toBe(false);
          expect(stats.disconnectReason).toBe('host-error');
          expect(stats.commits).toBeGreaterThanOrEqual(CUT);
          expect(other.out).toContain('survived');
          expect(statsOf(bridge, other.pid).commits).toBe(CUT - 1);
          // The bridge goes on serving: a new guest after the cut gets its own host connection.
          const next = await runClient(['split', '5']);
          expect(next.out).toContain('survived');
          expect(statsOf(bridge, next.pid).commits).toBe(5);
        },
        { host: 'scripted', cut: CUT },
      );
    },
    60_000,
  );
});
