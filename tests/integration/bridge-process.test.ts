/**
 * `droidway-bridge`, the display bridge as a process of its own, against a real headless weston:
 * it refuses a malformed configuration line before binding anything; set up, it runs as the
 * given uid (never root), with no_new_privs, a seccomp filter and RLIMIT_AS, and still relays a
 * real client's frames to the screen (so the allow-list covers the whole path); its socket gets
 * the guest's owner and mode; `kill -9` is answered by a restart, and a guest flooding objects
 * meets the memory cap, which ends the bridge process alone.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  BridgeProcess,
  bridgeExecutablePath,
  type BridgeProcessConfig,
  type BridgeProcessOptions,
} from '../../electron/core/display/bridge-process.js';
import type { BridgeEvent } from '../../electron/core/display/bridge.js';
import { nativeBridgeLimits } from '../../electron/core/policy/bridge-limits.js';
import { loadPreset } from '../../electron/core/policy/presets.js';
import { instancePaths } from '../../electron/core/runtime/instance-paths.js';
import { SessionBridge } from '../../electron/core/runtime/session-bridge.js';
import { countColor } from '../fixtures/bridge/png.js';
import { distinctBridgeLimits } from '../helpers/bridge-limits.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { startHeadlessWeston, waitFor, type HeadlessWeston } from './helpers/weston.js';
import { buildWaylandClient, XDG_SHELL_XML as XDG_SHELL } from './helpers/wayland-client-build.js';

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '../fixtures/bridge/hostile-client.c');

function missingCapability(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(['weston', 'weston-screenshooter', 'gcc', 'wayland-scanner']);
  if (tool !== null) return tool;
  if (!existsSync(XDG_SHELL)) return 'wayland-protocols is not installed';
  if (!existsSync(bridgeExecutablePath()))
    return 'droidway-bridge is not built (npm run build:native)';
  return null;
}
const missing = missingCapability();

const COLOR = 0x3050e0;
const WIDTH = 96;
const HEIGHT = 64;
const NOBODY = 65534;

let buildDir = '';
let client = '';

beforeAll(async () => {
  if (missing !== null) return;
  buildDir = mkdtempSync('/tmp/droidway-bridge-process-build-');
  client = await buildWaylandClient({ source: FIXTURE, protocols: [XDG_SHELL], outDir: buildDir });
}, 60_000);

afterAll(() => {
  if (buildDir !== '') rmSync(buildDir, { recursive: true, force: true });
});

/** `Name:\tvalue` of /proc/PID/status. */
function procStatus(pid: number, name: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`no ${name} in /proc/${pid}/status`);
  return line.slice(name.length + 1).trim();
}

/** The soft RLIMIT_AS of a process, in bytes ('unlimited' as Infinity). */
function addressSpaceLimit(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max address space'))!;
  const soft = line.split(/\s{2,}/)[1]!;
  return soft === 'unlimited' ? Infinity : Number(soft);
}

/** Runs the executable with one configuration line; returns its stdout lines and exit status. */
function runWithLine(line: string): { lines: unknown[]; status: number | null } {
  const result = spawnSync(bridgeExecutablePath(), [], {
    input: `${line}\n`,
    encoding: 'utf8',
    timeout: 10_000,
  });
  const lines = result.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
  return { lines, status: result.status };
}

describe('droidway-bridge: the display bridge in its own process', () => {
  let weston: HeadlessWeston | null = null;
  let dir = '';
  beforeAll(async () => {
    if (missing !== null) return;
    weston = await startHeadlessWeston('droidway-bridge-process-');
    dir = mkdtempSync('/tmp/droidway-bridge-process-');
  }, 60_000);
  afterAll(() => {
    weston?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const config = (name: string, extra: Partial<BridgeProcessConfig> = {}): BridgeProcessConfig => ({
    socketPath: join(dir, name),
    hostSocketPath: weston!.socket,
    globals: ['wl_compositor', 'wl_shm', 'xdg_wm_base'],
    runAsUid: NOBODY,
    runAsGid: NOBODY,
    ...extra,
  });

  const start = (options: Omit<BridgeProcessOptions, 'config'> & { config: BridgeProcessConfig }) =>
    BridgeProcess.start(options);

  const good = (socket: string): ChildProcess =>
    spawn(client, ['good', COLOR.toString(16), `${WIDTH}`, `${HEIGHT}`, 'Good', 'good'], {
      env: { ...process.env, WAYLAND_DISPLAY: socket },
      stdio: 'ignore',
    });

  async function windowOnScreen(): Promise<void> {
    const deadline = Date.now() + 5_000;
    let seen = 0;
    while (Date.now() < deadline) {
      seen = countColor(await weston!.screenshot(), COLOR);
      if (seen === WIDTH * HEIGHT) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toBe(WIDTH * HEIGHT);
  }

  async function windowGone(): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (countColor(await weston!.screenshot(), COLOR) === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the good window stayed on the screen');
  }

  itNeeds('refuses a malformed configuration line and binds nothing', missing, () => {
    const socket = join(dir, 'refused');
    const ok = config('refused');
    const cases: [string, RegExp][] = [
      ['', /no configuration line|unexpected end/],
      ['not json', /unexpected token/],
      ['[]', /must be an object/],
      ['{"socketPath":', /unexpected end/],
      [JSON.stringify({ ...ok, extra: 1 }), /unknown key extra/],
      [JSON.stringify({ ...ok, socketMode: 0o666 }), /socketMode must be 0o600 or 0o660/],
      [JSON.stringify({ ...ok, globals: ['wl_data_device_manager'] }), /cannot be relayed/],
      [JSON.stringify({ ...ok, globals: 'wl_shm' }), /globals has the wrong type/],
      [JSON.stringify({ ...ok, requireSealed: 'yes' }), /requireSealed has the wrong type/],
      [JSON.stringify({ ...ok, limits: { maxFds: 0 } }), /limits\.maxFds must be from 1/],
      [JSON.stringify({ ...ok, limits: { maxFds: 1.5 } }), /numbers must be integers/],
      [JSON.stringify({ ...ok, limits: { fds: 3 } }), /limits\.unknown key fds/],
      [JSON.stringify({ ...ok, maxClients: 1e9 }), /maxClients must be from 1 to 1024/],
      [
        JSON.stringify({ ...ok, maxClientsPerUid: 1025 }),
        /maxClientsPerUid must be from 0 to 1024/,
      ],
      [
        JSON.stringify({ ...ok, firstRequestTimeoutMs: 0 }),
        /firstRequestTimeoutMs must be from 1 to 600000/,
      ],
      [JSON.stringify({ ...ok, pollMaxUs: 1001 }), /pollMaxUs must be from 0 to 1000/],
      [JSON.stringify({ ...ok, pollMaxUs: -1 }), /pollMaxUs must be from 0 to 1000/],
      [
        JSON.stringify({ ...ok, limits: { maxRegionRects: 0 } }),
        /limits\.maxRegionRects must be from 1 to 65536/,
      ],
      [
        JSON.stringify({ ...ok, limits: { maxDamageRects: 1e6 } }),
        /limits\.maxDamageRects must be from 1 to 65536/,
      ],
      ...(
        [
          [{ mode: 'all' }, /clipboard\.mode must be off, host-to-guest or both/],
          [{ mimeTypes: ['a b'] }, /clipboard\.mimeTypes must hold printable ASCII/],
          [{ mimeTypes: [7] }, /clipboard\.mimeTypes must hold printable ASCII/],
          [{ mimeTypes: Array(33).fill('a/b') }, /clipboard\.mimeTypes holds at most 32/],
          [{ maxBytes: 0 }, /clipboard\.maxBytes must be from 1 to 1073741824/],
          [{ maxBytes: undefined }, /clipboard\.maxBytes is required/],
          [{ extra: 1 }, /clipboard\.unknown key extra/],
        ] as const
      ).map(([over, message]): [string, RegExp] => [
        JSON.stringify({
          ...ok,
          clipboard: { mode: 'both', mimeTypes: ['text/plain'], maxBytes: 9, ...over },
        }),
        message,
      ]),
      [JSON.stringify({ ...ok, runAsUid: 0 }), /runAsUid must be from 1/],
      [JSON.stringify({ ...ok, runAsGid: undefined }), /runAsUid and runAsGid go together/],
      [
        JSON.stringify({ ...ok, runAsUid: undefined, runAsGid: undefined }),
        /runAsUid and runAsGid are required/,
      ],
      [JSON.stringify({ ...ok, memoryLimitMiB: 1 }), /memoryLimitMiB must be from 32/],
      [JSON.stringify({ ...ok, socketUid: -5 }), /socketUid must be from 0/],
      [JSON.stringify({ ...ok, socketPath: 'relative' }), /socket paths must be absolute/],
      [`${JSON.stringify(ok).slice(0, -1)},"socketMode":384,"socketMode":384}`, /duplicate key/],
      [`${JSON.stringify(ok)} trailing`, /trailing bytes/],
      [JSON.stringify(ok).replace('"socketPath":"', '"socketPath":"\\ud800'), /bad \\u escape/],
      [JSON.stringify(ok).replace('"socketPath":"', '"socketPath":"\\u0000'), /bad \\u escape/],
      ['{"limits":{"a":{"b":{"c":{"d":{}}}}}}', /nested too deeply/],
      [`{"socketPath":"${'a'.repeat(70_000)}"}`, /longer than 64 KiB/],
    ];
    for (const [line, message] of cases) {
      const result = runWithLine(line);
      expect(result.status, line.slice(0, 80)).toBe(2);
      expect(result.lines, line.slice(0, 80)).toEqual([
        {
          type: 'error',
          reason: expect.stringMatching(/^(config|setup)$/),
          message: expect.stringMatching(message),
        },
      ]);
      expect(existsSync(socket)).toBe(false);
    }
  });

  itNeeds(
    'runs confined as the given uid, relays a real client, and reports its effective configuration',
    missing,
    async () => {
      const events: BridgeEvent[] = [];
      const wanted = config('confined', {
        socketMode: 0o660,
        socketUid: 4321,
        socketGid: 4322,
        memoryLimitMiB: 128,
        // Every bridge limit (each row of BRIDGE_LIMITS) with a value of its own, none the
        // native default (they sit near each maximum): one the process drops or swaps shows in its
        // effective configuration.
        ...nativeBridgeLimits(distinctBridgeLimits()),
        hostTimeoutMs: 4000,
        clipboard: { mode: 'both', mimeTypes: ['text/plain', 'UTF8_STRING'], maxBytes: 65536 },
      });
      const bridge = start({ config: wanted, onEvent: (e) => events.push(e) });
      let guest: ChildProcess | null = null;
      try {
        const globals = await bridge.ready;
        expect(globals.map((g) => g.interface).sort()).toEqual(
          ['wl_compositor', 'wl_shm', 'xdg_wm_base'].sort(),
        );
        // Every field as the process parsed it, not as it was sent.
        expect(bridge.effectiveConfig).toEqual(wanted);
        const pid = bridge.pid!;
        expect(procStatus(pid, 'Uid').split(/\s+/)).toEqual(Array(4).fill(String(NOBODY)));
        expect(procStatus(pid, 'Gid').split(/\s+/)).toEqual(Array(4).fill(String(NOBODY)));
        expect(procStatus(pid, 'Groups')).toBe('');
        expect(procStatus(pid, 'NoNewPrivs')).toBe('1');
        expect(procStatus(pid, 'Seccomp')).toBe('2');
        expect(addressSpaceLimit(pid)).toBe(128 * 1024 * 1024);
        // Its one child, the host connector, keeps the starting credentials (it must reach
        // the host's socket) but nothing else: no_new_privs and its own seccomp filter.
        const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
        expect(children).toMatch(/^\d+$/);
        expect(procStatus(Number(children), 'NoNewPrivs')).toBe('1');
        expect(procStatus(Number(children), 'Seccomp')).toBe('2');
        const socket = statSync(wanted.socketPath);
        expect([socket.uid, socket.gid, socket.mode & 0o777]).toEqual([4321, 4322, 0o660]);

        guest = good(wanted.socketPath);
        const deadline = Date.now() + 10_000;
        for (;;) {
          const s = await bridge.stats();
          const c = s.clients.find((x) => x.pid === guest!.pid && x.connected);
          if (c !== undefined && c.commits > 2) {
            expect(c.buffersForwarded.shm).toBeGreaterThan(0);
            expect(c.bytesCopied).toBe(0);
            break;
          }
          if (Date.now() > deadline) throw new Error('the good client never committed');
          await new Promise((r) => setTimeout(r, 50));
        }
        await windowOnScreen();
        expect(events.filter((e) => e.type === 'client-connected')).toHaveLength(1);
        // Still alive and confined after serving: the allow-list covered the whole path.
        expect(procStatus(pid, 'State')).not.toMatch(/zombie|dead/);
      } finally {
        guest?.kill();
        await bridge.stop();
      }
      expect(bridge.pid).toBeNull();
      expect(existsSync(wanted.socketPath)).toBe(false);
      expect(bridge.ends).toEqual([]);
    },
    60_000,
  );

  itNeeds(
    'is restarted after kill -9, and a client reconnecting is shown again',
    missing,
    async () => {
      const ends: string[] = [];
      const wanted = config('restart');
      const bridge = start({ config: wanted, onEnd: (e) => ends.push(e.summary) });
      let guest: ChildProcess | null = null;
      try {
        await bridge.ready;
        guest = good(wanted.socketPath);
        await windowOnScreen();
        const first = bridge.pid!;
        process.kill(first, 'SIGKILL');
        await waitFor('the restarted bridge process', () =>
          bridge.serving && bridge.pid !== first ? bridge.pid : undefined,
        );
        expect(ends).toEqual([
          expect.stringMatching(
            new RegExp(`^bridge process ${first} ended by signal SIGKILL, restarted at \\d{4}-`),
          ),
        ]);
        // The guest's connection went with the process: its window too.
        await windowGone();
        guest.kill();
        await waitFor('the new socket', () => (existsSync(wanted.socketPath) ? true : undefined));
        const deadline = Date.now() + 5_000;
        for (;;) {
          const s = await bridge.stats().catch(() => null);
          if (s !== null && s.running) break;
          if (Date.now() > deadline) throw new Error('the restarted bridge does not answer');
          await new Promise((r) => setTimeout(r, 50));
        }
        guest = good(wanted.socketPath);
        await windowOnScreen();
        expect(procStatus(bridge.pid!, 'Seccomp')).toBe('2');
      } finally {
        guest?.kill();
        await bridge.stop();
      }
    },
    60_000,
  );

  itNeeds(
    'meets every hostile pool, flood and protocol abuse with its own checks, not the seccomp filter',
    missing,
    async () => {
      const wanted = config('attacks', {
        globals: ['wl_compositor', 'wl_subcompositor', 'wl_shm', 'wl_output', 'xdg_wm_base'],
      });
      const bridge = start({ config: wanted });
      const env = { ...process.env, WAYLAND_DISPLAY: wanted.socketPath };
      const scratch = join(dir, 'regular-file');
      let guest: ChildProcess | null = null;
      try {
        await bridge.ready;
        const pid = bridge.pid!;
        guest = good(wanted.socketPath);
        await windowOnScreen();
        // The same attacks as bridge.test.ts: each must end in the bridge's protocol error,
        // which means the fd checks (fstat, fstatfs, seals, readlink of /proc/self/fd) ran in
        // the sandbox; a syscall missing from the allow-list would kill the process instead.
        const attacks: [string[], string][] = [
          [['regular-file', scratch], 'protocol-error wl_shm 2'],
          [['directory', '/var/tmp'], 'protocol-error wl_shm 2'],
          [['pipe'], 'protocol-error wl_shm 2'],
          [['socket'], 'protocol-error wl_shm 2'],
          [['dev-zero'], 'protocol-error wl_shm 2'],
          [['unsealed-memfd'], 'survived'],
          [['unsealable-large'], 'protocol-error wl_shm 2'],
          [['short-memfd'], 'protocol-error wl_shm 2'],
          [['stride-short'], 'protocol-error wl_shm_pool 1'],
          [['stride-overflow'], 'protocol-error wl_shm_pool 1'],
          [['offset-negative'], 'protocol-error wl_shm_pool 1'],
          [['bad-format'], 'protocol-error wl_shm_pool 0'],
          [['hidden-global'], 'protocol-error wl_registry 0'],
          [['many-objects', '10000'], 'protocol-error wl_display 3'],
          [['sync-order'], 'ordered 50'],
        ];
        for (const [args, outcome] of attacks) {
          const { stdout } = await run(client, args, { env, timeout: 20_000 });
          expect(stdout.trim(), args[0]).toBe(outcome);
          expect(bridge.pid, `${args[0]} must not end the bridge process`).toBe(pid);
        }
        const flood = await run(client, ['fd-flood', '300'], { env, timeout: 30_000 });
        expect(flood.stdout.trim()).toMatch(/^(survived|connection-error .*)$/);
        const pools = await run(client, ['many-pools', '100'], { env, timeout: 30_000 });
        expect(pools.stdout.trim()).toMatch(/^protocol-error wl_/);
        expect(bridge.pid).toBe(pid);
        expect(bridge.ends).toEqual([]);
        const s = await bridge.stats();
        expect(s.clients.find((c) => c.pid === guest!.pid)?.connected).toBe(true);
        expect(procStatus(pid, 'Seccomp')).toBe('2');
      } finally {
        guest?.kill();
        rmSync(scratch, { force: true });
        await bridge.stop();
      }
    },
    90_000,
  );

  itNeeds(
    "gives the socket folder to the guest's compositor client and to nobody else on the host",
    missing,
    async () => {
      // The guest's compositor as the host sees it (its ids mapped by the user namespace).
      const guest = { uid: 4321, gid: 4322 };
      const root = mkdtempSync('/tmp/droidway-bridge-owner-');
      // Let other uids reach the instance folders (mkdtemp makes them 0700), and run the client.
      chmodSync(root, 0o711);
      chmodSync(buildDir, 0o755);
      const paths = instancePaths('owner', {
        dataRoot: join(root, 'data'),
        runtimeRoot: join(root, 'run'),
      });
      const sb = await SessionBridge.start({
        paths,
        config: {
          enabled: true,
          hostSocket: weston!.socket,
          settings: {
            globals: ['wl_compositor', 'wl_shm', 'xdg_wm_base'],
            clipboard: { mode: 'off', mimeTypes: [], maxBytes: 1 },
            // The limits a session with the strict preset runs with.
            ...nativeBridgeLimits(loadPreset('strict').bridge.limits),
          },
          guestOwner: guest,
        },
      });
      try {
        expect(await sb.whenSettled()).toBe('running');
        chmodSync(join(root, 'run'), 0o711);
        chmodSync(paths.runtimeDir, 0o711);
        const folder = statSync(paths.xdgDir);
        expect([folder.uid, folder.gid, folder.mode & 0o777]).toEqual([
          guest.uid,
          guest.gid,
          0o770,
        ]);
        const socket = statSync(paths.bridgeSocket);
        expect([socket.uid, socket.gid, socket.mode & 0o777]).toEqual([
          guest.uid,
          guest.gid,
          0o660,
        ]);
        const probe = (uid: number, gid: number) =>
          run(client, ['sync-order'], {
            env: { ...process.env, WAYLAND_DISPLAY: paths.bridgeSocket },
            uid,
            gid,
            timeout: 10_000,
          }).then(
            (r) => r.stdout.trim(),
            (e: { stderr?: string }) => `failed: ${e.stderr ?? ''}`.trim(),
          );
        // The guest's compositor client connects and is served…
        expect(await probe(guest.uid, guest.gid)).toBe('ordered 50');
        // …another host user, and the bridge's own uid, are refused by the folder.
        expect(await probe(4444, 4444)).toMatch(/failed: .*Permission denied/);
        expect(await probe(NOBODY, NOBODY)).toMatch(/failed: .*Permission denied/);
      } finally {
        await sb.stop();
        rmSync(root, { recursive: true, force: true });
      }
    },
    60_000,
  );

  itNeeds(
    'a guest flooding objects meets the memory cap, which ends the bridge process alone',
    missing,
    async () => {
      const ends: { signal: string | null; code: number | null }[] = [];
      const events: BridgeEvent[] = [];
      // The object cap far above what the memory cap allows: the memory cap must be what holds.
      const wanted = config('flood', {
        memoryLimitMiB: 64,
        limits: { maxObjects: 1 << 20 },
      });
      const bridge = start({
        config: wanted,
        onEnd: (e) => ends.push({ signal: e.signal, code: e.code }),
        onEvent: (e) => events.push(e),
      });
      try {
        await bridge.ready;
        const first = bridge.pid!;
        let peakKiB = 0;
        // VmPeak is the process's high-water mark: a sample before the floods (a bridge the cap
        // ends at once is never seen by the timer) and after them (a survivor's peak).
        const samplePeak = (): void => {
          try {
            peakKiB = Math.max(peakKiB, Number(procStatus(first, 'VmPeak').split(/\s+/)[0]));
          } catch {
            // Ended.
          }
        };
        samplePeak();
        const env = { ...process.env, WAYLAND_DISPLAY: wanted.socketPath };
        const floods = [1, 2, 3, 4].map(() =>
          run(client, ['many-objects', '1000000'], { env, timeout: 60_000 }).catch(
            (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
          ),
        );
        const sample = setInterval(samplePeak, 20);
        const outcomes = await Promise.all(floods);
        clearInterval(sample);
        samplePeak();
        // Each flood ended: its connection was cut (the process ended, or the client was
        // refused memory), never "survived" with a million objects.
        for (const o of outcomes) expect(o.stdout.trim()).not.toBe('survived');
        expect(peakKiB).toBeLessThanOrEqual(64 * 1024);
        expect(peakKiB).toBeGreaterThan(0);
        // The bridge's own account (its end, or its events) may trail the clients' exits.
        const cutOff = (): boolean =>
          ends.length > 0 ||
          events.some((e) => e.type === 'client-disconnected' && e.reason !== 'disconnected');
        await waitFor('the bridge ending the floods or itself', () =>
          cutOff() ? true : undefined,
        ).catch(() => undefined);
        expect(
          cutOff(),
          JSON.stringify({ outcomes: outcomes.map((o) => o.stdout.trim()), ends, events }),
        ).toBe(true);
        // Whatever happened, a bridge process serves again, confined, with the same cap.
        await waitFor('a serving bridge process', () => (bridge.serving ? true : undefined));
        // Right after the floods the bridge may still be at its cap and refuse a new client
        // memory (it ends it: no-memory); a guest's compositor client connects again, and so
        // does this one until its window is on screen.
        let guest = good(wanted.socketPath);
        try {
          const deadline = Date.now() + 10_000;
          let seen = 0;
          while (Date.now() < deadline) {
            seen = countColor(await weston!.screenshot(), COLOR);
            if (seen === WIDTH * HEIGHT) break;
            if (guest.exitCode !== null || guest.signalCode !== null)
              guest = good(wanted.socketPath);
            await new Promise((r) => setTimeout(r, 100));
          }
          expect(seen).toBe(WIDTH * HEIGHT);
        } finally {
          guest.kill();
        }
        expect(addressSpaceLimit(bridge.pid!)).toBe(64 * 1024 * 1024);
      } finally {
        await bridge.stop();
      }
    },
    120_000,
  );
});
