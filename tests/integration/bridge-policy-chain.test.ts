/**
 * Every bridge field of every policy preset reaches the native bridge: each preset is compiled,
 * its bridge settings taken the way a session takes them (`bridgeSettingsFromPolicy` with the
 * native module's `bridgeSupportedGlobals`), a real `SessionBridge` starts its real bridge
 * process toward a headless weston, and the configuration that process reports in its 'ready'
 * line is compared field by field with the compiled policy (every row of `BRIDGE_LIMITS`, and
 * once more with every limit set to a value of its own). This is where `maxFds` used to drop
 * (strict's 64 ran as 256) and the android preset's `zwp_linux_dmabuf_v1` was always lost.
 * Then each cap the bridge enforces (rectangles per region, damage per commit, connections at
 * once and per guest uid, the first-request deadline) is shown to change what the bridge process
 * does: the same hostile guest is refused under the strict value and accepted under a looser one.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { bridgeExecutablePath } from '../../electron/core/display/bridge-process.js';
import { supportedBridgeGlobals } from '../../electron/core/display/bridge.js';
import { compilePolicy } from '../../electron/core/policy/policy-compile.js';
import { loadPreset, PRESET_NAMES } from '../../electron/core/policy/presets.js';
import { assertValidPolicy } from '../../electron/core/policy/policy-validate.js';
import type { BridgeEffectiveConfig, BridgeSettings, BridgeStats } from '../../native/index.js';
import { BRIDGE_LIMIT_KEYS } from '../../electron/core/policy/bridge-limits.js';
import type { BridgeSettings as CompiledBridge } from '../../electron/core/policy/policy-compile.js';
import { distinctBridgeLimits, nativeKeysIn, nativeValueOf } from '../helpers/bridge-limits.js';
import { instancePaths, type InstancePaths } from '../../electron/core/runtime/instance-paths.js';
import {
  SessionBridge,
  bridgeSettingsFromPolicy,
} from '../../electron/core/runtime/session-bridge.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { existsSync } from 'node:fs';
import { startHeadlessWeston, type HeadlessWeston } from './helpers/weston.js';
import { buildWaylandClient, XDG_SHELL_XML as XDG_SHELL } from './helpers/wayland-client-build.js';
import { idRangeOfSlot } from '../../electron/core/runtime/id-ranges.js';

function missingCapability(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(['weston', 'weston-screenshooter', 'gcc', 'wayland-scanner']);
  if (tool !== null) return tool;
  if (!existsSync(bridgeExecutablePath()))
    return 'droidway-bridge is not built (npm run build:native)';
  return null;
}
const missing = missingCapability();
const run = promisify(execFile);
const FIXTURE = path.join(import.meta.dirname, '../fixtures/bridge/hostile-client.c');
let client = '';

/** The bridge part of the policy `doc`, compiled as a session compiles it. */
function compiledBridge(doc: unknown, name: string, dir: string): CompiledBridge {
  return compilePolicy(assertValidPolicy(doc), {
    idRange: idRangeOfSlot(0),
    name,
    rootfsPath: path.join(dir, 'rootfs'),
    logFile: path.join(dir, 'lxc.log'),
  }).bridge;
}

/** Starts a real session bridge (its own bridge process) of instance `name` toward `hostSocket`. */
async function startBridge(
  dir: string,
  name: string,
  hostSocket: string,
  settings: BridgeSettings,
): Promise<{ sb: SessionBridge; paths: InstancePaths }> {
  const paths = instancePaths(name, {
    dataRoot: path.join(dir, 'data'),
    runtimeRoot: path.join(dir, 'run'),
  });
  const sb = await SessionBridge.start({ paths, config: { enabled: true, hostSocket, settings } });
  return { sb, paths };
}

/** A preset's bridge settings as a session takes them, with some bridge limits changed. */
function presetSettings(
  preset: 'android' | 'strict',
  dir: string,
  change: Record<string, number> = {},
): BridgeSettings {
  const doc = structuredClone(loadPreset(preset)) as { bridge: { limits: object } };
  Object.assign(doc.bridge.limits, change);
  const compiled = compiledBridge(doc, `chain-caps-${preset}`, dir);
  return bridgeSettingsFromPolicy(compiled, supportedBridgeGlobals()).settings;
}

/** Polls the async `probe` every 50 ms until it returns a value; throws naming `what` after 10 s. */
async function poll<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What one bridge did with the same hostile guests. */
interface CapOutcome {
  /** The hostile client's verdict after 100 rectangles in one region. */
  region: string;
  /** Damage rectangles the bridge dropped over 3 commits of 100 each. */
  damageDropped: number;
  /** Reasons the bridge gave the 6 connections that never spoke, after 1.5 s. */
  idle: { refusedForUid: number; refusedForCount: number; timedOut: number; connected: number };
}

/** Runs the same hostile guests against a bridge process started with `settings`. */
async function capOutcome(
  weston: HeadlessWeston,
  dir: string,
  name: string,
  settings: BridgeSettings,
): Promise<CapOutcome> {
  const { sb, paths } = await startBridge(dir, name, weston.socket, settings);
  const idle: Socket[] = [];
  const damage = { child: null as ReturnType<typeof spawn> | null };
  try {
    expect(await sb.whenSettled()).toBe('running');
    const env = { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: paths.bridgeSocket };
    const region = (await run(client, ['region-rects', '100'], { env, timeout: 20_000 })).stdout;

    const child = spawn(client, ['damage-flood', '100', 'e0a020', '40', '30'], {
      env,
      stdio: 'ignore',
    });
    damage.child = child;
    const damageStats = await poll('three damage commits', async () => {
      const c = (await sb.stats()).clients.find((x) => x.pid === child.pid);
      return c !== undefined && c.commits >= 4 ? c : undefined;
    });
    child.kill();

    const before = (await sb.stats()).clientsTotal;
    for (let i = 0; i < 6; ++i) {
      const socket = connect(paths.bridgeSocket);
      socket.on('error', () => undefined);
      socket.resume();
      idle.push(socket);
    }
    const started = Date.now();
    await poll('six idle connections seen', async () =>
      (await sb.stats()).clientsTotal === before + 6 ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1500 - (Date.now() - started))));
    const stats: BridgeStats = await sb.stats();
    const mine = stats.clients.filter((c) => c.pid === process.pid);
    const reasons = (r: string) => mine.filter((c) => c.disconnectReason === r).length;
    return {
      region: region.trim(),
      damageDropped: damageStats.damageRectsDropped,
      idle: {
        refusedForUid: reasons('too-many-clients-for-uid'),
        refusedForCount: reasons('too-many-clients'),
        timedOut: reasons('first-request-timeout'),
        connected: mine.filter((c) => c.connected).length,
      },
    };
  } finally {
    damage.child?.kill();
    for (const socket of idle) socket.destroy();
    await sb.stop();
  }
}

/**
 * Every bridge limit of the compiled policy (each row of `BRIDGE_LIMITS`) is in the
 * configuration the bridge process reports, where the native settings hold it; and the process
 * runs with no per-client limit the policy does not set.
 */
function expectEveryLimit(effective: BridgeEffectiveConfig, compiled: CompiledBridge): void {
  for (const key of BRIDGE_LIMIT_KEYS) {
    expect(nativeValueOf(effective, key), key).toBe(compiled[key]);
  }
  expect(Object.keys(effective.limits).sort()).toEqual(nativeKeysIn('limits'));
  // And no policy field is left without a counterpart on the native side.
  expect(Object.keys(compiled).sort()).toEqual(
    ['clipboard', 'globals', ...BRIDGE_LIMIT_KEYS].sort(),
  );
}

describe('policy → native bridge settings chain', () => {
  let weston: HeadlessWeston | null = null;
  let dir = '';
  beforeAll(async () => {
    if (missing !== null) return;
    weston = await startHeadlessWeston('droidway-bridge-chain-');
    dir = mkdtempSync('/tmp/droidway-bridge-chain-');
    client = await buildWaylandClient({ source: FIXTURE, protocols: [XDG_SHELL], outDir: dir });
  }, 60_000);
  afterAll(() => {
    weston?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  itNeeds(
    'every bridge limit reaches the native bridge with a value of its own',
    missing,
    async () => {
      // Distinct values: a limit that lands in another's place is caught, not hidden by a
      // preset where two limits happen to be equal.
      const doc = structuredClone(loadPreset('android')) as { bridge: { limits: object } };
      doc.bridge.limits = distinctBridgeLimits();
      const compiled = compiledBridge(doc, 'chain-distinct', dir);
      const { settings } = bridgeSettingsFromPolicy(compiled, supportedBridgeGlobals());
      const { sb } = await startBridge(dir, 'chain-distinct', weston!.socket, settings);
      try {
        expect(await sb.whenSettled()).toBe('running');
        expect(sb.effectiveConfig()).not.toBeNull();
        expectEveryLimit(sb.effectiveConfig()!, compiled);
        expect(sb.effectiveConfig()!.requireSealed).toBe(false);
      } finally {
        await sb.stop();
      }
    },
  );

  for (const preset of PRESET_NAMES) {
    itNeeds(
      `every bridge field of the ${preset} preset reaches the native bridge`,
      missing,
      async () => {
        const compiled = compiledBridge(loadPreset(preset), `chain-${preset}`, dir);
        const supported = supportedBridgeGlobals();
        const { settings, dropped } = bridgeSettingsFromPolicy(compiled, supported);
        // A global the native bridge cannot relay is named (the session notes it), never lost
        // silently: every global of the policy is either passed on or in `dropped`.
        const relayable = compiled.globals.filter((g) => supported.includes(g as never));
        expect(dropped).toEqual(compiled.globals.filter((g) => !supported.includes(g as never)));
        const { sb, paths } = await startBridge(dir, `chain-${preset}`, weston!.socket, settings);
        try {
          expect(await sb.whenSettled()).toBe('running');
          const effective = sb.effectiveConfig();
          expect(effective).not.toBeNull();
          // Field by field, from the compiled policy to what the bridge process parsed.
          expect(effective!.globals).toEqual(relayable);
          expect(effective!.clipboard).toEqual(compiled.clipboard);
          expect(effective!.clipboard.mode).toBe('host-to-guest');
          expectEveryLimit(effective!, compiled);
          expect(effective!.socketPath).toBe(paths.bridgeSocket);
          expect(effective!.hostSocketPath).toBe(weston!.socket);
          if (preset === 'android') expect(effective!.globals).toContain('zwp_linux_dmabuf_v1');
          if (preset === 'strict') expect(effective!.limits.maxFds).toBe(64);
        } finally {
          await sb.stop();
        }
      },
    );
  }

  itNeeds(
    "each of the strict preset's caps refuses what the android preset's accepts",
    missing,
    async () => {
      // strict: 64 region and damage rectangles, 4 connections per uid, first request in 1 s;
      // android: 256, 256, 8 per uid, 2 s.
      const strict = await capOutcome(
        weston!,
        dir,
        'chain-caps-strict',
        presetSettings('strict', dir),
      );
      const android = await capOutcome(
        weston!,
        dir,
        'chain-caps-android',
        presetSettings('android', dir),
      );
      expect(strict.region).toBe('protocol-error wl_display 3');
      expect(android.region).toBe('survived');
      // 100 rectangles per commit: past 64, 36 dropped from every commit; none under 256.
      expect(strict.damageDropped).toBeGreaterThanOrEqual(36 * 3);
      expect(android.damageDropped).toBe(0);
      // Six silent connections of one uid: strict admits 4 and drops them after 1 s; android
      // admits all 6 and still holds them at 1.5 s.
      expect(strict.idle).toEqual({
        refusedForUid: 2,
        refusedForCount: 0,
        timedOut: 4,
        connected: 0,
      });
      expect(android.idle).toEqual({
        refusedForUid: 0,
        refusedForCount: 0,
        timedOut: 0,
        connected: 6,
      });
    },
    90_000,
  );

  itNeeds(
    'maxClients refuses connections past the bridge-wide cap',
    missing,
    async () => {
      // Per uid as high as the total, so the bridge-wide cap is what refuses.
      const tight = presetSettings('android', dir, { maxClients: 3, maxClientsPerUid: 3 });
      const outcome = await capOutcome(weston!, dir, 'chain-caps-clients', tight);
      // The damage client had gone; of the six silent ones three are served.
      expect(outcome.idle).toEqual({
        refusedForUid: 0,
        refusedForCount: 3,
        timedOut: 0,
        connected: 3,
      });
    },
    90_000,
  );
});
