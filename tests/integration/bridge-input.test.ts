import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  DisplayBridge,
  supportedBridgeGlobals,
  type BridgeEvent,
  type BridgeGlobalName,
} from '../../electron/core/display/bridge.js';
import { countOpenFds } from '../../electron/core/native/index.js';
import { countColor, decodePng } from '../fixtures/bridge/png.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { startHeadlessSway, SWAY_800x600 } from './helpers/sway.js';
import { waitFor } from './helpers/weston.js';
import { buildWaylandClient } from './helpers/wayland-client-build.js';

// Seat input through the bridge on sway headless, which (unlike headless weston) has a seat:
// wtype types with a virtual keyboard, the host routes keys to the focused toplevel, and the
// bridge relays them to the guest client that owns it, with a keymap fd of its own making. sway
// refuses to run as root, so it runs as nobody (uid 65534) in a private runtime directory.
const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '../fixtures/bridge/input-client.c');
const HWC_FIXTURE = join(import.meta.dirname, '../fixtures/bridge/android-hwc-client.c');
const DEMO_CLIENT = join(import.meta.dirname, '../../native/guest/build/droidway-demo-client');
const POINTER_FIXTURE = join(import.meta.dirname, '../fixtures/bridge/virtual-pointer.c');
const POINTER_XML = join(
  import.meta.dirname,
  '../fixtures/bridge/wlr-virtual-pointer-unstable-v1.xml',
);
const PROTOCOLS = '/usr/share/wayland-protocols/stable';
const XML = {
  'xdg-shell': `${PROTOCOLS}/xdg-shell/xdg-shell.xml`,
  viewporter: `${PROTOCOLS}/viewporter/viewporter.xml`,
  'presentation-time': `${PROTOCOLS}/presentation-time/presentation-time.xml`,
  // The hwcomposer stand-in's tablet seat and fractional scale.
  'tablet-unstable-v2': '/usr/share/wayland-protocols/unstable/tablet/tablet-unstable-v2.xml',
  'fractional-scale-v1':
    '/usr/share/wayland-protocols/staging/fractional-scale/fractional-scale-v1.xml',
};
const TOOLS = ['sway', 'swaymsg', 'wtype', 'grim', 'gcc', 'wayland-scanner'];
const NOBODY = 65534;

function missingCapability(): string | null {
  const root = needRoot();
  if (root !== null) return root;
  const tool = missingTool(TOOLS);
  if (tool !== null) return tool;
  if (!Object.values(XML).every((xml) => existsSync(xml))) return 'wayland-protocols is missing';
  if (!existsSync(join(import.meta.dirname, '../../native/build/Release/droidway_native.node'))) {
    return 'the native module is not built (npm run build:native)';
  }
  return null;
}
const missing = missingCapability();

let dir = '';
let client = '';
let hwcClient = '';
let virtualPointer = '';
let sway: ChildProcess | null = null;
let swaySocket = '';
const hostEnv = () => ({ ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: swaySocket });

beforeAll(async () => {
  if (missing !== null) return;
  // mkdtemp makes it 0700; it becomes nobody's runtime directory.
  dir = mkdtempSync('/tmp/droidway-bridge-input-');
  const protocols = [...Object.values(XML), POINTER_XML];
  client = await buildWaylandClient({ source: FIXTURE, protocols, outDir: dir });
  hwcClient = await buildWaylandClient({ source: HWC_FIXTURE, protocols, outDir: dir });
  virtualPointer = await buildWaylandClient({ source: POINTER_FIXTURE, protocols, outDir: dir });
  // No bar, no borders, no gaps: two tiled windows split the 800×600 output exactly.
  ({ sway, socket: swaySocket } = await startHeadlessSway(dir, SWAY_800x600, NOBODY));
}, 60_000);

afterAll(() => {
  sway?.kill();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Starts the input client through `bridgeSocket`; `line(re)` waits for a printed line. */
function startClient(bridgeSocket: string, rgb: number, title: string) {
  const child = spawn(client, [rgb.toString(16), title, title.toLowerCase()], {
    env: { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: bridgeSocket },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const lines = () => output.split('\n').filter(Boolean);
  const line = (pattern: RegExp, from = 0) =>
    waitFor(`${title} printing ${pattern}`, () =>
      lines()
        .slice(from)
        .find((l) => pattern.test(l)),
    );
  return { child, lines, line };
}

/** Runs a sway command through its IPC socket (sway-ipc.UID.PID.sock in its runtime dir). */
async function swaymsg(command: string): Promise<void> {
  const ipc = readdirSync(dir).find((name) => name.startsWith('sway-ipc.'));
  if (ipc === undefined) throw new Error('sway has no IPC socket');
  await run('swaymsg', ['-s', join(dir, ipc), command], { env: hostEnv() });
}

async function screenshotCount(rgb: number): Promise<number> {
  const { stdout } = await run('grim', ['-t', 'png', '-'], {
    env: hostEnv(),
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return countColor(decodePng(stdout), rgb);
}

describe('display bridge input on sway', () => {
  itNeeds(
    'relays keys to the focused guest only, with a sealed keymap copy, at the tiled size',
    missing,
    async () => {
      const socketDir = mkdtempSync('/tmp/droidway-bridge-input-sock-');
      const bridgeSocket = join(socketDir, 'bridge-0');
      const events: BridgeEvent[] = [];
      const fdsBefore = countOpenFds();
      const bridge = DisplayBridge.start({
        socketPath: bridgeSocket,
        hostDisplay: swaySocket,
        globals: ['wl_compositor', 'wl_shm', 'xdg_wm_base', 'wl_seat', 'wl_output'],
        onEvent: (event) => events.push(event),
      });
      const A = 0x4080c0;
      const B = 0xc08040;
      const clients: ChildProcess[] = [];
      try {
        const globals = (await bridge.ready).map((g) => g.interface);
        expect(globals).toContain('wl_seat');
        const a = startClient(bridgeSocket, A, 'Alpha');
        clients.push(a.child);
        await a.line(/^configure 800 600$/);

        // A second guest: sway tiles both side by side, each redrawn at its new size, and
        // focuses the new one.
        const b = startClient(bridgeSocket, B, 'Beta');
        clients.push(b.child);
        await a.line(/^configure 400 600$/);
        await b.line(/^configure 400 600$/);
        let seen: number[] = [];
        for (let i = 0; i < 30; ++i) {
          seen = [await screenshotCount(A), await screenshotCount(B)];
          if (seen[0] === 400 * 600 && seen[1] === 400 * 600) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(seen).toEqual([400 * 600, 400 * 600]);

        // wtype's virtual keyboard gives the seat a keyboard while it types. The keymap each
        // guest gets is the bridge's copy: sealed against every change (shrink, grow, future
        // write, seal = 0x17), so writing to it is refused, and still a keymap xkbcommon can
        // map, privately or shared (as older clients map it). Keys go to the
        // focused guest only. wtype makes a keymap of its own with one keycode per character
        // typed ("hi": 1 and 2); it waits 500 ms first, so the guests have their keyboards.
        const aBefore = a.lines().length;
        const bBefore = b.lines().length;
        await run('wtype', ['-s', '500', '-d', '20', 'hi'], { env: hostEnv() });
        expect(await b.line(/^keymap /, bBefore)).toMatch(
          /^keymap 1 \d+ 17 rw xkb shared write-refused$/,
        );
        await b.line(/^keyboard-enter$/, bBefore);
        await b.line(/^key 2 0$/, bBefore);
        expect(
          b
            .lines()
            .slice(bBefore)
            .filter((l) => l.startsWith('key ')),
        ).toEqual(['key 1 1', 'key 1 0', 'key 2 1', 'key 2 0']);
        // The unfocused guest gets a keyboard (and its keymap), but no focus and no keys.
        const keysOrFocus = (l: string) => l.startsWith('key ') || l === 'keyboard-enter';
        expect(a.lines().slice(aBefore).filter(keysOrFocus)).toEqual([]);

        // Focus moves to the first guest: now it alone gets the keys.
        await swaymsg('[title="Alpha"] focus');
        const bAfterFocus = b.lines().length;
        await run('wtype', ['-s', '500', 'x'], { env: hostEnv() });
        await a.line(/^keyboard-enter$/, aBefore);
        await a.line(/^key 1 0$/, aBefore);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(
          b
            .lines()
            .slice(bAfterFocus)
            .filter((l) => l.startsWith('key ')),
        ).toEqual([]);

        // Closing the second window (sway's kill sends xdg_toplevel.close) gives the first
        // the whole output again, drawn at the new size.
        await swaymsg('[title="Beta"] kill');
        await b.line(/^close$/);
        await a.line(/^configure 800 600$/, aBefore);
        const mapped = events.filter((e) => e.type === 'toplevel-mapped');
        expect(mapped.map((e) => (e.type === 'toplevel-mapped' ? e.title : ''))).toEqual([
          'Alpha',
          'Beta',
        ]);
      } finally {
        for (const child of clients) child.kill();
        bridge.stop();
        rmSync(socketDir, { recursive: true, force: true });
      }
      // The guests' stdout pipes close once the killed children are reaped.
      await waitFor('fds back to baseline', () =>
        countOpenFds() === fdsBefore ? true : undefined,
      );
    },
    60_000,
  );
  itNeeds(
    "closes an Android task when the host closes its window (Waydroid's hwcomposer stand-in)",
    missing,
    async () => {
      const socketDir = mkdtempSync('/tmp/droidway-bridge-input-sock-');
      const bridgeSocket = join(socketDir, 'bridge-0');
      const events: BridgeEvent[] = [];
      const bridge = DisplayBridge.start({
        socketPath: bridgeSocket,
        hostDisplay: swaySocket,
        globals: [
          'wl_compositor',
          'wl_subcompositor',
          'wl_shm',
          'xdg_wm_base',
          'wp_viewporter',
          'wp_presentation',
          'wl_output',
          'wl_seat',
        ],
        onEvent: (event) => events.push(event),
      });
      const BG = 0x1f5f8f;
      const FG = 0x8fbf3f;
      let hwc: ChildProcess | null = null;
      try {
        await bridge.ready;
        hwc = spawn(hwcClient, ['160', '120', BG.toString(16), FG.toString(16), 'com.a', 'com.b'], {
          env: { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: bridgeSocket },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let output = '';
        hwc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const line = (text: string) =>
          waitFor(`hwc printing ${text}`, () =>
            output.split('\n').includes(text) ? true : undefined,
          );
        // sway has the tablet, pointer-constraints and relative-pointer globals; the bridge does
        // not relay them, and the hwcomposer works without them.
        await line(
          'globals wl_compositor wl_subcompositor xdg_wm_base wl_shm wp_viewporter wl_seat ' +
            'wl_output wp_presentation',
        );
        await line(
          'missing zwp_tablet_manager_v2 zwp_pointer_constraints_v1 zwp_relative_pointer_manager_v1',
        );
        await line('mapped com.a');
        await line('mapped com.b');
        await line('seals com.a 6');
        await line('seals com.b 6');
        const counts = async () => {
          const { stdout } = await run('grim', ['-t', 'png', '-'], {
            env: hostEnv(),
            encoding: 'buffer',
            maxBuffer: 64 * 1024 * 1024,
          });
          const image = decodePng(stdout);
          return [countColor(image, BG), countColor(image, FG)];
        };
        // The layer is drawn 1:1 and must be exact; the background is the 1×1 buffer scaled by
        // a viewport, and sway's pixman scaling blends at most one edge row and column of it.
        const expectWindows = async (n: number) => {
          const background = n * (160 * 120 - 80 * 60);
          const edges = n * (160 + 120);
          let seen: number[] = [];
          for (let i = 0; i < 30; ++i) {
            seen = await counts();
            if (
              seen[0]! <= background &&
              seen[0]! >= background - edges &&
              seen[1] === n * 80 * 60
            ) {
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          expect(seen[1]).toBe(n * 80 * 60);
          expect(seen[0]).toBeLessThanOrEqual(background);
          expect(seen[0]).toBeGreaterThanOrEqual(background - edges);
        };
        await expectWindows(2);

        // sway's kill sends xdg_toplevel.close: the task goes, its window with it, the other
        // task and the client stay.
        await swaymsg('[app_id="droidway.com.a"] kill');
        await line('closed com.a');
        await expectWindows(1);
        await waitFor('toplevel-unmapped of com.a', () =>
          events.find((e) => e.type === 'toplevel-unmapped' && e.appId === 'droidway.com.a'),
        );
        const stats = bridge.stats().clients.find((c) => c.pid === hwc?.pid);
        expect(stats).toMatchObject({ connected: true, violations: {}, fdsRejected: {} });
        // Each 4-byte background copied twice: when its pool was made and at its commit.
        expect(stats?.bytesCopied).toBe(16);

        // The last task closed: the hwcomposer stand-in ends on its own.
        await swaymsg('[app_id="droidway.com.b"] kill');
        await line('closed com.b');
        await waitFor('hwc exited', () => (hwc?.exitCode === 0 ? true : undefined));
        await expectWindows(0);
      } finally {
        hwc?.kill();
        bridge.stop();
        rmSync(socketDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
  itNeeds(
    'relays pointer motion, buttons and the cursor to the guest under the pointer',
    missing,
    async () => {
      const socketDir = mkdtempSync('/tmp/droidway-bridge-input-sock-');
      const bridgeSocket = join(socketDir, 'bridge-0');
      const bridge = DisplayBridge.start({
        socketPath: bridgeSocket,
        hostDisplay: swaySocket,
        globals: ['wl_compositor', 'wl_shm', 'xdg_wm_base', 'wl_seat', 'wl_output'],
      });
      const A = 0x2080a0;
      const B = 0xa02080;
      const children: ChildProcess[] = [];
      try {
        await bridge.ready;
        const a = startClient(bridgeSocket, A, 'Left');
        children.push(a.child);
        await a.line(/^configure 800 600$/);
        const b = startClient(bridgeSocket, B, 'Right');
        children.push(b.child);
        await a.line(/^configure 400 600$/);
        await b.line(/^configure 400 600$/);

        // A pointer device that lives as long as the test needs it (sway headless has none).
        const pointer = spawn(virtualPointer, ['800', '600'], {
          env: hostEnv(),
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        children.push(pointer);
        let pointerOut = '';
        pointer.stdout?.on('data', (chunk: Buffer) => (pointerOut += chunk.toString()));
        let acks = 0;
        const send = async (command: string) => {
          pointer.stdin?.write(`${command}\n`);
          ++acks;
          await waitFor(`virtual pointer: ${command}`, () =>
            pointerOut.split('\n').filter((l) => l === 'ok').length >= acks ? true : undefined,
          );
        };
        await waitFor('virtual pointer ready', () =>
          pointerOut.includes('ready') ? true : undefined,
        );
        // Both guests have asked for their wl_pointer (relayed to sway) before it moves: a
        // pointer created after the motion would get no enter until the next one.
        await a.line(/^capabilities 1$/);
        await b.line(/^capabilities 1$/);
        await new Promise((resolve) => setTimeout(resolve, 200));

        // Over the left window: it gets the pointer at surface coordinates, and its cursor (a
        // 16×16 square of the inverted colour, a surface relayed like any other) is drawn.
        await send('move 100 300');
        await a.line(/^pointer-enter /);
        await a.line(/^pointer-(enter|motion) 100 300$/);
        const cursorPixels = async (rgb: number) => {
          const { stdout } = await run('grim', ['-c', '-t', 'png', '-'], {
            env: hostEnv(),
            encoding: 'buffer',
            maxBuffer: 64 * 1024 * 1024,
          });
          return countColor(decodePng(stdout), ~rgb & 0xffffff);
        };
        let seen = 0;
        for (let i = 0; i < 30 && seen !== 256; ++i) seen = await cursorPixels(A);
        expect(seen).toBe(256);

        // Over the right window (x 600 on the output is 200 in it): the left one leaves, and
        // the click goes to the right one only (BTN_LEFT = 272).
        const aBefore = a.lines().length;
        await send('move 600 300');
        await b.line(/^pointer-enter 200 300$/);
        await a.line(/^pointer-leave$/, aBefore);
        await send('click 272');
        await b.line(/^button 272 0$/);
        expect(b.lines().filter((l) => l.startsWith('button '))).toEqual([
          'button 272 1',
          'button 272 0',
        ]);
        expect(a.lines().filter((l) => l.startsWith('button '))).toEqual([]);
        seen = 0;
        for (let i = 0; i < 30 && seen !== 256; ++i) seen = await cursorPixels(B);
        expect(seen).toBe(256);
        pointer.stdin?.write('quit\n');
      } finally {
        for (const child of children) child.kill();
        bridge.stop();
        rmSync(socketDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
  itNeeds(
    'the demo guest client redraws at the tiled size, shows the pointer and marks typed keys',
    missing ?? (existsSync(DEMO_CLIENT) ? null : 'the demo client is not built (npm run build)'),
    async () => {
      const socketDir = mkdtempSync('/tmp/droidway-bridge-input-sock-');
      const bridgeSocket = join(socketDir, 'bridge-0');
      const bridge = DisplayBridge.start({
        socketPath: bridgeSocket,
        hostDisplay: swaySocket,
        globals: ['wl_compositor', 'wl_subcompositor', 'wl_shm', 'xdg_wm_base', 'wl_seat'],
      });
      const STATUS = 0xe8a01a;
      const NAV = 0x1ae8a0;
      const POINTER = 0xff3060;
      const KEY_MARK = 0x60c0ff;
      const children: ChildProcess[] = [];
      const startDemo = () => {
        const child = spawn(DEMO_CLIENT, [], {
          env: { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: bridgeSocket },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        let output = '';
        child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        return (text: string) =>
          waitFor(`demo printing ${text}`, () =>
            output.split('\n').includes(text) ? true : undefined,
          );
      };
      const shot = async () => {
        const { stdout } = await run('grim', ['-t', 'png', '-'], {
          env: hostEnv(),
          encoding: 'buffer',
          maxBuffer: 64 * 1024 * 1024,
        });
        return decodePng(stdout);
      };
      /** Polls screenshots until `counts` match, then asserts them. */
      const expectCounts = async (want: Map<number, number>, nudge?: () => Promise<void>) => {
        let seen = new Map<number, number>();
        for (let i = 0; i < 40; ++i) {
          const image = await shot();
          seen = new Map([...want.keys()].map((rgb) => [rgb, countColor(image, rgb)]));
          if ([...want].every(([rgb, n]) => seen.get(rgb) === n)) break;
          await nudge?.();
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(want));
      };
      try {
        await bridge.ready;
        const demo = startDemo();
        await demo('mapped');
        // sway tiles it over the whole 800×600 output: the bars span that width.
        await expectCounts(
          new Map([
            [STATUS, 800 * 24],
            [NAV, 800 * 48],
          ]),
        );

        // The pointer, drawn by the guest where the host says it is.
        const pointer = spawn(virtualPointer, ['800', '600'], {
          env: hostEnv(),
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        children.push(pointer);
        let pointerOut = '';
        pointer.stdout?.on('data', (chunk: Buffer) => (pointerOut += chunk.toString()));
        await waitFor('virtual pointer ready', () =>
          pointerOut.includes('ready') ? true : undefined,
        );
        // Until the guest's wl_pointer exists (relayed to sway), a motion reaches nobody: move
        // again between screenshots.
        let step = 0;
        await expectCounts(new Map([[POINTER, 12 * 12]]), async () => {
          pointer.stdin?.write(`move ${300 + (step++ % 2)} 300\n`);
        });

        // Three keys typed, three marks.
        await run('wtype', ['-s', '500', '-d', '20', 'abc'], { env: hostEnv() });
        await expectCounts(new Map([[KEY_MARK, 3 * 8 * 8]]));

        // A second window halves the first: it draws every layer again at 400×600.
        const second = startDemo();
        await second('mapped');
        await demo('size 400x600');
        await expectCounts(
          new Map([
            [STATUS, 2 * 400 * 24],
            [NAV, 2 * 400 * 48],
          ]),
        );
        pointer.stdin?.write('quit\n');
      } finally {
        for (const child of children) child.kill();
        bridge.stop();
        rmSync(socketDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
  itNeeds(
    "passes the host output's scale to the guest (HiDPI)",
    missing,
    async () => {
      const socketDir = mkdtempSync('/tmp/droidway-bridge-input-sock-');
      const bridgeSocket = join(socketDir, 'bridge-0');
      const bridge = DisplayBridge.start({
        socketPath: bridgeSocket,
        hostDisplay: swaySocket,
        globals: [
          'wl_compositor',
          'wl_subcompositor',
          'wl_shm',
          'xdg_wm_base',
          'wp_viewporter',
          'wl_output',
        ],
      });
      let hwc: ChildProcess | null = null;
      try {
        await bridge.ready;
        await swaymsg('output HEADLESS-1 scale 2');
        hwc = spawn(hwcClient, ['64', '48', '102030', '405060', 'com.scaled'], {
          env: { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: bridgeSocket },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let output = '';
        hwc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        await waitFor('the guest told the output scale', () =>
          output.split('\n').includes('output-scale 2') ? true : undefined,
        );
        await waitFor('hwc mapped', () =>
          output.split('\n').includes('mapped com.scaled') ? true : undefined,
        );
      } finally {
        hwc?.kill();
        await swaymsg('output HEADLESS-1 scale 1');
        bridge.stop();
        rmSync(socketDir, { recursive: true, force: true });
      }
    },
    30_000,
  );
  itNeeds(
    "runs Waydroid's hwcomposer stand-in under the android preset's globals: every one sway has",
    missing,
    async () => {
      const preset = JSON.parse(
        readFileSync(join(import.meta.dirname, '../../resources/policies/android.json'), 'utf8'),
      ) as { bridge: { globals: string[] } };
      const supported = new Set<string>(supportedBridgeGlobals());
      const globals = preset.bridge.globals.filter((g): g is BridgeGlobalName => supported.has(g));
      const socketDir = mkdtempSync('/tmp/droidway-bridge-input-sock-');
      const bridgeSocket = join(socketDir, 'bridge-0');
      const bridge = DisplayBridge.start({
        socketPath: bridgeSocket,
        hostDisplay: swaySocket,
        globals,
      });
      let hwc: ChildProcess | null = null;
      try {
        const offered = (await bridge.ready).map((g) => g.interface);
        // sway 1.7 headless (pixman) has neither linux-dmabuf nor the fractional scale.
        expect(offered).toContain('zwp_tablet_manager_v2');
        expect(offered).not.toContain('wp_fractional_scale_manager_v1');
        hwc = spawn(hwcClient, ['64', '48', '102030', '405060', 'com.preset'], {
          env: { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: bridgeSocket },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let output = '';
        hwc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const line = (text: string) =>
          waitFor(`hwc printing ${text}`, () =>
            output.split('\n').includes(text) ? true : undefined,
          );
        // Nothing the HAL binds is missing but what sway lacks; the tablet seat is made.
        await line('missing');
        await line('tablet-seat');
        await line('mapped com.preset');
        expect(output.split('\n').some((l) => l.startsWith('fractional-scale '))).toBe(false);
        const stats = bridge.stats().clients.find((c) => c.pid === hwc?.pid);
        expect(stats).toMatchObject({ connected: true, violations: {}, fdsRejected: {} });
      } finally {
        hwc?.kill();
        bridge.stop();
        rmSync(socketDir, { recursive: true, force: true });
      }
    },
    30_000,
  );
});
