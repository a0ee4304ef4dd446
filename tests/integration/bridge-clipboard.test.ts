import { type ChildProcess } from 'node:child_process';
import { describe, expect } from 'vitest';
import { type BridgeEvent, type BridgeGlobalName } from '../../electron/core/display/bridge.js';
import { countOpenFds } from '../../electron/core/native/index.js';
import type { BridgeClipboard } from '../../native/index.js';
import { itNeeds } from '../helpers/capability.js';
import {
  DEMO_CLIENT,
  missingBridgeCapability,
  protocolXml,
  startDisplayBridge,
  startLineProcess,
  useSwayHost,
  type LineProcess,
} from './helpers/bridge-host.js';
import { waitFor } from './helpers/weston.js';
import { buildHostileDemoClient } from './helpers/wayland-client-build.js';

// The clipboard through the bridge on sway headless (run as nobody: sway refuses root), with the
// real wl-copy/wl-paste on the host and the demo guest client: Ctrl+V (typed by wtype) pastes
// the host's selection into it, Ctrl+C offers its text to the host. A build of the same client
// with DROIDWAY_DEMO_HOSTILE_CLIPBOARD abuses the protocol on Ctrl+V, while a second, good
// guest keeps drawing.
const GLOBALS: BridgeGlobalName[] = [
  'wl_compositor',
  'wl_subcompositor',
  'wl_shm',
  'xdg_wm_base',
  'wl_seat',
  'wl_output',
];
const TEXT_TYPES = ['text/plain;charset=utf-8', 'text/plain', 'UTF8_STRING', 'STRING', 'TEXT'];

const missing = missingBridgeCapability({
  tools: ['sway', 'swaymsg', 'wtype', 'wl-copy', 'wl-paste', 'gcc', 'wayland-scanner'],
  xml: protocolXml('xdg-shell'),
  demoClient: true,
  nativeModule: true,
});

let hostile = '';
const host = useSwayHost({
  prefix: 'droidway-bridge-clipboard-',
  missing,
  build: async (dir) => {
    hostile = await buildHostileDemoClient(dir);
  },
});

const clipboard = (over: Partial<BridgeClipboard> = {}): BridgeClipboard => ({
  mode: 'both',
  mimeTypes: TEXT_TYPES,
  maxBytes: 16 * 1024 * 1024,
  ...over,
});

/** A bridge toward sway with `clip`, stopped (and its socket folder removed) by `stop`. */
async function startBridge(clip: BridgeClipboard) {
  const events: BridgeEvent[] = [];
  const { bridge, socket, stop } = startDisplayBridge('droidway-bridge-clipboard-sock-', {
    hostDisplay: host.socket,
    globals: GLOBALS,
    clipboard: clip,
    onEvent: (e) => events.push(e),
  });
  const globals = (await bridge.ready).map((g) => g.interface);
  return { bridge, socket, events, globals, stop };
}

/** Starts a demo client through `socket`; `line(re)` waits for a printed line. */
const startDemo = (socket: string, binary = DEMO_CLIENT, env: Record<string, string> = {}) =>
  startLineProcess('demo', binary, [], { ...host.env(socket), ...env }, 'pipe');

/**
 * Starts a bridge with `clip`, puts `text` on the host selection, and types Ctrl+V into a demo
 * guest once it is mapped; `check` then looks at the guest and the bridge. Stops all three after.
 */
async function pasteIntoDemo(
  clip: BridgeClipboard,
  text: string,
  check: (demo: LineProcess, b: Awaited<ReturnType<typeof startBridge>>) => Promise<void>,
): Promise<void> {
  const b = await startBridge(clip);
  const selection = await host.copy(text);
  const demo = startDemo(b.socket);
  try {
    await demo.line(/^mapped$/);
    await host.ctrl('v');
    await check(demo, b);
  } finally {
    demo.child.kill();
    selection.kill();
    b.stop();
  }
}

describe('display bridge clipboard on sway', () => {
  itNeeds(
    'pastes the host selection into the focused guest; the guest copies out only under both',
    missing,
    async () => {
      for (const mode of ['both', 'host-to-guest'] as const) {
        const b = await startBridge(clipboard({ mode }));
        const hostCopies: ChildProcess[] = [];
        const demo = startDemo(b.socket);
        try {
          expect(b.globals).toContain('wl_data_device_manager');
          await demo.line(/^mapped$/);
          hostCopies.push(await host.copy(`from the host ${mode}`));
          await host.ctrl('v');
          expect(await demo.line(/^pasted /)).toBe(`pasted from the host ${mode}`);
          await host.wtype('-s', '500', 'z');
          await demo.line(/^typed from the host .*z$/);
          await host.ctrl('c');
          await demo.line(/^copied /);
          // The host's paste: the guest's text under both, the host's own selection otherwise.
          const wanted = mode === 'both' ? `from the host ${mode}z` : `from the host ${mode}`;
          let pasted = '';
          for (let i = 0; i < 30 && pasted !== wanted; ++i) {
            pasted = await host.paste();
            if (pasted !== wanted) await new Promise((r) => setTimeout(r, 100));
          }
          expect(pasted).toBe(wanted);
          if (mode === 'host-to-guest') {
            await new Promise((r) => setTimeout(r, 300));
            expect(await host.paste()).toBe(wanted);
          }
        } finally {
          demo.child.kill();
          for (const c of hostCopies) c.kill();
          b.stop();
        }
      }
    },
    90_000,
  );

  itNeeds(
    'shows the host selection only to the guest whose window has the keyboard focus',
    missing,
    async () => {
      // The test build prints each selection event it gets ('selection offer' / 'none').
      const b = await startBridge(clipboard({ mode: 'host-to-guest' }));
      const selection = await host.copy('for the focused one');
      const first = startDemo(b.socket, hostile);
      try {
        await first.line(/^mapped$/);
        const second = startDemo(b.socket, hostile);
        try {
          await second.line(/^mapped$/);
          // sway focuses the newer window; a keyboard exists while wtype types.
          await host.wtype('-s', '500', 'z');
          await second.line(/^selection offer$/);
          await new Promise((r) => setTimeout(r, 300));
          expect(first.lines().filter((l) => l === 'selection offer')).toEqual([]);
          // Focus moves: the first guest gets the selection, the second has lost it.
          await host.swaymsg('focus left');
          await host.wtype('-s', '500', 'z');
          await first.line(/^selection offer$/);
          const selections = second.lines().filter((l) => l.startsWith('selection '));
          expect(selections.at(-1)).toBe('selection none');
        } finally {
          second.child.kill();
        }
      } finally {
        first.child.kill();
        selection.kill();
        b.stop();
      }
    },
    60_000,
  );

  itNeeds(
    'offers no data device manager with mode off',
    missing,
    async () => {
      await pasteIntoDemo(clipboard({ mode: 'off' }), 'not for the guest', async (demo, b) => {
        expect(b.globals).not.toContain('wl_data_device_manager');
        expect(b.globals).toContain('wl_seat');
        await demo.line(/^paste-empty$/);
      });
    },
    60_000,
  );

  itNeeds(
    'never offers a type outside the allow-list, and cuts a transfer at the cap',
    missing,
    async () => {
      // wl-copy offers text/plain;charset=utf-8 among others; without it in the list the guest
      // (which pastes only that type) is offered nothing it can use.
      await pasteIntoDemo(
        clipboard({ mimeTypes: ['text/plain', 'STRING'] }),
        'typed but not allowed',
        async (demo) => {
          await demo.line(/^paste-empty$/);
        },
      );
      await pasteIntoDemo(clipboard({ maxBytes: 4096 }), 'a'.repeat(100_000), async (demo) => {
        expect(await demo.line(/^pasted-bytes /)).toBe('pasted-bytes 4096');
      });
    },
    60_000,
  );

  itNeeds(
    'ends only a hostile guest (non-pipe fds, floods), never blocks on one that does not read',
    missing,
    async () => {
      const b = await startBridge(clipboard());
      const selection = await host.copy('x'.repeat(1_000_000));
      const good = startDemo(b.socket);
      try {
        await good.line(/^mapped$/);
        const goodId = await waitFor('the good client', () =>
          b.events.find((e) => e.type === 'client-connected'),
        );
        const goodCommits = () =>
          b.bridge
            .stats()
            .clients.find((c) => c.clientId === (goodId as { clientId: number }).clientId)
            ?.commits ?? 0;
        const baseline = countOpenFds();
        for (const how of [
          'memfd',
          'file',
          'socket',
          'read-end',
          'flood-selection',
          'flood-offers',
        ]) {
          const seen = b.events.length;
          const bad = startDemo(b.socket, hostile, { DROIDWAY_DEMO_HOSTILE: how });
          await bad.line(/^mapped$/);
          const before = goodCommits();
          await host.ctrl('v');
          await bad.line(/^hostile /);
          expect(await bad.exited, how).toBe(1);
          const violation = how.startsWith('flood') ? 'clipboard-flood' : 'clipboard-fd';
          // The bridge ended that guest for that reason...
          const ended = await waitFor(`the bridge ending the ${how} guest`, () =>
            b.events
              .slice(seen)
              .find((e) => e.type === 'client-disconnected' && e.reason.startsWith('violation:')),
          );
          expect(ended, how).toMatchObject({ reason: `violation:${violation}` });
          // ...and told it why; a flooding guest may instead meet the closed socket with its
          // next write before it reads the error (libwayland then keeps EPIPE as the error).
          expect(bad.errors(), how).toMatch(
            how.startsWith('flood')
              ? /clipboard-flood|Broken pipe/
              : /clipboard-fd: .*write end of a pipe/,
          );
          await waitFor(`the good client drawing after ${how}`, () =>
            goodCommits() > before + 5 ? true : undefined,
          );
          expect(good.child.exitCode).toBeNull();
          await waitFor(`fds back after ${how}`, () =>
            countOpenFds() <= baseline + 2 ? true : undefined,
          );
        }
        // A guest that never reads: the bridge keeps serving the good client and drops the
        // transfer after its idle deadline.
        const lazy = startDemo(b.socket, hostile, { DROIDWAY_DEMO_HOSTILE: 'never-read' });
        await lazy.line(/^mapped$/);
        const withLazy = countOpenFds();
        await host.ctrl('v');
        await lazy.line(/^hostile never-read$/);
        const before = goodCommits();
        await waitFor('the good client drawing', () =>
          goodCommits() > before + 20 ? true : undefined,
        );
        await new Promise((r) => setTimeout(r, 6000));
        // The transfer's two fds (the bridge's pipe end and the guest's) are gone.
        await waitFor('the stalled transfer dropped', () =>
          countOpenFds() <= withLazy ? true : undefined,
        );
        lazy.child.kill();
        await lazy.exited;
        await waitFor('fds back after the lazy guest', () =>
          countOpenFds() <= baseline + 2 ? true : undefined,
        );
      } finally {
        good.child.kill();
        selection.kill();
        b.stop();
      }
    },
    120_000,
  );
});
