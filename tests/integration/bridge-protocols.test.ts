import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  BridgeProcess,
  type BridgeProcessConfig,
} from '../../electron/core/display/bridge-process.js';
import type { BridgeEvent, BridgeStats } from '../../electron/core/display/bridge.js';
import { countColor } from '../fixtures/bridge/png.js';
import { itNeeds } from '../helpers/capability.js';
import {
  BRIDGE_FIXTURES,
  HWC_GLOBALS,
  missingBridgeCapability,
  protocolXml,
  startLineProcess,
} from './helpers/bridge-host.js';
import { startHeadlessWeston, waitFor, type HeadlessWeston } from './helpers/weston.js';
import { buildWaylandClient } from './helpers/wayland-client-build.js';

// The protocols beyond the basics, relayed to weston and checked on its screen: wp_viewporter,
// wp_presentation feedback, xdg popups and subsurface position and stacking. wl_seat is offered
// by the relay but cannot be exercised here: weston's headless backend has no input devices, so
// it announces no seat at all. The bridge runs as sessions run it: its own confined process
// (droidway-bridge), so each protocol's relay is exercised under the seccomp allow-list too.
const FIXTURE = join(BRIDGE_FIXTURES, 'protocol-client.c');
const HWC_FIXTURE = join(BRIDGE_FIXTURES, 'android-hwc-client.c');
const XML = protocolXml(
  'xdg-shell',
  'viewporter',
  'presentation-time',
  // The hwcomposer stand-in's tablet seat and fractional scale.
  'tablet-unstable-v2',
  'fractional-scale-v1',
);
const missing = missingBridgeCapability({
  root: false,
  tools: ['weston', 'weston-screenshooter', 'gcc', 'wayland-scanner'],
  xml: XML,
  bridgeProcess: true,
});

let weston: HeadlessWeston | null = null;
let bridge: BridgeProcess | null = null;

/** Root (CI) hands the confined bridge a uid to become, as the session host does. */
const RUN_AS: Partial<BridgeProcessConfig> =
  process.getuid?.() === 0 ? { runAsUid: 65534, runAsGid: 65534 } : {};

/** Polls the bridge process's stats until `pick` returns a value. */
async function waitForStats<T>(
  what: string,
  of: BridgeProcess,
  pick: (s: BridgeStats) => T | undefined,
): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = pick(await of.stats());
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
let socketDir = '';
let client = '';
let hwcClient = '';
const events: BridgeEvent[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (missing !== null) return;
  weston = await startHeadlessWeston('droidway-bridge-proto-');
  socketDir = mkdtempSync('/tmp/droidway-bridge-proto-sock-');
  const protocols = XML;
  client = await buildWaylandClient({ source: FIXTURE, protocols, outDir: socketDir });
  hwcClient = await buildWaylandClient({ source: HWC_FIXTURE, protocols, outDir: socketDir });
  bridge = BridgeProcess.start({
    config: {
      socketPath: join(socketDir, 'bridge-0'),
      hostSocketPath: weston.socket,
      ...RUN_AS,
      globals: HWC_GLOBALS,
    },
    onEvent: (event) => events.push(event),
  });
  const globals = (await bridge.ready).map((g) => g.interface);
  // Offered only when the host has it, and headless weston has no seat.
  expect(globals).not.toContain('wl_seat');
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill();
  await bridge?.stop();
  weston?.stop();
  if (socketDir !== '') rmSync(socketDir, { recursive: true, force: true });
});

/** Starts the protocol client in `mode`; `lines()` is what it printed so far. */
function startClient(mode: string, ...colours: number[]) {
  const started = startLineProcess(
    `${mode} client`,
    client,
    [mode, ...colours.map((c) => c.toString(16))],
    { ...process.env, XDG_RUNTIME_DIR: socketDir, WAYLAND_DISPLAY: 'bridge-0' },
  );
  children.push(started.child);
  return started;
}

/** Waits until a screenshot shows exactly `expected` pixels of each colour. */
async function expectPixels(expected: Map<number, number>): Promise<void> {
  let seen = new Map<number, number>();
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const shot = await weston!.screenshot();
    seen = new Map([...expected.keys()].map((rgb) => [rgb, countColor(shot, rgb)]));
    if ([...expected].every(([rgb, count]) => seen.get(rgb) === count)) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(expected));
}

describe('display bridge protocol coverage', () => {
  itNeeds(
    'scales a buffer with wp_viewport.set_destination',
    missing,
    async () => {
      const viewport = startClient('viewport', 0xa03010);
      await viewport.line(/^mapped$/);
      // A 32×32 buffer shown at 200×100.
      await expectPixels(new Map([[0xa03010, 200 * 100]]));
      viewport.child.kill();
    },
    30_000,
  );

  itNeeds(
    'delivers wp_presentation feedback to the guest',
    missing,
    async () => {
      const presentation = startClient('presentation', 0x10a030);
      expect(await presentation.line(/^(presented|discarded)/)).toMatch(
        /^presented \d+ timestamped$/,
      );
      presentation.child.kill();
    },
    30_000,
  );

  itNeeds(
    'shows an xdg popup where the positioner puts it',
    missing,
    async () => {
      const popup = startClient('popup', 0x3010a0, 0xe0e020);
      expect(await popup.line(/^popup-configured/)).toBe('popup-configured 20 30 60 40');
      await popup.line(/^mapped$/);
      await expectPixels(
        new Map([
          [0x3010a0, 200 * 150 - 60 * 40],
          [0xe0e020, 60 * 40],
        ]),
      );
      popup.child.kill();
    },
    30_000,
  );

  itNeeds(
    'positions and stacks subsurfaces',
    missing,
    async () => {
      const sub = startClient('subsurface', 0x208080, 0xf08000, 0x8000f0);
      await sub.line(/^mapped$/);
      // The subsurface above covers 50×50 of the parent; the one below sticks out at the
      // bottom right, its 20×20 corner over the parent hidden.
      await expectPixels(
        new Map([
          [0x208080, 200 * 150 - 50 * 50],
          [0xf08000, 50 * 50],
          [0x8000f0, 50 * 50 - 20 * 20],
        ]),
      );
      sub.child.kill();
    },
    30_000,
  );
});

describe('display bridge with a real EGL client', () => {
  // Mesa's software EGL draws into unsealed memfds, so this bridge allows them. Its surface
  // enter events carry an object argument (wl_output): the relay must hand libwayland-client
  // back its own closure untouched, or the bridge process aborts in wl_proxy_unref.
  itNeeds(
    'relays weston-subsurfaces (events with object arguments) without harm',
    missing ?? (existsSync('/usr/bin/weston-subsurfaces') ? null : 'weston-subsurfaces is missing'),
    async () => {
      const lenient = BridgeProcess.start({
        config: {
          socketPath: join(socketDir, 'bridge-lenient'),
          hostSocketPath: weston!.socket,
          ...RUN_AS,
          globals: [
            'wl_compositor',
            'wl_subcompositor',
            'wl_shm',
            'wl_output',
            'wl_seat',
            'xdg_wm_base',
            'wp_viewporter',
            'wp_presentation',
          ],
          requireSealed: false,
        },
      });
      try {
        await lenient.ready;
        const child = spawn('weston-subsurfaces', [], {
          env: {
            ...process.env,
            XDG_RUNTIME_DIR: socketDir,
            WAYLAND_DISPLAY: 'bridge-lenient',
            LIBGL_ALWAYS_SOFTWARE: '1',
          },
          stdio: 'ignore',
        });
        children.push(child);
        const client = await waitForStats('weston-subsurfaces committing 30 frames', lenient, (s) =>
          s.clients.find((c) => c.connected && c.commits >= 30),
        );
        expect(client.disconnectReason).toBeNull();
        expect(client.buffersForwarded.shm).toBeGreaterThan(0);
        expect(client.bytesCopied).toBe(0);
        expect(child.exitCode).toBeNull();
        child.kill();
        await waitForStats('the client gone', lenient, (s) =>
          s.clients.every((c) => !c.connected) ? true : undefined,
        );
        // Neither client ended the confined process.
        expect(lenient.ends).toEqual([]);
      } finally {
        await lenient.stop();
      }
    },
    60_000,
  );
});

describe("Android's own compositor client (Waydroid's hwcomposer, a stand-in)", () => {
  // Its layers are memfds made with MFD_ALLOW_SEALING and never sealed, and each window's
  // background is a 1×1 buffer in a memfd made with flags 0: the bridge seals the first itself
  // and copies the second into a sealed memfd of its own, so the strict policy shows the window.
  itNeeds(
    'shows its task window: layers sealed by the bridge, the background copied',
    missing,
    async () => {
      const BG = 0x2a6b9c;
      const FG = 0x3cb371;
      const task = 'com.android.settings';
      const hwc = spawn(hwcClient, ['160', '120', BG.toString(16), FG.toString(16), task], {
        env: { ...process.env, XDG_RUNTIME_DIR: socketDir, WAYLAND_DISPLAY: 'bridge-0' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(hwc);
      let output = '';
      hwc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const line = (prefix: string) =>
        waitFor(`hwc client printing ${prefix}`, () =>
          output.split('\n').find((l) => l.startsWith(prefix)),
        );
      // Headless weston has no seat and no linux-dmabuf; the rest is bound as the HAL binds it.
      expect(await line('globals ')).toBe(
        'globals wl_compositor wl_subcompositor xdg_wm_base wl_shm wp_viewporter wl_output ' +
          'wp_presentation',
      );
      expect(await line('missing')).toBe(
        'missing zwp_tablet_manager_v2 zwp_pointer_constraints_v1 zwp_relative_pointer_manager_v1',
      );
      await line(`mapped ${task}`);
      // The guest sees the seals the bridge added to its own memfd: F_SEAL_SHRINK | F_SEAL_GROW.
      expect(await line(`seals ${task}`)).toBe(`seals ${task} 6`);
      await expectPixels(
        new Map([
          [BG, 160 * 120 - 80 * 60],
          [FG, 80 * 60],
        ]),
      );
      const stats = await waitForStats('hwc client stats', bridge!, (s) =>
        s.clients.find((c) => c.pid === hwc.pid && c.commits > 5 && c.buffersForwarded.shm > 5),
      );
      expect(stats).toMatchObject({ connected: true, disconnectReason: null, violations: {} });
      // The 4-byte background: once when its pool was made, once at its commit.
      expect(stats.bytesCopied).toBe(8);
      expect(stats.buffersForwarded.shm).toBeGreaterThan(5);
      const mapped = events.find(
        (e) => e.type === 'toplevel-mapped' && e.appId === `droidway.${task}`,
      );
      expect(mapped).toMatchObject({ title: task });
      hwc.kill();
      await waitForStats('hwc client gone', bridge!, (s) =>
        s.clients.find((c) => c.pid === hwc.pid)?.connected ? undefined : true,
      );
    },
    30_000,
  );
});
