import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { DisplayBridge, type BridgeEvent } from '../../electron/core/display/bridge.js';
import { findColor, pixelAt, type ColorBox, type PngImage } from '../fixtures/bridge/png.js';
import { itNeeds } from '../helpers/capability.js';
import { missingBridgeCapability, protocolXml } from './helpers/bridge-host.js';
import { startHeadlessWeston, waitFor, type HeadlessWeston } from './helpers/weston.js';

const run = promisify(execFile);
const GUEST_DIR = join(import.meta.dirname, '../../native/guest');
const CLIENT = join(GUEST_DIR, 'build/droidway-demo-client');
const TOOLS = ['weston', 'weston-screenshooter', 'gcc', 'make', 'pkg-config', 'wayland-scanner'];

const missing = missingBridgeCapability({
  root: false,
  tools: TOOLS,
  xml: protocolXml('xdg-shell'),
  nativeModule: true,
});

// The demo client's layout and colours (native/guest/droidway-demo-client.c).
const WIDTH = 320;
const HEIGHT = 400;
const STATUS_HEIGHT = 24;
const NAV_HEIGHT = 48;
const STATUS_COLOR = 0xe8a01a;
const NAV_COLOR = 0x1ae8a0;
const BACKGROUND_COLOR = 0x283040;
const BAND_COLOR = 0xf0f0f0;
const BAND_WIDTH = 16;

let weston: HeadlessWeston | null = null;
let dir = '';
const hostSocket = () => join(dir, 'host-0');
const screenshot = () => weston!.screenshot();
const bridgeSocket = () => join(dir, 'bridge-0');
const guestEnv = () => ({ ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: bridgeSocket() });

interface Layout {
  status: ColorBox | null;
  nav: ColorBox | null;
  /** Pixels of the main surface's area between the bars, by colour. */
  background: number;
  band: number;
  other: number;
  /** Leftmost column of the band on the main area's middle row, or -1. */
  bandX: number;
}

/** Where the demo window's layers are on `image`, found from the status bar's position. */
function layout(image: PngImage): Layout {
  const status = findColor(image, STATUS_COLOR);
  const nav = findColor(image, NAV_COLOR);
  const result: Layout = { status, nav, background: 0, band: 0, other: 0, bandX: -1 };
  if (status === null) return result;
  const top = status.y + STATUS_HEIGHT;
  const bottom = status.y + HEIGHT - NAV_HEIGHT;
  if (status.x + WIDTH > image.width || bottom > image.height) return result;
  for (let y = top; y < bottom; y++) {
    for (let x = status.x; x < status.x + WIDTH; x++) {
      const rgb = pixelAt(image, x, y);
      if (rgb === BACKGROUND_COLOR) result.background++;
      else if (rgb === BAND_COLOR) result.band++;
      else result.other++;
    }
  }
  const middle = Math.floor((top + bottom) / 2);
  for (let x = status.x; x < status.x + WIDTH; x++) {
    if (pixelAt(image, x, middle) === BAND_COLOR) {
      result.bandX = x - status.x;
      break;
    }
  }
  return result;
}

/** What a fully shown demo window looks like, at the status bar's position. */
function expectedLayout(status: ColorBox | null): Layout {
  const x = status?.x ?? 0;
  const y = status?.y ?? 0;
  const mainRows = HEIGHT - STATUS_HEIGHT - NAV_HEIGHT;
  return {
    status: { x, y, width: WIDTH, height: STATUS_HEIGHT, count: WIDTH * STATUS_HEIGHT },
    nav: {
      x,
      y: y + HEIGHT - NAV_HEIGHT,
      width: WIDTH,
      height: NAV_HEIGHT,
      count: WIDTH * NAV_HEIGHT,
    },
    background: (WIDTH - BAND_WIDTH) * mainRows,
    band: BAND_WIDTH * mainRows,
    other: 0,
    bandX: -1,
  };
}

/**
 * Waits until a screenshot shows the whole window (desktop-shell fades a new window in, so the
 * first frames may still be blending) and returns its layout.
 */
async function windowOnScreen(): Promise<Layout> {
  let seen: Layout | null = null;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    seen = layout(await screenshot());
    const expected = expectedLayout(seen.status);
    if (JSON.stringify({ ...seen, bandX: -1 }) === JSON.stringify(expected)) return seen;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  expect({ ...seen, bandX: -1 }).toEqual(expectedLayout(seen?.status ?? null));
  throw new Error('unreachable');
}

beforeAll(async () => {
  if (missing !== null) return;
  weston = await startHeadlessWeston('droidway-demo-');
  dir = weston.dir;
  await run('make', ['-C', GUEST_DIR], { timeout: 60_000 });
}, 60_000);

afterAll(() => {
  weston?.stop();
});

/** Starts the bridge with what the demo client needs and waits for it to serve. */
async function startBridge(events: BridgeEvent[]): Promise<DisplayBridge> {
  const bridge = DisplayBridge.start({
    socketPath: bridgeSocket(),
    hostDisplay: hostSocket(),
    globals: ['wl_compositor', 'wl_subcompositor', 'wl_shm', 'xdg_wm_base', 'wl_output'],
    onEvent: (event) => events.push(event),
  });
  try {
    await bridge.ready;
  } catch (error) {
    bridge.stop();
    throw error;
  }
  return bridge;
}

/** Resolves with the exit code and stdout of `child` once it has exited. */
function exitOf(child: ChildProcess): Promise<{ code: number | null; stdout: string }> {
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout })));
}

describe('demo guest client through the bridge', () => {
  itNeeds(
    'shows the status bar, the animated main surface and the nav bar, zero-copy',
    missing,
    async () => {
      const events: BridgeEvent[] = [];
      const bridge = await startBridge(events);
      let demo: ChildProcess | null = null;
      try {
        demo = spawn(CLIENT, ['--size', `${WIDTH}x${HEIGHT}`], {
          env: guestEnv(),
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const exited = exitOf(demo);
        const pid = demo.pid;
        const connected = await waitFor('demo client connected', () =>
          events.find((e) => e.type === 'client-connected' && e.pid === pid),
        );
        const clientId = connected.type === 'client-connected' ? connected.clientId : -1;
        const mapped = await waitFor('demo window mapped', () =>
          events.find((e) => e.type === 'toplevel-mapped' && e.clientId === clientId),
        );
        expect(mapped).toMatchObject({ appId: 'droidway.demo', title: 'Droidway demo' });

        const first = await windowOnScreen();
        // The band moves 4 px a frame: a later screenshot finds it elsewhere.
        let later = first;
        const deadline = Date.now() + 5_000;
        while (later.bandX === first.bandX && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          later = await windowOnScreen();
        }
        expect(later.bandX).not.toBe(first.bandX);
        expect(later.status).toEqual(first.status);

        // Each layer's pixels are in its own region, mapped by the guest, never by the bridge.
        const guestMaps = readFileSync(`/proc/${pid}/maps`, 'utf8');
        for (const layer of ['main', 'status', 'nav']) {
          expect(guestMaps).toContain(`/memfd:droidway-demo:${layer}`);
        }
        expect(readFileSync('/proc/self/maps', 'utf8')).not.toContain('droidway-demo:');

        const stats = bridge.stats().clients.find((c) => c.clientId === clientId);
        expect(stats).toMatchObject({
          connected: true,
          surfaces: 3,
          buffers: 5,
          bytesCopied: 0,
          fdsRejected: {},
          violations: {},
        });
        // Both bars once, plus every main frame shown so far (two screenshots apart).
        expect(stats?.buffersForwarded.shm).toBeGreaterThan(2 + 2);
        expect(stats?.buffersForwarded.dmabuf).toBe(0);

        demo.kill('SIGTERM');
        const { code, stdout } = await exited;
        expect(code).toBe(0);
        expect(stdout).toMatch(/^mapped\nframes \d+\n$/);
        await waitFor('demo window unmapped', () =>
          events.find((e) => e.type === 'toplevel-unmapped' && e.clientId === clientId),
        );
        const gone = await waitFor('demo client gone', () =>
          bridge.stats().clients.find((c) => c.clientId === clientId && !c.connected),
        );
        expect(gone).toMatchObject({ disconnectReason: 'disconnected', bytesCopied: 0 });
      } finally {
        demo?.kill();
        bridge.stop();
      }
    },
    60_000,
  );

  itNeeds(
    'exits on its own after --frames N, paced by frame callbacks',
    missing,
    async () => {
      const events: BridgeEvent[] = [];
      const bridge = await startBridge(events);
      let demo: ChildProcess | null = null;
      try {
        demo = spawn(CLIENT, ['--frames', '30', '--size', '200x160'], {
          env: guestEnv(),
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const { code, stdout } = await exitOf(demo);
        expect(code).toBe(0);
        expect(stdout).toBe('mapped\nframes 30\n');
        const stats = await waitFor('demo client gone', () =>
          bridge.stats().clients.find((c) => c.pid === demo?.pid && !c.connected),
        );
        // Two bars plus one buffer per frame; frame 30's done callback ends the run.
        expect(stats.buffersForwarded.shm).toBe(2 + 30);
        expect(stats).toMatchObject({ disconnectReason: 'disconnected', bytesCopied: 0 });
      } finally {
        demo?.kill();
        bridge.stop();
      }
    },
    60_000,
  );
});
