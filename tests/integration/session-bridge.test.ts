/**
 * The display bridge in a real session, end to end: a headless weston on the host, `droidway
 * session start --image demo --host-display <weston's socket>` through the built CLI, and real
 * Wayland clients inside the LXC container drawing through the bridge socket at `/run/xdg`:
 * the demo client the guest starts by itself (a toplevel with two subsurfaces), weston's
 * `weston-simple-shm`, and `weston-subsurfaces` (Mesa's software EGL, whose unsealed memfd
 * pools the bridge seals itself). The screenshots must show each window's
 * pixels; `bridge stats --json` must count forwarded buffers and 0 bytes copied; neither the
 * session host nor the bridge process may map a guest buffer, the bridge gets its fds back when
 * a client is killed mid-frame; the bridge process runs confined, and killed, it is restarted
 * while the container runs on and the demo window comes back; a container killed mid-frame
 * takes its windows, the bridge and its socket with it, leaving the instance ready for a new
 * session.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { BridgeClientStats, BridgeStats } from '../../electron/core/display/bridge.js';
import { requestAttachExec, requestStatus } from '../../electron/core/runtime/control-client.js';
import { instancePaths } from '../../electron/core/runtime/instance-paths.js';
import type { SessionStatus } from '../../electron/core/runtime/session.js';
import {
  findColor as findColorFrom,
  pixelAt,
  type ColorBox,
  type PngImage,
} from '../fixtures/bridge/png.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { buildCli, droidway, repoRoot } from './helpers/cli.js';
import { startHeadlessWeston, waitFor, type HeadlessWeston } from './helpers/weston.js';

const TOOLS = [
  'lxc-start',
  'lxc-attach',
  'weston',
  'weston-screenshooter',
  'weston-simple-shm',
  'weston-subsurfaces',
  'make',
  'gcc',
  'pkg-config',
  'wayland-scanner',
];

function missingCapability(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(TOOLS);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node')))
    return 'the native addon is not built (npm run build:native)';
  return null;
}
const missing = missingCapability();

// The demo client's default layout and colours (native/guest/droidway-demo-client.c).
const DEMO = { width: 360, height: 640, status: 24, nav: 48 };
const STATUS_COLOR = 0xe8a01a;
const NAV_COLOR = 0x1ae8a0;
const BACKGROUND_COLOR = 0x283040;
const BAND_COLOR = 0xf0f0f0;
// weston-simple-shm: a 250×250 window whose 20 px padding is white (memset 0xff).
const SIMPLE_SHM = { size: 250, padding: 20 };
// weston's desktop-shell panel; windows are placed below it.
const PANEL_HEIGHT = 32;

const instance = `h2-bridge-${process.pid}`;
const paths = instancePaths(instance);
let weston: HeadlessWeston | null = null;
/** tests/fixtures/bridge/registry-flood.c, built for the guest (same libc and libwayland). */
let registryFlood = '';

/** Bounding box and number of the pixels of exactly `rgb` below the panel, or null. */
const findColor = (image: PngImage, rgb: number) => findColorFrom(image, rgb, PANEL_HEIGHT);

/** `session start --image demo --host-display <hostDisplay> …more --json` for the instance. */
const startDemoSession = (hostDisplay: string, ...more: string[]) =>
  cli(
    'session',
    'start',
    '--instance',
    instance,
    '--image',
    'demo',
    '--host-display',
    hostDisplay,
    ...more,
    '--json',
  );

/** Screenshots until `check` returns a value (windows map and redraw asynchronously). */
async function screenshotUntil<T>(
  what: string,
  check: (image: PngImage) => T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check(await weston!.screenshot());
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} on the screen`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The demo window as the screenshot shows it: main surface plus its two subsurfaces. */
function demoWindow(
  image: PngImage,
): { status: ColorBox; nav: ColorBox; background: ColorBox } | undefined {
  const status = findColor(image, STATUS_COLOR);
  const nav = findColor(image, NAV_COLOR);
  const background = findColor(image, BACKGROUND_COLOR);
  if (status === null || nav === null || background === null) return undefined;
  if (status.count !== DEMO.width * DEMO.status || nav.count !== DEMO.width * DEMO.nav)
    return undefined;
  return { status, nav, background };
}

async function cli(...args: string[]): Promise<{ code: number; json: unknown; stderr: string }> {
  const run = await droidway(...args);
  let json: unknown = null;
  try {
    json = JSON.parse(run.stdout);
  } catch {
    json = run.stdout;
  }
  return { code: run.code, json, stderr: run.stderr };
}

async function stats(): Promise<BridgeStats> {
  const run = await cli('bridge', 'stats', '--instance', instance, '--json');
  expect(run.code, run.stderr).toBe(0);
  return run.json as BridgeStats;
}

/** Runs a program in the guest through the session host (cleared environment plus `env`). */
function guestRun(argv: string[], env: Record<string, string> = {}, timeoutMs = 30_000) {
  return requestAttachExec(paths.controlSocket, argv, { env, timeoutMs });
}

/** Polls the session's status until `check` accepts it (10 s at most). */
async function waitForStatus(check: (s: SessionStatus) => boolean): Promise<SessionStatus> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await requestStatus(paths.controlSocket);
    if (check(status)) return status;
    if (Date.now() > deadline)
      throw new Error(`status never matched; last: ${JSON.stringify(status.bridge)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function hostPid(): number {
  return (JSON.parse(readFileSync(paths.hostRecord, 'utf8')) as { pid: number }).pid;
}

/** The display bridge process of the session (not the session host: it runs apart). */
async function bridgePid(): Promise<number> {
  const pid = (await requestStatus(paths.controlSocket)).bridge?.process.pid;
  if (typeof pid !== 'number') throw new Error('no bridge process runs');
  return pid;
}

/** `Name:` of /proc/PID/status. */
function procStatus(pid: number, name: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`no ${name} in /proc/${pid}/status`);
  return line.slice(name.length + 1).trim();
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Inodes of the memfds a process has mapped (`/memfd:NAME (deleted)` in its maps). */
function memfdInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const fields = line.split(/\s+/);
    if (fields[5]?.startsWith('/memfd:')) inodes.add(Number(fields[4]));
  }
  return inodes;
}

/** Inodes of every file-backed mapping of a process. */
function mappedInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const inode = Number(line.split(/\s+/)[4]);
    if (inode > 0) inodes.add(inode);
  }
  return inodes;
}

/** The client that connected last. */
function newest(s: BridgeStats): BridgeClientStats | undefined {
  return s.clients.find((c) => c.clientId === Math.max(...s.clients.map((x) => x.clientId)));
}

describe('display bridge in a session (root, LXC, weston headless, built CLI)', () => {
  beforeAll(async () => {
    if (missing) return;
    buildCli();
    execFileSync('make', ['-C', path.join(repoRoot, 'native/guest')], { stdio: 'pipe' });
    registryFlood = path.join(mkdtempSync('/tmp/h2sb-flood-'), 'registry-flood');
    execFileSync('gcc', [
      '-O2',
      '-o',
      registryFlood,
      path.join(repoRoot, 'tests/fixtures/bridge/registry-flood.c'),
      '-lwayland-client',
    ]);
    weston = await startHeadlessWeston('h2sb-');
  }, 120_000);

  afterAll(async () => {
    if (missing) return;
    await droidway('session', 'stop', '--instance', instance);
    weston?.stop();
    if (registryFlood !== '') rmSync(path.dirname(registryFlood), { recursive: true, force: true });
    await fs.rm(paths.dataDir, { recursive: true, force: true });
  });

  itNeeds(
    'a session without a host display runs with the bridge off and says why',
    missing,
    async () => {
      const run = await startDemoSession(path.join(weston!.dir, 'no-such-display'));
      expect(run.code, run.stderr).toBe(0);
      const status = (run.json as { status: SessionStatus }).status;
      expect(status.state.name).toBe('running');
      expect(status.bridge).toMatchObject({ state: 'off', socket: null });
      expect(status.bridge?.reason).toMatch(/no-such-display is not a Wayland socket/);
      const refused = await cli('bridge', 'stats', '--instance', instance, '--json');
      expect(refused.code).toBe(1);
      expect(refused.json).toMatchObject({ ok: false, error: { code: 'BRIDGE_OFF' } });
      expect((await cli('session', 'stop', '--instance', instance)).code).toBe(0);
    },
    60_000,
  );

  itNeeds(
    'the demo guest shows its window (toplevel and two subsurfaces) through the bridge',
    missing,
    async () => {
      // The weston clients of the tests below run from the host's /usr, which the demo guest
      // gets (read-only) only together with the stand-in Android tools.
      const run = await startDemoSession(
        weston!.socket,
        '--android-tools',
        path.join(repoRoot, 'tests', 'fixtures', 'android-guest'),
      );
      expect(run.code, run.stderr).toBe(0);
      const status = (run.json as { status: SessionStatus }).status;
      expect(status.bridge).toMatchObject({
        state: 'running',
        hostSocket: weston!.socket,
        socket: paths.bridgeSocket,
        guestRuntimeDir: '/run/xdg',
        guestDisplay: 'wayland-0',
      });
      // The guest environment points at the bridge; its socket is the only thing in /run/xdg.
      const env = await guestRun([
        '/bin/sh',
        '-c',
        'echo $XDG_RUNTIME_DIR $WAYLAND_DISPLAY; ls /run/xdg',
      ]);
      expect(env.stdout.toString()).toBe('/run/xdg wayland-0\nwayland-0\n');
      // The folder is a host folder without a size limit: the guest may connect, never write.
      const plant = await guestRun(['/bin/sh', '-c', 'touch /run/xdg/planted; echo $?']);
      expect(plant.stdout.toString().trim()).not.toBe('0');
      expect(existsSync(path.join(paths.xdgDir, 'planted'))).toBe(false);

      const shown = await screenshotUntil('the demo window', demoWindow);
      // Status bar on top, nav bar at the bottom, both over the main surface's full width.
      expect(shown.status).toMatchObject({ width: DEMO.width, height: DEMO.status });
      expect(shown.nav).toMatchObject({ width: DEMO.width, height: DEMO.nav, x: shown.status.x });
      expect(shown.nav.y - shown.status.y).toBe(DEMO.height - DEMO.nav);
      expect(shown.background.x).toBe(shown.status.x);
      const image = await weston!.screenshot();
      const bandRow = shown.status.y + DEMO.status + 100;
      let band = 0;
      for (let x = shown.status.x; x < shown.status.x + DEMO.width; x++)
        if (pixelAt(image, x, bandRow) === BAND_COLOR) band++;
      expect(band).toBeGreaterThan(0);

      const now = await requestStatus(paths.controlSocket);
      expect(now.bridge?.toplevels).toContain('droidway.demo');
      expect(now.bridge?.events.some((e) => e.type === 'client-connected')).toBe(true);

      const s = await stats();
      expect(s.running).toBe(true);
      const demo = s.clients.find((c) => c.connected);
      expect(demo).toBeDefined();
      expect(demo!.buffersForwarded.shm).toBeGreaterThan(0);
      expect(demo!.bytesCopied).toBe(0);
      expect(demo!.fdsRejected).toEqual({});
      expect(demo!.violations).toEqual({});
    },
    60_000,
  );

  itNeeds(
    'the bridge runs apart, confined; killed, it is restarted and the demo window is back within 2 s',
    missing,
    async () => {
      const before = await requestStatus(paths.controlSocket);
      const host = hostPid();
      const first = await bridgePid();
      expect(first).not.toBe(host);
      // Not root, no new privileges, a seccomp filter, an address-space cap.
      expect(procStatus(first, 'Uid').split(/\s+/)).not.toContain('0');
      expect(procStatus(first, 'NoNewPrivs')).toBe('1');
      expect(procStatus(first, 'Seccomp')).toBe('2');
      const limits = readFileSync(`/proc/${first}/limits`, 'utf8');
      expect(limits).toMatch(/Max address space\s+268435456\s+268435456\s+bytes/);
      await screenshotUntil('the demo window', demoWindow);

      const killedAt = Date.now();
      process.kill(first, 'SIGKILL');
      // The window goes with the process's host connections, then the demo guest's client,
      // run again by its launcher, reconnects to the restarted bridge.
      const back = await waitForStatus(
        (s) =>
          typeof s.bridge?.process.pid === 'number' &&
          s.bridge.process.pid !== first &&
          s.bridge.toplevels.includes('droidway.demo'),
      );
      await screenshotUntil('the demo window back', demoWindow, 2_000);
      const elapsed = Date.now() - killedAt;
      expect(elapsed).toBeLessThan(2_000);

      // The container never noticed: same init, still running, same session host.
      expect(back.initPid).toBe(before.initPid);
      expect(back.state.name).toBe('running');
      expect(hostPid()).toBe(host);
      expect(back.bridge).toMatchObject({ state: 'running', socket: paths.bridgeSocket });
      expect(back.bridge?.process.restarts).toBe(1);
      expect(back.bridge?.process.lastEnd).toMatch(
        new RegExp(`^bridge process ${first} ended by signal SIGKILL, restarted at \\d{4}-`),
      );
      expect(
        back.bridge?.events.some((e) => e.type === 'process-ended' && e.signal === 'SIGKILL'),
      ).toBe(true);
      const text = await droidway('session', 'status', '--instance', instance);
      expect(text.stdout).toMatch(/display bridge: running .*ended by signal SIGKILL, restarted/);
      const second = await bridgePid();
      expect(procStatus(second, 'Seccomp')).toBe('2');
      console.log(`bridge kill -9 → demo window back on screen in ${elapsed} ms`);
    },
    60_000,
  );

  itNeeds(
    'a guest flooding registries is cut off; the bridge stays under its memory cap, the container runs on',
    missing,
    async () => {
      const before = await requestStatus(paths.controlSocket);
      const pid = await bridgePid();
      let peakKiB = 0;
      // VmPeak is the process's high-water mark, so the last sample of a live bridge is its
      // peak; the timer also catches a bridge that dies (and restarts) mid-flood.
      const samplePeak = (): void => {
        try {
          peakKiB = Math.max(peakKiB, Number(procStatus(pid, 'VmPeak').split(/\s+/)[0]));
        } catch {
          // The process ended: its restart is checked below.
        }
      };
      samplePeak();
      const sample = setInterval(samplePeak, 20);
      let flood;
      try {
        // The guest's own copy, fed through stdin: /tmp in the guest is its tmpfs.
        flood = await requestAttachExec(
          paths.controlSocket,
          [
            '/bin/sh',
            '-c',
            'cat > /tmp/registry-flood && chmod 700 /tmp/registry-flood && exec /tmp/registry-flood 5000000',
          ],
          {
            env: { XDG_RUNTIME_DIR: '/run/xdg', WAYLAND_DISPLAY: 'wayland-0' },
            stdin: readFileSync(registryFlood),
            timeoutMs: 60_000,
          },
        );
      } finally {
        clearInterval(sample);
        samplePeak();
      }
      expect(flood.stdout.toString().trim(), flood.stderr.toString()).toMatch(/^ended E[A-Z]+$/);
      expect(peakKiB).toBeGreaterThan(0);
      expect(peakKiB).toBeLessThanOrEqual(256 * 1024);
      const after = await waitForStatus(
        (s) => s.bridge?.state === 'running' && s.bridge.toplevels.includes('droidway.demo'),
      );
      expect(after.initPid).toBe(before.initPid);
      expect(after.state.name).toBe('running');
      await screenshotUntil('the demo window after the flood', demoWindow);
    },
    90_000,
  );

  itNeeds(
    'weston-simple-shm in the container draws through the bridge; the host maps no guest buffer',
    missing,
    async () => {
      const env = { PATH: '/usr/bin:/bin' };
      const client = guestRun(['timeout', '-s', 'INT', '8', 'weston-simple-shm'], env);
      const shown = await screenshotUntil('the weston-simple-shm window', (image) => {
        const white = findColor(image, 0xffffff);
        return white !== null && white.width === SIMPLE_SHM.size && white.height === SIMPLE_SHM.size
          ? white
          : undefined;
      });
      const inner = SIMPLE_SHM.size - 2 * SIMPLE_SHM.padding;
      expect(shown.count).toBeGreaterThanOrEqual(SIMPLE_SHM.size ** 2 - inner ** 2);

      const status = await requestStatus(paths.controlSocket);
      expect(status.bridge?.toplevels).toContain('droidway.org.freedesktop.weston.simple-shm');
      const s = await stats();
      // Neither the session host nor the bridge process.
      const mapped = new Set([...mappedInodes(hostPid()), ...mappedInodes(await bridgePid())]);
      for (const c of s.clients.filter((c) => c.connected)) {
        expect(c.buffersForwarded.shm).toBeGreaterThan(0);
        expect(c.bytesCopied).toBe(0);
        // The guest's pixels live in its memfds; the host must hold none of them mapped.
        const guestMemfds = memfdInodes(c.pid);
        expect(guestMemfds.size).toBeGreaterThan(0);
        for (const inode of guestMemfds) expect(mapped.has(inode)).toBe(false);
      }
      expect(s.clients.filter((c) => c.connected)).toHaveLength(2);
      expect((await client).exitCode).not.toBeNull();
      await screenshotUntil('the weston-simple-shm window to go', (image) =>
        findColor(image, 0xffffff)?.width === SIMPLE_SHM.size ? undefined : true,
      );
    },
    60_000,
  );

  itNeeds(
    'weston-subsurfaces (Mesa software EGL) draws: the bridge seals its memfd pools itself',
    missing,
    async () => {
      const before = (await stats()).clientsTotal;
      const run = await guestRun(['timeout', '4', 'weston-subsurfaces'], {
        PATH: '/usr/bin:/bin',
        LIBGL_ALWAYS_SOFTWARE: '1',
        EGL_PLATFORM: 'wayland',
      });
      // Served until timeout(1) ended it (status 124), not cut off by the bridge.
      expect(run.exitCode).toBe(124);
      const s = await stats();
      expect(s.clientsTotal).toBe(before + 1);
      const served = newest(s);
      expect(served).toMatchObject({
        connected: false,
        disconnectReason: 'disconnected',
        bytesCopied: 0,
        fdsRejected: {},
        violations: {},
      });
      expect(served!.commits).toBeGreaterThan(10);
      expect(served!.buffersForwarded.shm).toBeGreaterThan(10);
      const status = await requestStatus(paths.controlSocket);
      expect(status.state.name).toBe('running');
      expect(status.bridge?.state).toBe('running');
      // The demo window is untouched.
      await screenshotUntil('the demo window', demoWindow);
    },
    60_000,
  );

  itNeeds(
    'a client killed mid-frame gives the bridge its fds back',
    missing,
    async () => {
      const host = await bridgePid();
      const baseline = fdCount(host);
      const before = (await stats()).clientsTotal;
      const run = await guestRun(
        ['/bin/sh', '-c', 'weston-simple-shm & p=$!; sleep 1.5; kill -9 $p; wait $p; echo $?'],
        { PATH: '/usr/bin:/bin' },
      );
      expect(run.stdout.toString().trim()).toBe('137');
      const s = await stats();
      expect(s.clientsTotal).toBe(before + 1);
      const killed = newest(s);
      expect(killed?.connected).toBe(false);
      expect(killed?.buffersForwarded.shm).toBeGreaterThan(0);
      await waitFor('the host fd count back at its baseline', () =>
        fdCount(host) === baseline ? true : undefined,
      );
    },
    60_000,
  );

  itNeeds(
    'a container killed mid-frame takes its windows, the bridge and its socket; a new session works',
    missing,
    async () => {
      const host = hostPid();
      const bridge = await bridgePid();
      const status = await requestStatus(paths.controlSocket);
      const demo = (await stats()).clients.find((c) => c.connected);
      expect(demo).toBeDefined();
      await screenshotUntil('the demo window', demoWindow);
      process.kill(status.initPid!, 'SIGKILL');

      await waitFor('the session host to exit', () => (alive(host) ? undefined : true), 30_000);
      expect(existsSync(paths.bridgeSocket)).toBe(false);
      expect(existsSync(paths.xdgDir)).toBe(false);
      expect(existsSync(paths.runtimeDir)).toBe(false);
      expect(alive(demo!.pid)).toBe(false);
      expect(alive(bridge)).toBe(false);
      await screenshotUntil('the demo window to go', (image) =>
        findColor(image, STATUS_COLOR) === null && findColor(image, NAV_COLOR) === null
          ? true
          : undefined,
      );
      const log = await fs.readFile(paths.hostLog, 'utf8');
      expect(log).toMatch(/bridge: client \d+ disconnected/);
      expect(log).toMatch(/host done: error \(the container's init was killed by signal/);
      const after = await cli('session', 'status', '--instance', instance, '--json');
      expect(after.json, after.stderr).toMatchObject({ state: { name: 'stopped' } });

      const again = await startDemoSession(weston!.socket);
      expect(again.code, again.stderr).toBe(0);
      expect((again.json as { status: SessionStatus }).status.bridge?.state).toBe('running');
      await screenshotUntil('the demo window of the new session', demoWindow);
      const stopped = await cli('session', 'stop', '--instance', instance, '--json');
      expect((stopped.json as SessionStatus).bridge).toMatchObject({
        state: 'stopped',
        socket: null,
      });
      expect(existsSync(paths.runtimeDir)).toBe(false);
      await screenshotUntil('the demo window to go after stop', (image) =>
        findColor(image, STATUS_COLOR) === null ? true : undefined,
      );
    },
    90_000,
  );

  itNeeds(
    'losing the host compositor takes the bridge down, with the reason in the status; the guest runs on',
    missing,
    async () => {
      const doomed = await startHeadlessWeston('h2sb-lost-');
      try {
        const run = await cli(
          'session',
          'start',
          '--instance',
          instance,
          '--host-display',
          doomed.socket,
          '--json',
        );
        expect(run.code, run.stderr).toBe(0);
        await waitForStatus((s) => s.bridge?.toplevels.includes('droidway.demo') === true);
      } finally {
        doomed.stop();
      }
      const down = await waitForStatus((s) => s.bridge?.state === 'down');
      expect(down.bridge?.reason).toMatch(/lost the host compositor/);
      expect(down.bridge?.socket).toBeNull();
      expect(down.state.name).toBe('running');
      expect(existsSync(paths.bridgeSocket)).toBe(false);
      const text = await droidway('session', 'status', '--instance', instance);
      expect(text.stdout).toMatch(/display bridge: down on .* \(lost the host compositor/);
      expect((await cli('session', 'stop', '--instance', instance)).code).toBe(0);
    },
    90_000,
  );

  itNeeds(
    'two concurrent starts of one instance: one runs, the other is refused',
    missing,
    async () => {
      const start = () =>
        droidway('session', 'start', '--instance', instance, '--host-display', weston!.socket);
      const runs = await Promise.all([start(), start()]);
      expect(runs.map((r) => r.code).sort()).toEqual([0, 1]);
      const refused = runs.find((r) => r.code === 1)!;
      expect(refused.stderr).toMatch(
        /^droidway: instance \S+ (already has a session host|is being started|is owned by a running session host)/,
      );
      const status = await requestStatus(paths.controlSocket);
      expect(status.state.name).toBe('running');
      await screenshotUntil('the demo window', demoWindow);
      expect((await cli('session', 'stop', '--instance', instance)).code).toBe(0);
    },
    90_000,
  );
});
