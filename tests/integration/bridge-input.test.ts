import { type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  supportedBridgeGlobals,
  type BridgeEvent,
  type BridgeGlobalName,
} from '../../electron/core/display/bridge.js';
import { countOpenFds } from '../../electron/core/native/index.js';
import { countColor } from '../fixtures/bridge/png.js';
import { itNeeds } from '../helpers/capability.js';
import {
  BRIDGE_FIXTURES,
  DEMO_CLIENT,
  HWC_GLOBALS,
  missingBridgeCapability,
  protocolXml,
  startDisplayBridge,
  startLineProcess,
  startVirtualPointer,
  useSwayHost,
  type LineProcess,
} from './helpers/bridge-host.js';
import { waitFor } from './helpers/weston.js';
import { buildWaylandClient } from './helpers/wayland-client-build.js';

// Seat input through the bridge on sway headless, which (unlike headless weston) has a seat:
// wtype types with a virtual keyboard, the host routes keys to the focused toplevel, and the
// bridge relays them to the guest client that owns it, with a keymap fd of its own making. sway
// refuses to run as root, so it runs as nobody (uid 65534) in a private runtime directory.
const XML = protocolXml(
  'xdg-shell',
  'viewporter',
  'presentation-time',
  // The hwcomposer stand-in's tablet seat and fractional scale.
  'tablet-unstable-v2',
  'fractional-scale-v1',
);
const missing = missingBridgeCapability({
  tools: ['sway', 'swaymsg', 'wtype', 'grim', 'gcc', 'wayland-scanner'],
  xml: XML,
  nativeModule: true,
});

let client = '';
let hwcClient = '';
let virtualPointer = '';
// No bar, no borders, no gaps: two tiled windows split the 800×600 output exactly.
const host = useSwayHost({
  prefix: 'droidway-bridge-input-',
  missing,
  build: async (dir) => {
    const protocols = [...XML, ...protocolXml('wlr-virtual-pointer-unstable-v1')];
    const cc = (name: string) =>
      buildWaylandClient({ source: join(BRIDGE_FIXTURES, `${name}.c`), protocols, outDir: dir });
    client = await cc('input-client');
    hwcClient = await cc('android-hwc-client');
    virtualPointer = await cc('virtual-pointer');
  },
});

/** A bridge toward sway with `globals`, on a socket in a folder of its own. */
const startBridge = (globals: BridgeGlobalName[], onEvent?: (event: BridgeEvent) => void) =>
  startDisplayBridge('droidway-bridge-input-sock-', {
    hostDisplay: host.socket,
    globals,
    ...(onEvent !== undefined ? { onEvent } : {}),
  });

/** Starts the input client through `bridgeSocket`; `line(re)` waits for a printed line. */
const startClient = (bridgeSocket: string, rgb: number, title: string) =>
  startLineProcess(
    title,
    client,
    [rgb.toString(16), title, title.toLowerCase()],
    host.env(bridgeSocket),
  );

/**
 * Starts an input client of each colour and title, adding them to `children`: the first fills
 * the output; with the second, sway tiles both side by side, each redrawn at its new size, and
 * focuses the new one.
 */
async function startTiledPair(
  bridgeSocket: string,
  first: [rgb: number, title: string],
  second: [rgb: number, title: string],
  children: ChildProcess[],
): Promise<[LineProcess, LineProcess]> {
  const a = startClient(bridgeSocket, ...first);
  children.push(a.child);
  await a.line(/^configure 800 600$/);
  const b = startClient(bridgeSocket, ...second);
  children.push(b.child);
  await a.line(/^configure 400 600$/);
  await b.line(/^configure 400 600$/);
  return [a, b];
}

/** Starts the hwcomposer stand-in through `bridgeSocket` with `args`. */
const startHwc = (bridgeSocket: string, args: string[]) =>
  startLineProcess('hwc', hwcClient, args, host.env(bridgeSocket));

const screenshotCount = async (rgb: number) => countColor(await host.screenshot(), rgb);

describe('display bridge input on sway', () => {
  itNeeds(
    'relays keys to the focused guest only, with a sealed keymap copy, at the tiled size',
    missing,
    async () => {
      const events: BridgeEvent[] = [];
      const fdsBefore = countOpenFds();
      const {
        bridge,
        socket: bridgeSocket,
        stop,
      } = startBridge(['wl_compositor', 'wl_shm', 'xdg_wm_base', 'wl_seat', 'wl_output'], (event) =>
        events.push(event),
      );
      const A = 0x4080c0;
      const B = 0xc08040;
      const clients: ChildProcess[] = [];
      try {
        const globals = (await bridge.ready).map((g) => g.interface);
        expect(globals).toContain('wl_seat');
        const [a, b] = await startTiledPair(bridgeSocket, [A, 'Alpha'], [B, 'Beta'], clients);
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
        await host.wtype('-s', '500', '-d', '20', 'hi');
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
        await host.swaymsg('[title="Alpha"] focus');
        const bAfterFocus = b.lines().length;
        await host.wtype('-s', '500', 'x');
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
        await host.swaymsg('[title="Beta"] kill');
        await b.line(/^close$/);
        await a.line(/^configure 800 600$/, aBefore);
        const mapped = events.filter((e) => e.type === 'toplevel-mapped');
        expect(mapped.map((e) => (e.type === 'toplevel-mapped' ? e.title : ''))).toEqual([
          'Alpha',
          'Beta',
        ]);
      } finally {
        for (const child of clients) child.kill();
        stop();
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
      const events: BridgeEvent[] = [];
      const {
        bridge,
        socket: bridgeSocket,
        stop,
      } = startBridge(HWC_GLOBALS, (event) => events.push(event));
      const BG = 0x1f5f8f;
      const FG = 0x8fbf3f;
      let hwc: ChildProcess | null = null;
      try {
        await bridge.ready;
        const started = startHwc(bridgeSocket, [
          '160',
          '120',
          BG.toString(16),
          FG.toString(16),
          'com.a',
          'com.b',
        ]);
        hwc = started.child;
        const line = started.printed;
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
          const image = await host.screenshot();
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
        await host.swaymsg('[app_id="droidway.com.a"] kill');
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
        await host.swaymsg('[app_id="droidway.com.b"] kill');
        await line('closed com.b');
        await waitFor('hwc exited', () => (hwc?.exitCode === 0 ? true : undefined));
        await expectWindows(0);
      } finally {
        hwc?.kill();
        stop();
      }
    },
    60_000,
  );
  itNeeds(
    'relays pointer motion, buttons and the cursor to the guest under the pointer',
    missing,
    async () => {
      const {
        bridge,
        socket: bridgeSocket,
        stop,
      } = startBridge(['wl_compositor', 'wl_shm', 'xdg_wm_base', 'wl_seat', 'wl_output']);
      const A = 0x2080a0;
      const B = 0xa02080;
      const children: ChildProcess[] = [];
      try {
        await bridge.ready;
        const [a, b] = await startTiledPair(bridgeSocket, [A, 'Left'], [B, 'Right'], children);

        // A pointer device that lives as long as the test needs it (sway headless has none).
        const { child: pointer, send } = await startVirtualPointer(virtualPointer, host.env());
        children.push(pointer);
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
          return countColor(await host.screenshot(true), ~rgb & 0xffffff);
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
        stop();
      }
    },
    60_000,
  );
  itNeeds(
    'the demo guest client redraws at the tiled size, shows the pointer and marks typed keys',
    missing ?? (existsSync(DEMO_CLIENT) ? null : 'the demo client is not built (npm run build)'),
    async () => {
      const {
        bridge,
        socket: bridgeSocket,
        stop,
      } = startBridge(['wl_compositor', 'wl_subcompositor', 'wl_shm', 'xdg_wm_base', 'wl_seat']);
      const STATUS = 0xe8a01a;
      const NAV = 0x1ae8a0;
      const POINTER = 0xff3060;
      const KEY_MARK = 0x60c0ff;
      const children: ChildProcess[] = [];
      const startDemo = () => {
        const demo = startLineProcess('demo', DEMO_CLIENT, [], host.env(bridgeSocket));
        children.push(demo.child);
        return demo.printed;
      };
      /** Polls screenshots until `counts` match, then asserts them. */
      const expectCounts = async (want: Map<number, number>, nudge?: () => Promise<void>) => {
        let seen = new Map<number, number>();
        for (let i = 0; i < 40; ++i) {
          const image = await host.screenshot();
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
        const { child: pointer } = await startVirtualPointer(virtualPointer, host.env());
        children.push(pointer);
        // Until the guest's wl_pointer exists (relayed to sway), a motion reaches nobody: move
        // again between screenshots.
        let step = 0;
        await expectCounts(new Map([[POINTER, 12 * 12]]), async () => {
          pointer.stdin?.write(`move ${300 + (step++ % 2)} 300\n`);
        });

        // Three keys typed, three marks.
        await host.wtype('-s', '500', '-d', '20', 'abc');
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
        stop();
      }
    },
    60_000,
  );
  itNeeds(
    "passes the host output's scale to the guest (HiDPI)",
    missing,
    async () => {
      const {
        bridge,
        socket: bridgeSocket,
        stop,
      } = startBridge([
        'wl_compositor',
        'wl_subcompositor',
        'wl_shm',
        'xdg_wm_base',
        'wp_viewporter',
        'wl_output',
      ]);
      let hwc: ChildProcess | null = null;
      try {
        await bridge.ready;
        await host.swaymsg('output HEADLESS-1 scale 2');
        const started = startHwc(bridgeSocket, ['64', '48', '102030', '405060', 'com.scaled']);
        hwc = started.child;
        // The guest is told the output's scale.
        await started.printed('output-scale 2');
        await started.printed('mapped com.scaled');
      } finally {
        hwc?.kill();
        await host.swaymsg('output HEADLESS-1 scale 1');
        stop();
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
      const { bridge, socket: bridgeSocket, stop } = startBridge(globals);
      let hwc: ChildProcess | null = null;
      try {
        const offered = (await bridge.ready).map((g) => g.interface);
        // sway 1.7 headless (pixman) has neither linux-dmabuf nor the fractional scale.
        expect(offered).toContain('zwp_tablet_manager_v2');
        expect(offered).not.toContain('wp_fractional_scale_manager_v1');
        const started = startHwc(bridgeSocket, ['64', '48', '102030', '405060', 'com.preset']);
        hwc = started.child;
        const line = started.printed;
        // Nothing the HAL binds is missing but what sway lacks; the tablet seat is made.
        await line('missing');
        await line('tablet-seat');
        await line('mapped com.preset');
        expect(started.lines().some((l) => l.startsWith('fractional-scale '))).toBe(false);
        const stats = bridge.stats().clients.find((c) => c.pid === hwc?.pid);
        expect(stats).toMatchObject({ connected: true, violations: {}, fdsRejected: {} });
      } finally {
        hwc?.kill();
        stop();
      }
    },
    30_000,
  );
});
