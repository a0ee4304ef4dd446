import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { DisplayBridge, type BridgeEvent } from '../../electron/core/display/bridge.js';
import { countOpenFds } from '../../electron/core/native/index.js';
import { countColor } from '../fixtures/bridge/png.js';
import { itNeeds } from '../helpers/capability.js';
import { missingBridgeCapability } from './helpers/bridge-host.js';
import { startHeadlessWeston, waitFor, type HeadlessWeston } from './helpers/weston.js';
import { buildWaylandClient, XDG_SHELL_XML as XDG_SHELL } from './helpers/wayland-client-build.js';

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '../fixtures/bridge/hostile-client.c');
const TOOLS = ['weston', 'weston-simple-shm', 'weston-screenshooter', 'gcc', 'wayland-scanner'];

const missing = missingBridgeCapability({
  root: false,
  tools: TOOLS,
  xml: [XDG_SHELL],
  nativeModule: true,
});

const GOOD_COLOR = 0x20c040;
const GOOD_WIDTH = 160;
const GOOD_HEIGHT = 120;

let weston: HeadlessWeston | null = null;
let dir = '';
let client = '';
const hostSocket = () => join(dir, 'host-0');
const screenshot = () => weston!.screenshot();
const bridgeSocket = () => join(dir, 'bridge-0');
const guestEnv = () => ({ ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: bridgeSocket() });

/**
 * Waits until a screenshot shows every pixel of the solid client's window in its colour
 * (desktop-shell animates a new window in, so the first frames may still be blending).
 */
async function expectGoodWindowOnScreen(): Promise<void> {
  let seen = 0;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    seen = countColor(await screenshot(), GOOD_COLOR);
    if (seen === GOOD_WIDTH * GOOD_HEIGHT) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  expect(seen).toBe(GOOD_WIDTH * GOOD_HEIGHT);
}

beforeAll(async () => {
  if (missing !== null) return;
  weston = await startHeadlessWeston('droidway-bridge-');
  dir = weston.dir;
  client = await buildWaylandClient({ source: FIXTURE, protocols: [XDG_SHELL], outDir: dir });
}, 60_000);

afterAll(() => {
  weston?.stop();
});

describe('display bridge against weston', () => {
  itNeeds(
    'relays real clients zero-copy, refuses each hostile pool, and cleans up',
    missing,
    async () => {
      const fdsBeforeStart = countOpenFds();
      const events: BridgeEvent[] = [];
      const bridge = DisplayBridge.start({
        socketPath: bridgeSocket(),
        hostDisplay: hostSocket(),
        globals: ['wl_compositor', 'wl_subcompositor', 'wl_shm', 'xdg_wm_base', 'wl_output'],
        onEvent: (event) => events.push(event),
      });
      const children: ChildProcess[] = [];
      try {
        const globals = await bridge.ready;
        expect(globals.map((g) => g.interface).sort()).toEqual(
          ['wl_compositor', 'wl_output', 'wl_shm', 'wl_subcompositor', 'xdg_wm_base'].sort(),
        );
        expect(statSync(bridgeSocket()).mode & 0o777).toBe(0o600);

        const mapped = (pid: number | undefined) => {
          const connected = events.find((e) => e.type === 'client-connected' && e.pid === pid);
          if (connected === undefined || !('clientId' in connected)) return undefined;
          return events.find(
            (e) => e.type === 'toplevel-mapped' && e.clientId === connected.clientId,
          );
        };

        // weston-simple-shm first, the solid client last, so the solid one is on top.
        const simple = spawn('weston-simple-shm', [], { env: guestEnv(), stdio: 'ignore' });
        children.push(simple);
        const simpleMapped = await waitFor('simple-shm mapped', () => mapped(simple.pid));
        expect(simpleMapped).toMatchObject({ title: 'simple-shm' });
        const good = spawn(
          client,
          [
            'good',
            GOOD_COLOR.toString(16),
            `${GOOD_WIDTH}`,
            `${GOOD_HEIGHT}`,
            'Good\u0007 one',
            'waydroid.com.example/app',
          ],
          { env: guestEnv(), stdio: 'ignore' },
        );
        children.push(good);
        const goodMapped = await waitFor('good client mapped', () => mapped(good.pid));
        expect(goodMapped).toMatchObject({ appId: 'droidway.com.example_app', title: 'Good one' });

        await expectGoodWindowOnScreen();

        // The pools are mapped by the guest and by weston, never by the bridge's process.
        const maps = readFileSync('/proc/self/maps', 'utf8');
        expect(readFileSync(`/proc/${good.pid}/maps`, 'utf8')).toContain(
          'memfd:droidway-test-pool',
        );
        expect(maps).not.toContain('droidway-test-pool');
        expect(maps).not.toContain('memfd:weston-shared');

        const statsOf = (pid: number | undefined) =>
          bridge.stats().clients.find((c) => c.pid === pid && c.connected);
        for (const pid of [simple.pid, good.pid]) {
          const stats = statsOf(pid);
          expect(stats?.buffersForwarded.shm).toBeGreaterThan(0);
          expect(stats?.commits).toBeGreaterThan(0);
          expect(stats?.bytesCopied).toBe(0);
        }

        // Each attack: the precise protocol error, the reason in stats, nobody else harmed.
        const attacks: [string[], string, string][] = [
          [
            ['regular-file', join('/var/tmp', `droidway-bridge-${process.pid}`)],
            'wl_shm 2',
            'not-tmpfs',
          ],
          [['directory', '/var/tmp'], 'wl_shm 2', 'not-shm-file'],
          [['pipe'], 'wl_shm 2', 'not-shm-file'],
          [['socket'], 'wl_shm 2', 'not-shm-file'],
          [['dev-zero'], 'wl_shm 2', 'not-shm-file'],
          [['unsealable-large'], 'wl_shm 2', 'unsealed'],
          [['short-memfd'], 'wl_shm 2', 'too-small'],
          [['stride-short'], 'wl_shm_pool 1', 'bad-stride'],
          [['stride-overflow'], 'wl_shm_pool 1', 'out-of-pool'],
          [['offset-negative'], 'wl_shm_pool 1', 'bad-geometry'],
          [['bad-format'], 'wl_shm_pool 0', 'bad-format'],
        ];
        // Two clients connected: each holds a guest socket and a host connection in this process.
        const fdsBeforeAttacks = countOpenFds();
        const goodCommitsBefore = statsOf(good.pid)?.commits ?? 0;
        try {
          for (const [args, error, reason] of attacks) {
            const { stdout } = await run(client, args, { env: guestEnv(), timeout: 10_000 });
            expect(stdout.trim(), args[0]).toBe(`protocol-error ${error}`);
            const record = await waitFor(`stats of ${args[0]}`, () =>
              bridge
                .stats()
                .clients.find(
                  (c) => c.disconnectReason === `violation:${reason}` && c.violations[reason],
                ),
            );
            const fdReason = !['bad-stride', 'out-of-pool', 'bad-geometry', 'bad-format'].includes(
              reason,
            );
            expect(record.fdsRejected[reason] ?? 0).toBe(fdReason ? 1 : 0);
          }
        } finally {
          rmSync(join('/var/tmp', `droidway-bridge-${process.pid}`), { force: true });
        }
        const hidden = await run(client, ['hidden-global'], { env: guestEnv(), timeout: 10_000 });
        expect(hidden.stdout.trim()).toBe('protocol-error wl_registry 0');
        // A guest's sync is answered only once the host answered it (never blocking the bridge
        // thread): the formats of a freshly bound wl_shm always arrive before the done.
        const order = await run(client, ['sync-order'], { env: guestEnv(), timeout: 10_000 });
        expect(order.stdout.trim()).toBe('ordered 50');

        await waitFor('a violation event per attack', () =>
          events.filter((e) => e.type === 'violation').length >= attacks.length ? true : undefined,
        );
        expect(events.filter((e) => e.type === 'violation')).toHaveLength(attacks.length);
        expect(statsOf(good.pid)?.commits).toBeGreaterThan(goodCommitsBefore);
        await expectGoodWindowOnScreen();
        await waitFor('fds back to baseline', () =>
          countOpenFds() === fdsBeforeAttacks ? true : undefined,
        );

        for (const child of children) child.kill();
        await waitFor('clients gone', () =>
          bridge.stats().clients.every((c) => !c.connected) ? true : undefined,
        );
        // Events cross from the bridge thread through a thread-safe function, so they can land
        // after the stats already show the clients gone.
        await waitFor('both toplevels unmapped', () =>
          events.filter((e) => e.type === 'toplevel-unmapped').length === 2 ? true : undefined,
        );
      } finally {
        for (const child of children) child.kill();
        bridge.stop();
      }
      expect(existsSync(bridgeSocket())).toBe(false);
      expect(bridge.stats().running).toBe(false);
      await waitFor('stopped event', () => events.find((e) => e.type === 'stopped'));
      expect(countOpenFds()).toBe(fdsBeforeStart);
    },
    60_000,
  );
});
