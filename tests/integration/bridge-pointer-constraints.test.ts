import { type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { BridgeGlobalName } from '../../native/index.js';
import { itNeeds } from '../helpers/capability.js';
import {
  BRIDGE_FIXTURES,
  missingBridgeCapability,
  protocolXml,
  startDisplayBridge,
  startLineProcess,
  startVirtualPointer,
  useSwayHost,
} from './helpers/bridge-host.js';
import { SWAY_800x600 } from './helpers/sway.js';
import { waitFor } from './helpers/weston.js';
import { buildWaylandClient } from './helpers/wayland-client-build.js';

// Relative pointer motion and pointer lock through the bridge on sway headless (which offers
// both, as desktop compositors do): a guest doing what Android's hwcomposer does binds them,
// locks the pointer to its window and receives relative motion from a virtual pointer on the
// host seat. sway refuses to run as root, so it runs as nobody in a private runtime directory.
const XML = protocolXml(
  'xdg-shell',
  'relative-pointer-unstable-v1',
  'pointer-constraints-unstable-v1',
  'wlr-virtual-pointer-unstable-v1',
);
const CORE: BridgeGlobalName[] = ['wl_compositor', 'wl_shm', 'xdg_wm_base', 'wl_seat'];
const EXTRAS: BridgeGlobalName[] = [
  'zwp_relative_pointer_manager_v1',
  'zwp_pointer_constraints_v1',
];

const missing = missingBridgeCapability({
  tools: ['sway', 'gcc', 'wayland-scanner'],
  xml: XML,
  nativeModule: true,
});

let client = '';
let virtualPointer = '';
const host = useSwayHost({
  prefix: 'droidway-bridge-constraints-',
  missing,
  config: `${SWAY_800x600}seat * pointer_constraint enable\n`,
  build: async (dir) => {
    const cc = (name: string) =>
      buildWaylandClient({
        source: join(BRIDGE_FIXTURES, `${name}.c`),
        protocols: XML,
        outDir: dir,
      });
    client = await cc('relative-pointer-client');
    virtualPointer = await cc('virtual-pointer');
  },
});

/** A bridge toward sway with `globals`, on a socket in a folder of its own. */
const startBridge = (globals: BridgeGlobalName[]) =>
  startDisplayBridge('droidway-bridge-constraints-sock-', { hostDisplay: host.socket, globals });

/** Starts the guest client through `socket`; `line(re)` waits for a printed line. */
const startClient = (socket: string) =>
  startLineProcess('client', client, ['800', '600'], host.env(socket));

describe('pointer extensions through the bridge on sway', () => {
  itNeeds(
    'a guest binds relative pointer and pointer constraints, locks and gets relative motion',
    missing,
    async () => {
      const children: ChildProcess[] = [];
      const { bridge, socket, stop } = startBridge([...CORE, ...EXTRAS]);
      try {
        const offered = await bridge.ready;
        for (const name of EXTRAS) {
          expect(offered.find((g) => g.interface === name)?.version).toBeGreaterThanOrEqual(1);
        }
        // The pointer device first: the guest's seat then has a pointer to lock.
        const { child: pointer, send } = await startVirtualPointer(virtualPointer, host.env());
        children.push(pointer);

        const guest = startClient(socket);
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
        stop();
      }
    },
    60_000,
  );

  itNeeds(
    'a bridge whose globals leave them out hides both from the guest',
    missing,
    async () => {
      const { bridge, socket, stop } = startBridge(CORE);
      try {
        const offered = await bridge.ready;
        expect(offered.map((g) => g.interface)).not.toContain(EXTRAS[0]);
        const guest = startClient(socket);
        expect(await guest.line(/^globals /)).toBe('globals 0 0');
      } finally {
        stop();
      }
    },
    30_000,
  );
});
