import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  DisplayBridge,
  type BridgeEvent,
  type BridgeGlobalName,
} from '../../electron/core/display/bridge.js';
import { countOpenFds } from '../../electron/core/native/index.js';
import type { BridgeClipboard } from '../../native/index.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { startHeadlessSway, SWAY_800x600 } from './helpers/sway.js';
import { waitFor } from './helpers/weston.js';
import { buildWaylandClient, XDG_SHELL_XML as XDG_SHELL } from './helpers/wayland-client-build.js';

// The clipboard through the bridge on sway headless (run as nobody: sway refuses root), with the
// real wl-copy/wl-paste on the host and the demo guest client: Ctrl+V (typed by wtype) pastes
// the host's selection into it, Ctrl+C offers its text to the host. A build of the same client
// with DROIDWAY_DEMO_HOSTILE_CLIPBOARD abuses the protocol on Ctrl+V, while a second, good
// guest keeps drawing.
const run = promisify(execFile);
const DEMO_SOURCE = join(import.meta.dirname, '../../native/guest/droidway-demo-client.c');
const DEMO_CLIENT = join(import.meta.dirname, '../../native/guest/build/droidway-demo-client');
const TOOLS = ['sway', 'swaymsg', 'wtype', 'wl-copy', 'wl-paste', 'gcc', 'wayland-scanner'];
const NOBODY = 65534;
const GLOBALS: BridgeGlobalName[] = [
  'wl_compositor',
  'wl_subcompositor',
  'wl_shm',
  'xdg_wm_base',
  'wl_seat',
  'wl_output',
];
const TEXT_TYPES = ['text/plain;charset=utf-8', 'text/plain', 'UTF8_STRING', 'STRING', 'TEXT'];

function missingCapability(): string | null {
  const root = needRoot();
  if (root !== null) return root;
  const tool = missingTool(TOOLS);
  if (tool !== null) return tool;
  if (!existsSync(XDG_SHELL)) return 'wayland-protocols is missing';
  if (!existsSync(DEMO_CLIENT)) return 'the demo client is not built (npm run build:native)';
  if (!existsSync(join(import.meta.dirname, '../../native/build/Release/droidway_native.node'))) {
    return 'the native module is not built (npm run build:native)';
  }
  return null;
}
const missing = missingCapability();

let dir = '';
let hostile = '';
let sway: ChildProcess | null = null;
let swaySocket = '';
const hostEnv = () => ({ ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: swaySocket });

beforeAll(async () => {
  if (missing !== null) return;
  dir = mkdtempSync('/tmp/droidway-bridge-clipboard-');
  hostile = await buildWaylandClient({
    source: DEMO_SOURCE,
    protocols: [XDG_SHELL],
    outDir: dir,
    name: 'hostile-demo-client',
    cflags: ['-std=c11', '-DDROIDWAY_DEMO_HOSTILE_CLIPBOARD'],
  });
  ({ sway, socket: swaySocket } = await startHeadlessSway(dir, SWAY_800x600, NOBODY));
}, 60_000);

afterAll(() => {
  sway?.kill();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const clipboard = (over: Partial<BridgeClipboard> = {}): BridgeClipboard => ({
  mode: 'both',
  mimeTypes: TEXT_TYPES,
  maxBytes: 16 * 1024 * 1024,
  ...over,
});

/** A bridge toward sway with `clip`, stopped (and its socket folder removed) by `stop`. */
async function startBridge(clip: BridgeClipboard) {
  const socketDir = mkdtempSync('/tmp/droidway-bridge-clipboard-sock-');
  const socket = join(socketDir, 'bridge-0');
  const events: BridgeEvent[] = [];
  const bridge = DisplayBridge.start({
    socketPath: socket,
    hostDisplay: swaySocket,
    globals: GLOBALS,
    clipboard: clip,
    onEvent: (e) => events.push(e),
  });
  const globals = (await bridge.ready).map((g) => g.interface);
  const stop = () => {
    bridge.stop();
    rmSync(socketDir, { recursive: true, force: true });
  };
  return { bridge, socket, events, globals, stop };
}

/** Starts a demo client through `socket`; `line(re)` waits for a printed line. */
function startDemo(socket: string, binary = DEMO_CLIENT, env: Record<string, string> = {}) {
  const child = spawn(binary, [], {
    env: { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: socket, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = () => output.split('\n').filter(Boolean);
  const line = (pattern: RegExp, from = 0) =>
    waitFor(`demo printing ${pattern}`, () =>
      lines()
        .slice(from)
        .find((l) => pattern.test(l)),
    );
  return { child, lines, line, exited, errors: () => errors };
}

/** `wl-copy` holding the host selection until killed. */
async function hostCopy(text: string, type?: string): Promise<ChildProcess> {
  // The text goes through stdin: a large one does not fit on a command line.
  const args = ['--foreground', ...(type !== undefined ? ['--type', type] : [])];
  const child = spawn('wl-copy', args, { env: hostEnv(), stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin?.end(text);
  await waitFor('the host selection', async () => {
    const { stdout } = await run('wl-paste', ['--list-types'], { env: hostEnv() }).catch(() => ({
      stdout: '',
    }));
    return stdout.length > 0 ? true : undefined;
  });
  return child;
}

async function hostPaste(): Promise<string> {
  const { stdout } = await run('wl-paste', ['--no-newline'], { env: hostEnv(), timeout: 5000 });
  return stdout;
}

/** Ctrl+<key> typed by a virtual keyboard into the focused window. */
const ctrl = (key: string) =>
  run('wtype', ['-s', '500', '-M', 'ctrl', key, '-m', 'ctrl'], { env: hostEnv() });

/** Runs a sway command through its IPC socket (sway-ipc.UID.PID.sock in its runtime dir). */
async function swaymsg(command: string): Promise<void> {
  const ipc = readdirSync(dir).find((name) => name.startsWith('sway-ipc.'));
  if (ipc === undefined) throw new Error('sway has no IPC socket');
  await run('swaymsg', ['-s', join(dir, ipc), command], { env: hostEnv() });
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
          hostCopies.push(await hostCopy(`from the host ${mode}`));
          await ctrl('v');
          expect(await demo.line(/^pasted /)).toBe(`pasted from the host ${mode}`);
          await run('wtype', ['-s', '500', 'z'], { env: hostEnv() });
          await demo.line(/^typed from the host .*z$/);
          await ctrl('c');
          await demo.line(/^copied /);
          // The host's paste: the guest's text under both, the host's own selection otherwise.
          const wanted = mode === 'both' ? `from the host ${mode}z` : `from the host ${mode}`;
          let pasted = '';
          for (let i = 0; i < 30 && pasted !== wanted; ++i) {
            pasted = await hostPaste();
            if (pasted !== wanted) await new Promise((r) => setTimeout(r, 100));
          }
          expect(pasted).toBe(wanted);
          if (mode === 'host-to-guest') {
            await new Promise((r) => setTimeout(r, 300));
            expect(await hostPaste()).toBe(wanted);
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
      const host = await hostCopy('for the focused one');
      const first = startDemo(b.socket, hostile);
      try {
        await first.line(/^mapped$/);
        const second = startDemo(b.socket, hostile);
        try {
          await second.line(/^mapped$/);
          // sway focuses the newer window; a keyboard exists while wtype types.
          await run('wtype', ['-s', '500', 'z'], { env: hostEnv() });
          await second.line(/^selection offer$/);
          await new Promise((r) => setTimeout(r, 300));
          expect(first.lines().filter((l) => l === 'selection offer')).toEqual([]);
          // Focus moves: the first guest gets the selection, the second has lost it.
          await swaymsg('focus left');
          await run('wtype', ['-s', '500', 'z'], { env: hostEnv() });
          await first.line(/^selection offer$/);
          const selections = second.lines().filter((l) => l.startsWith('selection '));
          expect(selections.at(-1)).toBe('selection none');
        } finally {
          second.child.kill();
        }
      } finally {
        first.child.kill();
        host.kill();
        b.stop();
      }
    },
    60_000,
  );

  itNeeds(
    'offers no data device manager with mode off',
    missing,
    async () => {
      const b = await startBridge(clipboard({ mode: 'off' }));
      const host = await hostCopy('not for the guest');
      const demo = startDemo(b.socket);
      try {
        expect(b.globals).not.toContain('wl_data_device_manager');
        expect(b.globals).toContain('wl_seat');
        await demo.line(/^mapped$/);
        await ctrl('v');
        await demo.line(/^paste-empty$/);
      } finally {
        demo.child.kill();
        host.kill();
        b.stop();
      }
    },
    60_000,
  );

  itNeeds(
    'never offers a type outside the allow-list, and cuts a transfer at the cap',
    missing,
    async () => {
      // wl-copy offers text/plain;charset=utf-8 among others; without it in the list the guest
      // (which pastes only that type) is offered nothing it can use.
      let b = await startBridge(clipboard({ mimeTypes: ['text/plain', 'STRING'] }));
      let host = await hostCopy('typed but not allowed');
      let demo = startDemo(b.socket);
      try {
        await demo.line(/^mapped$/);
        await ctrl('v');
        await demo.line(/^paste-empty$/);
      } finally {
        demo.child.kill();
        host.kill();
        b.stop();
      }
      b = await startBridge(clipboard({ maxBytes: 4096 }));
      host = await hostCopy('a'.repeat(100_000));
      demo = startDemo(b.socket);
      try {
        await demo.line(/^mapped$/);
        await ctrl('v');
        expect(await demo.line(/^pasted-bytes /)).toBe('pasted-bytes 4096');
      } finally {
        demo.child.kill();
        host.kill();
        b.stop();
      }
    },
    60_000,
  );

  itNeeds(
    'ends only a hostile guest (non-pipe fds, floods), never blocks on one that does not read',
    missing,
    async () => {
      const b = await startBridge(clipboard());
      const host = await hostCopy('x'.repeat(1_000_000));
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
          await ctrl('v');
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
        await ctrl('v');
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
        host.kill();
        b.stop();
      }
    },
    120_000,
  );
});
