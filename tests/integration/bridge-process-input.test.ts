/**
 * Keyboard and clipboard through `droidway-bridge`, the production bridge process (its own uid,
 * no_new_privs, the seccomp allow-list that refuses openat), toward sway headless run as nobody
 * (sway refuses root), with the real wtype and wl-copy/wl-paste on the host. The in-process
 * bridge tests (bridge-input, bridge-clipboard) do not see what the sandbox refuses: here the
 * keymap copy must be made without opening a file, and the clipboard's pipes and fcntls must be
 * on the allow-list, or typed keys never become text and Ctrl+V/Ctrl+C do nothing. Hostile
 * clipboard guests meet the bridge's own checks there, never the seccomp filter.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  BridgeProcess,
  bridgeExecutablePath,
  type BridgeProcessConfig,
} from '../../electron/core/display/bridge-process.js';
import type { BridgeEvent } from '../../electron/core/display/bridge.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { startHeadlessSway, SWAY_800x600 } from './helpers/sway.js';
import { waitFor } from './helpers/weston.js';
import { buildWaylandClient, XDG_SHELL_XML as XDG_SHELL } from './helpers/wayland-client-build.js';

const run = promisify(execFile);
const DEMO_SOURCE = join(import.meta.dirname, '../../native/guest/droidway-demo-client.c');
const DEMO_CLIENT = join(import.meta.dirname, '../../native/guest/build/droidway-demo-client');
const INPUT_FIXTURE = join(import.meta.dirname, '../fixtures/bridge/input-client.c');
const TOOLS = ['sway', 'wtype', 'wl-copy', 'wl-paste', 'gcc', 'wayland-scanner'];
const NOBODY = 65534;
const TEXT_TYPES = ['text/plain;charset=utf-8', 'text/plain', 'UTF8_STRING', 'STRING', 'TEXT'];

function missingCapability(): string | null {
  const root = needRoot();
  if (root !== null) return root;
  const tool = missingTool(TOOLS);
  if (tool !== null) return tool;
  if (!existsSync(XDG_SHELL)) return 'wayland-protocols is missing';
  if (!existsSync(DEMO_CLIENT)) return 'the demo client is not built (npm run build:native)';
  if (!existsSync(bridgeExecutablePath()))
    return 'droidway-bridge is not built (npm run build:native)';
  return null;
}
const missing = missingCapability();

let dir = '';
let inputClient = '';
let hostile = '';
let sway: ChildProcess | null = null;
let swaySocket = '';
const hostEnv = () => ({ ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: swaySocket });

beforeAll(async () => {
  if (missing !== null) return;
  // mkdtemp makes it 0700; it becomes nobody's runtime directory.
  dir = mkdtempSync('/tmp/droidway-bridge-process-input-');
  inputClient = await buildWaylandClient({
    source: INPUT_FIXTURE,
    protocols: [XDG_SHELL],
    outDir: dir,
  });
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

/** A bridge process toward sway (dropping to nobody), stopped with its socket folder by `stop`. */
async function startBridge() {
  const socketDir = mkdtempSync('/tmp/droidway-bridge-process-input-sock-');
  const config: BridgeProcessConfig = {
    socketPath: join(socketDir, 'bridge-0'),
    hostSocketPath: swaySocket,
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
function startGuest(
  socket: string,
  binary: string,
  args: string[] = [],
  env: Record<string, string> = {},
) {
  const child = spawn(binary, args, {
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
    waitFor(`guest printing ${pattern}`, () =>
      lines()
        .slice(from)
        .find((l) => pattern.test(l)),
    );
  return { child, lines, line, exited, errors: () => errors };
}

/** Open fds of a process (the bridge process runs as nobody; root reads its /proc). */
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** `wl-copy` holding the host selection until killed (the text goes through stdin). */
async function hostCopy(text: string): Promise<ChildProcess> {
  const child = spawn('wl-copy', ['--foreground'], {
    env: hostEnv(),
    stdio: ['pipe', 'ignore', 'ignore'],
  });
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
  const { stdout } = await run('wl-paste', ['--no-newline'], {
    env: hostEnv(),
    timeout: 5000,
    maxBuffer: 4 * 1024 * 1024,
  });
  return stdout;
}

/** Ctrl+<key> typed by a virtual keyboard into the focused window. */
const ctrl = (key: string) =>
  run('wtype', ['-s', '500', '-M', 'ctrl', key, '-m', 'ctrl'], { env: hostEnv() });

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
        await run('wtype', ['-s', '500', 'k'], { env: hostEnv() });
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
        await run('wtype', ['-s', '500', '-d', '20', 'hellobridge'], { env: hostEnv() });
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
        copies.push(await hostCopy('from the host'));
        await ctrl('v');
        expect(await demo.line(/^pasted /)).toBe('pasted from the host');
        await run('wtype', ['-s', '500', 'z'], { env: hostEnv() });
        await demo.line(/^typed from the hostz$/);
        await ctrl('c');
        await demo.line(/^copied from the hostz$/);
        let pasted = '';
        for (let i = 0; i < 30 && pasted !== 'from the hostz'; ++i) {
          pasted = await hostPaste();
          if (pasted !== 'from the hostz') await new Promise((r) => setTimeout(r, 100));
        }
        expect(pasted).toBe('from the hostz');

        // 256 KiB: several pipe buffers, so the relay's non-blocking pipes fill, wait in the
        // loop and drain, all inside the sandbox.
        const large = 'abcdefghijklmnop'.repeat(16 * 1024);
        const before = demo.lines().length;
        copies.push(await hostCopy(large));
        // The guest's own selection is replaced once the host serves the new one.
        await waitFor('the large host selection', async () =>
          (await hostPaste()) === large ? true : undefined,
        );
        await ctrl('v');
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
      const host = await hostCopy('x'.repeat(1_000_000));
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
          await ctrl('v');
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
        await ctrl('v');
        await lazy.line(/^hostile never-read$/);
        await new Promise((r) => setTimeout(r, 6000));
        await waitFor('the stalled transfer dropped', () =>
          openFds(b.pid) <= withLazy ? true : undefined,
        );
        lazy.child.kill();
        await lazy.exited;
        // The good guest, focused again, still gets keys through the same process.
        const before = good.lines().length;
        await run('wtype', ['-s', '500', 'q'], { env: hostEnv() });
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
        host.kill();
        await b.stop();
      }
    },
    120_000,
  );
});
