import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { DisplayBridge } from '../../electron/core/display/bridge.js';
import type { BridgeGlobalName } from '../../native/index.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { startHeadlessSway, SWAY_800x600 } from './helpers/sway.js';
import { waitFor } from './helpers/weston.js';
import { buildWaylandClient } from './helpers/wayland-client-build.js';

// Relative pointer motion and pointer lock through the bridge on sway headless (which offers
// both, as desktop compositors do): a guest doing what Android's hwcomposer does binds them,
// locks the pointer to its window and receives relative motion from a virtual pointer on the
// host seat. sway refuses to run as root, so it runs as nobody in a private runtime directory.
const CLIENT_FIXTURE = join(import.meta.dirname, '../fixtures/bridge/relative-pointer-client.c');
const POINTER_FIXTURE = join(import.meta.dirname, '../fixtures/bridge/virtual-pointer.c');
const POINTER_XML = join(
  import.meta.dirname,
  '../fixtures/bridge/wlr-virtual-pointer-unstable-v1.xml',
);
const PROTOCOLS = '/usr/share/wayland-protocols';
const XML = {
  'xdg-shell': `${PROTOCOLS}/stable/xdg-shell/xdg-shell.xml`,
  'relative-pointer-unstable-v1': `${PROTOCOLS}/unstable/relative-pointer/relative-pointer-unstable-v1.xml`,
  'pointer-constraints-unstable-v1': `${PROTOCOLS}/unstable/pointer-constraints/pointer-constraints-unstable-v1.xml`,
  'wlr-virtual-pointer-unstable-v1': POINTER_XML,
};
const NOBODY = 65534;
const CORE: BridgeGlobalName[] = ['wl_compositor', 'wl_shm', 'xdg_wm_base', 'wl_seat'];
const EXTRAS: BridgeGlobalName[] = [
  'zwp_relative_pointer_manager_v1',
  'zwp_pointer_constraints_v1',
];

function missingCapability(): string | null {
  const root = needRoot();
  if (root !== null) return root;
  const tool = missingTool(['sway', 'gcc', 'wayland-scanner']);
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
let virtualPointer = '';
let sway: ChildProcess | null = null;
let swaySocket = '';
const hostEnv = () => ({ ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: swaySocket });

beforeAll(async () => {
  if (missing !== null) return;
  dir = mkdtempSync('/tmp/droidway-bridge-constraints-');
  const protocols = Object.values(XML);
  client = await buildWaylandClient({ source: CLIENT_FIXTURE, protocols, outDir: dir });
  virtualPointer = await buildWaylandClient({ source: POINTER_FIXTURE, protocols, outDir: dir });
  ({ sway, socket: swaySocket } = await startHeadlessSway(
    dir,
    `${SWAY_800x600}seat * pointer_constraint enable\n`,
    NOBODY,
  ));
}, 60_000);

afterAll(() => {
  sway?.kill();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Starts the guest client through `socket`; `line(re)` waits for a printed line. */
function startClient(socket: string) {
  const child = spawn(client, ['800', '600'], {
    env: { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: socket },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const lines = () => output.split('\n').filter(Boolean);
  const line = (pattern: RegExp) =>
    waitFor(`client printing ${pattern}`, () => lines().find((l) => pattern.test(l)));
  return { child, lines, line };
}

describe('pointer extensions through the bridge on sway', () => {
  itNeeds(
    'a guest binds relative pointer and pointer constraints, locks and gets relative motion',
    missing,
    async () => {
      const socketDir = mkdtempSync('/tmp/droidway-bridge-constraints-sock-');
      const children: ChildProcess[] = [];
      const bridge = DisplayBridge.start({
        socketPath: join(socketDir, 'bridge-0'),
        hostDisplay: swaySocket,
        globals: [...CORE, ...EXTRAS],
      });
      try {
        const offered = await bridge.ready;
        for (const name of EXTRAS) {
          expect(offered.find((g) => g.interface === name)?.version).toBeGreaterThanOrEqual(1);
        }
        // The pointer device first: the guest's seat then has a pointer to lock.
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

        const guest = startClient(join(socketDir, 'bridge-0'));
        children.push(guest.child);
        expect(await guest.line(/^globals /)).toMatch(/^globals [1-9]\d* [1-9]\d*$/);
        await guest.line(/^ready$/);
        // Over the window: the guest locks the pointer on its enter, and sway activates the lock.
        await send('move 400 300');
        await guest.line(/^enter$/);
        await guest.line(/^locked$/);
        const before = guest.lines().length;
        await send('move 450 330');
        // Locked, the cursor stays where it was: the guest sees the motion only as relative.
        const moved = await waitFor('relative motion after the lock', () =>
          guest
            .lines()
            .slice(before)
            .find((l) => l.startsWith('relative ')),
        );
        const [dx, dy] = moved.split(' ').slice(1).map(Number);
        // From the locked position (400, 300) to (450, 330).
        expect([dx, dy]).toEqual([50, 30]);
        expect(
          guest
            .lines()
            .slice(before)
            .some((l) => l.startsWith('motion ')),
        ).toBe(false);
        const clients = bridge.stats().clients.filter((c) => c.connected);
        expect(clients).toHaveLength(1);
        expect(clients[0]!.violations).toEqual({});
      } finally {
        for (const child of children) child.kill();
        bridge.stop();
        rmSync(socketDir, { recursive: true, force: true });
      }
    },
    60_000,
  );

  itNeeds(
    'a bridge whose globals leave them out hides both from the guest',
    missing,
    async () => {
      const socketDir = mkdtempSync('/tmp/droidway-bridge-constraints-sock-');
      const bridge = DisplayBridge.start({
        socketPath: join(socketDir, 'bridge-0'),
        hostDisplay: swaySocket,
        globals: CORE,
      });
      try {
        const offered = await bridge.ready;
        expect(offered.map((g) => g.interface)).not.toContain(EXTRAS[0]);
        const guest = startClient(join(socketDir, 'bridge-0'));
        expect(await guest.line(/^globals /)).toBe('globals 0 0');
      } finally {
        bridge.stop();
        rmSync(socketDir, { recursive: true, force: true });
      }
    },
    30_000,
  );
});
