/**
 * What the display bridge integration tests share: the check of the capabilities they need, the
 * protocol XMLs their fixture clients are built from, a headless sway host (run as nobody: sway
 * refuses root) with its own runtime folder, and the guest and virtual-pointer processes they
 * drive by the lines those print.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { bridgeExecutablePath } from '../../../electron/core/display/bridge-process.js';
import {
  DisplayBridge,
  type BridgeGlobalName,
  type DisplayBridgeOptions,
} from '../../../electron/core/display/bridge.js';
import { decodePng, type PngImage } from '../../fixtures/bridge/png.js';
import { missingTool, needRoot } from '../../helpers/capability.js';
import { startHeadlessSway, stopHeadlessSway, SWAY_800x600 } from './sway.js';
import { waitFor } from './weston.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../../..');
const WAYLAND_PROTOCOLS = '/usr/share/wayland-protocols';

/** The account sway and the confined bridge run as. */
export const NOBODY = 65534;

/** The fixture clients and hosts of the bridge tests. */
export const BRIDGE_FIXTURES = join(REPO, 'tests/fixtures/bridge');

/** The demo guest client's source and its build (`npm run build:native`). */
export const DEMO_SOURCE = join(REPO, 'native/guest/droidway-demo-client.c');
export const DEMO_CLIENT = join(REPO, 'native/guest/build/droidway-demo-client');

const NATIVE_MODULE = join(REPO, 'native/build/Release/droidway_native.node');

/**
 * The globals Waydroid's hwcomposer stand-in (android-hwc-client.c) binds where the host has
 * them, which the protocol client (protocol-client.c) uses too.
 */
export const HWC_GLOBALS: BridgeGlobalName[] = [
  'wl_compositor',
  'wl_subcompositor',
  'wl_shm',
  'xdg_wm_base',
  'wp_viewporter',
  'wp_presentation',
  'wl_output',
  'wl_seat',
];

/** The protocol XMLs the fixture clients use, by protocol name. */
export const PROTOCOL_XML = {
  'xdg-shell': `${WAYLAND_PROTOCOLS}/stable/xdg-shell/xdg-shell.xml`,
  viewporter: `${WAYLAND_PROTOCOLS}/stable/viewporter/viewporter.xml`,
  'presentation-time': `${WAYLAND_PROTOCOLS}/stable/presentation-time/presentation-time.xml`,
  'tablet-unstable-v2': `${WAYLAND_PROTOCOLS}/unstable/tablet/tablet-unstable-v2.xml`,
  'fractional-scale-v1': `${WAYLAND_PROTOCOLS}/staging/fractional-scale/fractional-scale-v1.xml`,
  'relative-pointer-unstable-v1': `${WAYLAND_PROTOCOLS}/unstable/relative-pointer/relative-pointer-unstable-v1.xml`,
  'pointer-constraints-unstable-v1': `${WAYLAND_PROTOCOLS}/unstable/pointer-constraints/pointer-constraints-unstable-v1.xml`,
  // Not in wayland-protocols: wlroots' own, kept beside the fixtures.
  'wlr-virtual-pointer-unstable-v1': join(BRIDGE_FIXTURES, 'wlr-virtual-pointer-unstable-v1.xml'),
} as const;

/** The XML paths of `names`, in that order. */
export function protocolXml(...names: (keyof typeof PROTOCOL_XML)[]): string[] {
  return names.map((name) => PROTOCOL_XML[name]);
}

/** What a bridge test needs of the machine. */
export interface BridgeTestNeeds {
  /** Root (for sway run as nobody, or a bridge process that drops to it). Default true. */
  root?: boolean;
  /** Programs that must be on PATH. */
  tools: readonly string[];
  /** Protocol XMLs that must exist. */
  xml: readonly string[];
  /** The native module (the in-process `DisplayBridge`). */
  nativeModule?: boolean;
  /** The confined bridge executable (`BridgeProcess`). */
  bridgeProcess?: boolean;
  /** The built demo guest client. */
  demoClient?: boolean;
}

/** The reason a bridge test cannot run here, or null when everything in `needs` is present. */
export function missingBridgeCapability(needs: BridgeTestNeeds): string | null {
  if (needs.root !== false) {
    const root = needRoot();
    if (root !== null) return root;
  }
  const tool = missingTool(needs.tools);
  if (tool !== null) return tool;
  if (!needs.xml.every((xml) => existsSync(xml))) return 'wayland-protocols is missing';
  if (needs.demoClient === true && !existsSync(DEMO_CLIENT))
    return 'the demo client is not built (npm run build:native)';
  if (needs.nativeModule === true && !existsSync(NATIVE_MODULE))
    return 'the native module is not built (npm run build:native)';
  if (needs.bridgeProcess === true && !existsSync(bridgeExecutablePath()))
    return 'droidway-bridge is not built (npm run build:native)';
  return null;
}

/** A headless sway started for a test file, and the host-side tools pointed at it. */
export interface SwayHost {
  /** sway's runtime folder (0700, nobody's), where the fixture clients are built too. */
  readonly dir: string;
  /** sway's Wayland socket (absolute). */
  readonly socket: string;
  /** An environment for a process on `display` (default sway's socket) with sway's runtime folder. */
  env(display?: string): NodeJS.ProcessEnv;
  /** Runs a sway command through its IPC socket (sway-ipc.UID.PID.sock in its runtime folder). */
  swaymsg(command: string): Promise<void>;
  /** A screenshot of sway's output (`grim`), with the cursor drawn when `cursor`. */
  screenshot(cursor?: boolean): Promise<PngImage>;
  /** Types with `wtype` (a virtual keyboard) into the focused window. */
  wtype(...args: string[]): Promise<unknown>;
  /** Ctrl+<key> typed by a virtual keyboard into the focused window. */
  ctrl(key: string): Promise<unknown>;
  /** `wl-copy` holding the host selection (of `type`, if given) until killed. */
  copy(text: string, type?: string): Promise<ChildProcess>;
  /** The host selection as text (`wl-paste`). */
  paste(): Promise<string>;
}

/**
 * Starts a headless sway with `config` before the file's tests (after `build`, given its folder,
 * has built the fixture clients there) and stops it and removes its folder after them. Nothing
 * starts when `missing` names a reason.
 */
export function useSwayHost(options: {
  /** The runtime folder's prefix under /tmp. */
  prefix: string;
  missing: string | null;
  /** sway's config (default `SWAY_800x600`: no bar, no borders). */
  config?: string;
  build?: (dir: string) => Promise<void>;
}): SwayHost {
  let dir = '';
  let socket = '';
  let sway: ChildProcess | null = null;
  const env = (display = socket): NodeJS.ProcessEnv => ({
    ...process.env,
    XDG_RUNTIME_DIR: dir,
    WAYLAND_DISPLAY: display,
  });

  beforeAll(async () => {
    if (options.missing !== null) return;
    // mkdtemp makes it 0700; it becomes nobody's runtime directory.
    dir = mkdtempSync(`/tmp/${options.prefix}`);
    await options.build?.(dir);
    ({ sway, socket } = await startHeadlessSway(dir, options.config ?? SWAY_800x600, NOBODY));
  }, 60_000);

  afterAll(async () => {
    if (sway !== null) await stopHeadlessSway(sway);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  return {
    get dir() {
      return dir;
    },
    get socket() {
      return socket;
    },
    env,
    async swaymsg(command) {
      const ipc = readdirSync(dir).find((name) => name.startsWith('sway-ipc.'));
      if (ipc === undefined) throw new Error('sway has no IPC socket');
      await run('swaymsg', ['-s', join(dir, ipc), command], { env: env() });
    },
    async screenshot(cursor = false) {
      const { stdout } = await run('grim', [...(cursor ? ['-c'] : []), '-t', 'png', '-'], {
        env: env(),
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
      });
      return decodePng(stdout);
    },
    wtype: (...args) => run('wtype', args, { env: env() }),
    ctrl: (key) => run('wtype', ['-s', '500', '-M', 'ctrl', key, '-m', 'ctrl'], { env: env() }),
    async copy(text, type) {
      const args = ['--foreground', ...(type !== undefined ? ['--type', type] : [])];
      const child = spawn('wl-copy', args, { env: env(), stdio: ['pipe', 'ignore', 'ignore'] });
      // The text goes through stdin: a large one does not fit on a command line.
      child.stdin?.end(text);
      // Until wl-copy has taken the selection, wl-paste lists no types (or fails).
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { stdout } = await run('wl-paste', ['--list-types'], { env: env() }).catch(() => ({
          stdout: '',
        }));
        if (stdout.length > 0) return child;
        if (Date.now() > deadline) {
          child.kill();
          throw new Error('timed out waiting for the host selection');
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async paste() {
      const { stdout } = await run('wl-paste', ['--no-newline'], {
        env: env(),
        timeout: 5000,
        maxBuffer: 4 * 1024 * 1024,
      });
      return stdout;
    },
  };
}

/** A process whose stdout is read line by line. */
export interface LineProcess {
  child: ChildProcess;
  /** The non-empty lines it printed so far. */
  lines(): string[];
  /** Waits for a line matching `pattern`, from the `from`th line on. */
  line(pattern: RegExp, from?: number): Promise<string>;
  /** Waits for a line that is exactly `text`. */
  printed(text: string): Promise<true>;
  /** Resolves with its exit status. */
  exited: Promise<number | null>;
  /** What it wrote to stderr ('' when stderr is inherited). */
  errors(): string;
}

/**
 * Spawns `binary` with `args` and `env`; `label` names it in a timeout. Its stderr is kept for
 * `errors()` when `stderr` is 'pipe', else it goes to the test's.
 */
export function startLineProcess(
  label: string,
  binary: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stderr: 'pipe' | 'inherit' = 'inherit',
): LineProcess {
  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', stderr] });
  let output = '';
  let errors = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = () => output.split('\n').filter(Boolean);
  const line = (pattern: RegExp, from = 0) =>
    waitFor(`${label} printing ${pattern}`, () =>
      lines()
        .slice(from)
        .find((l) => pattern.test(l)),
    );
  const printed = (text: string) =>
    waitFor(`${label} printing ${text}`, () => (lines().includes(text) ? true : undefined));
  return { child, lines, line, printed, exited, errors: () => errors };
}

/**
 * Starts an in-process `DisplayBridge` with `options` on a socket `bridge-0` in a new folder
 * `/tmp/<prefix>…`; `stop` stops it and removes the folder.
 */
export function startDisplayBridge(
  prefix: string,
  options: Omit<DisplayBridgeOptions, 'socketPath'>,
): { bridge: DisplayBridge; socket: string; stop(): void } {
  const socketDir = mkdtempSync(`/tmp/${prefix}`);
  const socket = join(socketDir, 'bridge-0');
  let bridge: DisplayBridge;
  try {
    bridge = DisplayBridge.start({ ...options, socketPath: socket });
  } catch (error) {
    rmSync(socketDir, { recursive: true, force: true });
    throw error;
  }
  const stop = () => {
    bridge.stop();
    rmSync(socketDir, { recursive: true, force: true });
  };
  return { bridge, socket, stop };
}

/**
 * Starts the virtual pointer fixture (`virtual-pointer.c`) on the host at `width`×`height` and
 * waits until it is ready; `send` writes one command and waits for its `ok`.
 */
export async function startVirtualPointer(
  binary: string,
  env: NodeJS.ProcessEnv,
  width = 800,
  height = 600,
): Promise<{ child: ChildProcess; send(command: string): Promise<void> }> {
  const child = spawn(binary, [String(width), String(height)], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let acks = 0;
  const send = async (command: string) => {
    child.stdin?.write(`${command}\n`);
    ++acks;
    await waitFor(`virtual pointer: ${command}`, () =>
      output.split('\n').filter((l) => l === 'ok').length >= acks ? true : undefined,
    );
  };
  try {
    await waitFor('virtual pointer ready', () => (output.includes('ready') ? true : undefined));
  } catch (error) {
    child.kill();
    throw error;
  }
  return { child, send };
}
