/**
 * Keyboard and clipboard through `droidway-bridge`, the production bridge process (its own uid,
 * no_new_privs, the seccomp allow-list that refuses openat), toward sway headless run as nobody
 * (sway refuses root), with the real wtype and wl-copy/wl-paste on the host. The in-process
 * bridge tests (bridge-input, bridge-clipboard) do not see what the sandbox refuses: here the
 * keymap copy must be made without opening a file, and the clipboard's pipes and fcntls must be
 * on the allow-list, or typed keys never become text and Ctrl+V/Ctrl+C do nothing. Hostile
 * clipboard guests meet the bridge's own checks there, never the seccomp filter.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  BridgeProcess,
  type BridgeProcessConfig,
} from '../../electron/core/display/bridge-process.js';
import type { BridgeEvent } from '../../electron/core/display/bridge.js';
import { itNeeds } from '../helpers/capability.js';
import {
  BRIDGE_FIXTURES,
  DEMO_CLIENT,
  missingBridgeCapability,
  NOBODY,
  startLineProcess,
  useSwayHost,
} from './helpers/bridge-host.js';
import { waitFor } from './helpers/weston.js';
import {
  buildHostileDemoClient,
  buildWaylandClient,
  XDG_SHELL_XML,
} from './helpers/wayland-client-build.js';

const TEXT_TYPES = ['text/plain;charset=utf-8', 'text/plain', 'UTF8_STRING', 'STRING', 'TEXT'];
const missing = missingBridgeCapability({
  tools: ['sway', 'wtype', 'wl-copy', 'wl-paste', 'gcc', 'wayland-scanner'],
  xml: [XDG_SHELL_XML],
  demoClient: true,
  bridgeProcess: true,
});

let inputClient = '';
let hostile = '';
const host = useSwayHost({
  prefix: 'droidway-bridge-process-input-',
  missing,
  build: async (dir) => {
    inputClient = await buildWaylandClient({
      source: join(BRIDGE_FIXTURES, 'input-client.c'),
      protocols: [XDG_SHELL_XML],
      outDir: dir,
    });
    hostile = await buildHostileDemoClient(dir);
  },
});

/** A bridge process toward sway (dropping to nobody), stopped with its socket folder by `stop`. */
async function startBridge() {
  const socketDir = mkdtempSync('/tmp/droidway-bridge-process-input-sock-');
  const config: BridgeProcessConfig = {
    socketPath: join(socketDir, 'bridge-0'),
    hostSocketPath: host.socket,
    globals: ['wl_compositor', 'wl_subcompositor', 'wl_shm', 'xdg_wm_base', 'wl_seat', 'wl_output'],
    clipboard: { mode: 'both', mimeTypes: TEXT_TYPES, maxBytes: 16 * 1024 * 1024 },
    runAsUid: NOBODY,
    runAsGid: NOBODY,
  };
  const events: BridgeEvent[] = [];
  const stderr: string[] = [];
  const bridge = BridgeProcess.start({
    config,
    onEvent: (e) => events.push(e),
    onStderr: (line) => stderr.push(line),
    restart: { maxPerMinute: 0 },
  });
  const globals = (await bridge.ready).map((g) => g.interface);
  const pid = bridge.pid!;
  const stop = async () => {
    await bridge.stop();
    rmSync(socketDir, { recursive: true, force: true });
  };
  return { bridge, pid, socket: config.socketPath, events, stderr, globals, stop };
}

/** Starts `binary` through `socket`; `line(re)` waits for a line it prints. */
const startGuest = (
  socket: string,
  binary: string,
  args: string[] = [],
  env: Record<string, string> = {},
) => startLineProcess('guest', binary, args, { ...host.env(socket), ...env }, 'pipe');

/** Open fds of a process (the bridge process runs as nobody; root reads its /proc). */
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** The bridge process is the one that served: still the same pid, sandboxed, never restarted. */
function expectSameSandboxedProcess(b: Awaited<ReturnType<typeof startBridge>>): void {
  expect(b.bridge.pid).toBe(b.pid);
  expect(b.bridge.ends).toEqual([]);
  expect(b.events.filter((e) => e.type === 'violation')).toEqual([]);
}

describe('droidway-bridge: keyboard and clipboard through the sandboxed process', () => {
  itNeeds(
    'gives the guest a sealed keymap copy, and typed keys become text in the demo client',
    missing,
    async () => {
      const b = await startBridge();
      const probe = startGuest(b.socket, inputClient, ['3050e0', 'Probe', 'probe']);
      try {
        await probe.line(/^configure /);
        // The keymap the input client gets through the bridge process: the bridge's copy,
        // sealed (shrink, grow, future write, seal = 0x17), an XKB keymap it can map privately
        // and shared, and refusing the guest's write.
        await host.wtype('-s', '500', 'k');
        expect(await probe.line(/^keymap /)).toMatch(
          /^keymap 1 \d+ 17 rw xkb shared write-refused$/,
        );
        await probe.line(/^key \d+ 1$/);
      } finally {
        probe.child.kill();
      }
      // The demo client turns keys into text through that keymap alone.
      const demo = startGuest(b.socket, DEMO_CLIENT);
      try {
        await demo.line(/^mapped$/);
        await host.wtype('-s', '500', '-d', '20', 'hellobridge');
        expect(await demo.line(/^typed hellob/)).toBe('typed hellob');
        await demo.line(/^typed hellobridge$/);
        expectSameSandboxedProcess(b);
      } finally {
        demo.child.kill();
        await b.stop();
      }
    },
    60_000,
  );

  itNeeds(
    'pastes the host selection with Ctrl+V and copies out with Ctrl+C, large texts included',
    missing,
    async () => {
      const b = await startBridge();
      expect(b.globals).toContain('wl_data_device_manager');
      const demo = startGuest(b.socket, DEMO_CLIENT);
      const copies: ChildProcess[] = [];
      try {
        await demo.line(/^mapped$/);
        copies.push(await host.copy('from the host'));
        await host.ctrl('v');
        expect(await demo.line(/^pasted /)).toBe('pasted from the host');
        await host.wtype('-s', '500', 'z');
        await demo.line(/^typed from the hostz$/);
        await host.ctrl('c');
        await demo.line(/^copied from the hostz$/);
        let pasted = '';
        for (let i = 0; i < 30 && pasted !== 'from the hostz'; ++i) {
          pasted = await host.paste();
          if (pasted !== 'from the hostz') await new Promise((r) => setTimeout(r, 100));
        }
        expect(pasted).toBe('from the hostz');

        // 256 KiB: several pipe buffers, so the relay's non-blocking pipes fill, wait in the
        // loop and drain, all inside the sandbox.
        const large = 'abcdefghijklmnop'.repeat(16 * 1024);
        const before = demo.lines().length;
        copies.push(await host.copy(large));
        // The guest's own selection is replaced once the host serves the new one.
        await waitFor('the large host selection', async () =>
          (await host.paste()) === large ? true : undefined,
        );
        await host.ctrl('v');
        expect(await demo.line(/^pasted-bytes /, before)).toBe(`pasted-bytes ${large.length}`);
        expectSameSandboxedProcess(b);
      } finally {
        demo.child.kill();
        for (const c of copies) c.kill();
        await b.stop();
      }
    },
    90_000,
  );

  itNeeds(
    'ends only a hostile clipboard guest, inside the sandbox, and drops a transfer never read',
    missing,
    async () => {
      const b = await startBridge();
      const selection = await host.copy('x'.repeat(1_000_000));
      const good = startGuest(b.socket, DEMO_CLIENT);
      try {
        await good.line(/^mapped$/);
        const baseline = openFds(b.pid);
        for (const how of [
          'memfd',
          'file',
          'socket',
          'read-end',
          'flood-selection',
          'flood-offers',
        ]) {
          const bad = startGuest(b.socket, hostile, [], { DROIDWAY_DEMO_HOSTILE: how });
          await bad.line(/^mapped$/);
          await host.ctrl('v');
          await bad.line(/^hostile /);
          expect(await bad.exited, how).toBe(1);
          // A flooding guest may still be writing when the bridge ends it: then libwayland
          // reports the closed socket rather than the protocol error (the violation events
          // below name each one).
          expect(bad.errors(), how).toMatch(
            how.startsWith('flood')
              ? /clipboard-flood|Broken pipe/
              : /clipboard-fd: .*write end of a pipe/,
          );
          await waitFor(`the bridge process's fds back after ${how}`, () =>
            openFds(b.pid) <= baseline + 2 ? true : undefined,
          );
        }
        // A guest that never reads: the transfer is dropped after its idle deadline (a
        // timerfd in the bridge's loop), and its fds with it.
        const lazy = startGuest(b.socket, hostile, [], { DROIDWAY_DEMO_HOSTILE: 'never-read' });
        await lazy.line(/^mapped$/);
        const withLazy = openFds(b.pid);
        await host.ctrl('v');
        await lazy.line(/^hostile never-read$/);
        await new Promise((r) => setTimeout(r, 6000));
        await waitFor('the stalled transfer dropped', () =>
          openFds(b.pid) <= withLazy ? true : undefined,
        );
        lazy.child.kill();
        await lazy.exited;
        // The good guest, focused again, still gets keys through the same process.
        const before = good.lines().length;
        await host.wtype('-s', '500', 'q');
        await good.line(/^typed q$/, before);
        expect(good.child.exitCode).toBeNull();
        // The bridge process's own checks ended the six hostile guests; it never died.
        expect(b.bridge.pid).toBe(b.pid);
        expect(b.bridge.ends).toEqual([]);
        const violations = b.events.filter((e) => e.type === 'violation');
        expect(violations.map((v) => v.reason)).toEqual([
          ...Array(4).fill('clipboard-fd'),
          ...Array(2).fill('clipboard-flood'),
        ]);
      } finally {
        good.child.kill();
        selection.kill();
        await b.stop();
      }
    },
    120_000,
  );
});
