import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  DisplayBridge,
  type BridgeEvent,
  type DisplayBridgeOptions,
} from '../../electron/core/display/bridge.js';
import { countOpenFds } from '../../electron/core/native/index.js';
import type { BridgeGlobalName } from '../../native/index.js';
import { countColor } from '../fixtures/bridge/png.js';
import { itNeeds, missingTool } from '../helpers/capability.js';
import { startHeadlessWeston, waitFor, type HeadlessWeston } from './helpers/weston.js';

// Limits and hostile guests beyond the pool checks of bridge.test.ts: an object flood, an fd
// flood, a guest that never reads its events, and the host compositor going away.
const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '../fixtures/bridge/hostile-client.c');
const XDG_SHELL = '/usr/share/wayland-protocols/stable/xdg-shell/xdg-shell.xml';
const TOOLS = ['weston', 'weston-screenshooter', 'gcc', 'wayland-scanner'];

function missingCapability(): string | null {
  const tool = missingTool(TOOLS);
  if (tool !== null) return tool;
  if (!existsSync(XDG_SHELL)) return 'wayland-protocols is not installed';
  if (!existsSync(join(import.meta.dirname, '../../native/build/Release/droidway_native.node'))) {
    return 'the native module is not built (npm run build:native)';
  }
  return null;
}
const missing = missingCapability();

const GOOD_COLOR = 0x3050e0;
const GOOD_WIDTH = 96;
const GOOD_HEIGHT = 64;
const GLOBALS: BridgeGlobalName[] = ['wl_compositor', 'wl_shm', 'xdg_wm_base'];

let buildDir = '';
let client = '';

beforeAll(async () => {
  if (missing !== null) return;
  buildDir = mkdtempSync('/tmp/droidway-bridge-limits-build-');
  await run('wayland-scanner', [
    'client-header',
    XDG_SHELL,
    join(buildDir, 'xdg-shell-client-protocol.h'),
  ]);
  await run('wayland-scanner', ['private-code', XDG_SHELL, join(buildDir, 'xdg-shell-protocol.c')]);
  client = join(buildDir, 'hostile-client');
  await run('gcc', [
    '-Wall',
    '-Wextra',
    '-Werror',
    '-O2',
    `-I${buildDir}`,
    '-o',
    client,
    FIXTURE,
    join(buildDir, 'xdg-shell-protocol.c'),
    '-lwayland-client',
  ]);
}, 60_000);

afterAll(() => {
  if (buildDir !== '') rmSync(buildDir, { recursive: true, force: true });
});

/** A bridge in front of its own headless weston, with a solid good client drawing through it. */
async function setUp(prefix: string, extra: Partial<DisplayBridgeOptions> = {}) {
  const weston: HeadlessWeston = await startHeadlessWeston(prefix);
  // The guest socket lives outside weston's directory, which weston.stop() removes.
  const socketDir = mkdtempSync(`/tmp/${prefix}sock-`);
  const bridgeSocket = join(socketDir, 'bridge-0');
  const env = { ...process.env, XDG_RUNTIME_DIR: socketDir, WAYLAND_DISPLAY: bridgeSocket };
  const fdsBefore = countOpenFds();
  const events: BridgeEvent[] = [];
  const bridge = DisplayBridge.start({
    socketPath: bridgeSocket,
    hostDisplay: weston.socket,
    globals: GLOBALS,
    onEvent: (event) => events.push(event),
    ...extra,
  });
  const globals = await bridge.ready;
  const good: ChildProcess = spawn(
    client,
    ['good', GOOD_COLOR.toString(16), `${GOOD_WIDTH}`, `${GOOD_HEIGHT}`, 'Good', 'good'],
    { env, stdio: 'ignore' },
  );
  const goodStats = () => bridge.stats().clients.find((c) => c.pid === good.pid && c.connected);
  await waitFor('good client drawing', () => ((goodStats()?.commits ?? 0) > 2 ? true : undefined));
  const tearDown = () => {
    good.kill();
    bridge.stop();
    weston.stop();
    rmSync(socketDir, { recursive: true, force: true });
  };
  return {
    weston,
    bridge,
    globals,
    bridgeSocket,
    env,
    events,
    good,
    goodStats,
    fdsBefore,
    tearDown,
  };
}

/** The pid of the weston serving `runtimeDir` (found by its environment). */
function westonPid(runtimeDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'weston') continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`XDG_RUNTIME_DIR=${runtimeDir}`)) return Number(entry);
    } catch {
      // The process ended while being looked at.
    }
  }
  throw new Error(`no weston serving ${runtimeDir}`);
}

/** Whether a screenshot shows every pixel of the good client's window. */
async function goodWindowOnScreen(weston: HeadlessWeston): Promise<void> {
  let seen = 0;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    seen = countColor(await weston.screenshot(), GOOD_COLOR);
    if (seen === GOOD_WIDTH * GOOD_HEIGHT) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  expect(seen).toBe(GOOD_WIDTH * GOOD_HEIGHT);
}

describe('display bridge limits and hostile guests', () => {
  itNeeds(
    'disconnects an object flood, an fd flood and a guest that never reads, alone',
    missing,
    async () => {
      const ctx = await setUp('droidway-bridge-limits-');
      try {
        // Two connections in this process per guest: the guest socket and its host connection.
        const fdsWithGood = countOpenFds();
        const commitsOf = () => ctx.goodStats()?.commits ?? 0;

        // 10^5 objects against the default cap of 4096: the precise error, then disconnection.
        const objects = await run(client, ['many-objects', '100000'], {
          env: ctx.env,
          timeout: 30_000,
        });
        expect(objects.stdout.trim()).toBe('protocol-error wl_display 3');
        const capped = await waitFor('object flood stats', () =>
          ctx.bridge.stats().clients.find((c) => c.disconnectReason === 'violation:limit-objects'),
        );
        expect(capped.violations['limit-objects']).toBe(1);
        const violation = await waitFor('violation event', () =>
          ctx.events.find((e) => e.type === 'violation' && e.reason === 'limit-objects'),
        );
        expect(violation).toMatchObject({ message: 'limit-objects: at most 4096' });

        // 300 fds in two raw sendmsg calls on a valid request: libwayland-server receives at
        // most 28 per read (the kernel closes the rest) and closes what no request consumed
        // when the guest goes; newer libwayland versions may disconnect it at once instead.
        const floodCommits = commitsOf();
        const flood = await run(client, ['fd-flood', '300'], { env: ctx.env, timeout: 30_000 });
        expect(flood.stdout.trim()).toMatch(/^(survived|connection-error .*)$/);
        await waitFor('fds back after the fd flood', () =>
          countOpenFds() === fdsWithGood ? true : undefined,
        );
        await waitFor('good client still drawing', () =>
          commitsOf() > floodCommits + 2 ? true : undefined,
        );

        // A guest asking for events it never reads fills its buffers and is dropped, while the
        // bridge keeps serving the good client.
        const noReadCommits = commitsOf();
        const noRead = await run(client, ['no-read'], { env: ctx.env, timeout: 40_000 });
        expect(noRead.stdout.trim()).toBe('dropped');
        // Its unanswered syncs hit the object cap first, or its buffer fills (libwayland drops
        // it), or weston drops its host connection for not reading: each ends it alone.
        const dropped = await waitFor('non-reader disconnected', () => {
          const gone = ctx.bridge.stats().clients.filter((c) => !c.connected);
          return gone.length === 3 ? gone.sort((a, b) => b.clientId - a.clientId)[0] : undefined;
        });
        expect(['violation:limit-objects', 'disconnected', 'host-error']).toContain(
          dropped.disconnectReason,
        );
        await waitFor('fds back after the non-reader', () =>
          countOpenFds() === fdsWithGood ? true : undefined,
        );
        await waitFor('good client drawing after the non-reader', () =>
          commitsOf() > noReadCommits + 2 ? true : undefined,
        );
        await goodWindowOnScreen(ctx.weston);
        expect(ctx.bridge.stats().clients.filter((c) => c.connected)).toHaveLength(1);
      } finally {
        ctx.tearDown();
      }
      await waitFor('stopped event', () => ctx.events.find((e) => e.type === 'stopped'));
      expect(countOpenFds()).toBe(ctx.fdsBefore);
    },
    120_000,
  );

  itNeeds(
    'caps the fds kept per guest and offers linux-dmabuf only when the host has it',
    missing,
    async () => {
      const ctx = await setUp('droidway-bridge-fds-', {
        globals: [...GLOBALS, 'zwp_linux_dmabuf_v1'],
        limits: { maxFds: 8 },
      });
      try {
        // weston's headless backend with pixman has no linux-dmabuf to relay.
        expect(ctx.globals.map((g) => g.interface).sort()).toEqual([...GLOBALS].sort());
        const pools = await run(client, ['many-pools', '20'], { env: ctx.env, timeout: 30_000 });
        expect(pools.stdout.trim()).toBe('protocol-error wl_display 3');
        const record = await waitFor('fd cap stats', () =>
          ctx.bridge.stats().clients.find((c) => c.disconnectReason === 'violation:limit-fds'),
        );
        expect(record.fdsRejected['limit-fds']).toBe(1);
        expect(
          ctx.events.find((e) => e.type === 'violation' && e.reason === 'limit-fds'),
        ).toMatchObject({ message: 'limit-fds: at most 8' });
        expect(ctx.bridge.stats().clients.filter((c) => c.connected)).toHaveLength(1);
      } finally {
        ctx.tearDown();
      }
      await waitFor('stopped event', () => ctx.events.find((e) => e.type === 'stopped'));
      expect(countOpenFds()).toBe(ctx.fdsBefore);
    },
    60_000,
  );

  itNeeds(
    'keeps serving while a guest waits on a sync the host has not answered yet',
    missing,
    async () => {
      const ctx = await setUp('droidway-bridge-sync-');
      const pid = westonPid(ctx.weston.dir);
      const waiting = spawn(client, ['sync-on-input'], {
        env: ctx.env,
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let output = '';
      waiting.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      let late: ChildProcess | null = null;
      try {
        await waitFor('waiting client ready', () => (output.includes('ready') ? true : undefined));
        process.kill(pid, 'SIGSTOP');
        waiting.stdin.write('go\n');
        await new Promise((resolve) => setTimeout(resolve, 300));
        // The bridge thread is not waiting for the stopped host: it accepts a new guest at once
        // (a blocking relay would stall here for hostTimeoutMs).
        late = spawn(client, ['sync-on-input'], { env: ctx.env, stdio: 'ignore' });
        await waitFor(
          'late guest accepted while the host is stopped',
          () => ctx.events.find((e) => e.type === 'client-connected' && e.pid === late?.pid),
          1_000,
        );
        expect(output).not.toContain('synced');
        process.kill(pid, 'SIGCONT');
        await waitFor('sync answered once the host is back', () =>
          output.includes('synced') ? true : undefined,
        );
      } finally {
        process.kill(pid, 'SIGCONT');
        waiting.kill();
        late?.kill();
        ctx.tearDown();
      }
    },
    60_000,
  );

  itNeeds(
    'reports a lost host, disconnects every guest and ends cleanly',
    missing,
    async () => {
      const ctx = await setUp('droidway-bridge-hostlost-');
      const second = spawn(client, ['good', 'c02020', '32', '32', 'Second', 'second'], {
        env: ctx.env,
        stdio: 'ignore',
      });
      try {
        await waitFor('two guests connected', () =>
          ctx.bridge.stats().clients.filter((c) => c.connected && c.commits > 0).length === 2
            ? true
            : undefined,
        );
        ctx.weston.stop();
        const stopped = await waitFor('stopped event', () =>
          ctx.events.find((e) => e.type === 'stopped'),
        );
        expect(stopped).toMatchObject({ reason: 'host-lost' });
        expect(ctx.events.some((e) => e.type === 'host-lost')).toBe(true);
        expect(ctx.events.filter((e) => e.type === 'client-disconnected')).toHaveLength(2);
        const stats = ctx.bridge.stats();
        expect(stats.running).toBe(false);
        expect(stats.clients.every((c) => !c.connected)).toBe(true);
        expect(existsSync(ctx.bridgeSocket)).toBe(false);
        // The guests see their connection end (the good client exits when dispatch fails).
        await waitFor('guests exited', () =>
          ctx.good.exitCode !== null && second.exitCode !== null ? true : undefined,
        );
      } finally {
        second.kill();
        ctx.tearDown();
      }
      expect(countOpenFds()).toBe(ctx.fdsBefore);
    },
    60_000,
  );
});
