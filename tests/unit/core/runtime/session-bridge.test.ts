import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent, BridgeStats } from '../../../../electron/core/display/bridge.js';
import type { BridgeProcessOptions } from '../../../../electron/core/display/bridge-process.js';
import {
  instancePaths,
  type InstancePaths,
} from '../../../../electron/core/runtime/instance-paths.js';
import {
  MAX_KEPT_EVENTS,
  SessionBridge,
  bridgeMountEntry,
  bridgeSettingsFromPolicy,
  parseBridgeSettings,
  parseGuestOwner,
} from '../../../../electron/core/runtime/session-bridge.js';
import { BRIDGE_LIMIT_KEYS } from '../../../../electron/core/policy/bridge-limits.js';
import {
  distinctBridgeLimits,
  nativeKeysIn,
  nativeValueOf,
} from '../../../helpers/bridge-limits.js';
import { bridgeConfigFor } from '../../../../electron/core/session/display.js';
import { formatBridge } from '../../../../electron/cli/commands/session.js';
import { formatBridgeStats } from '../../../../electron/cli/commands/bridge.js';

/** What the native module relays (as `bridgeSupportedGlobals` says; the native tests pin it). */
const SUPPORTED = [
  'wl_compositor',
  'wl_subcompositor',
  'wl_shm',
  'wl_output',
  'wl_seat',
  'xdg_wm_base',
  'wp_viewporter',
  'wp_presentation',
  'zwp_linux_dmabuf_v1',
];

const compiledBridge = {
  globals: ['wl_compositor', 'wl_shm', 'xdg_wm_base', 'zwp_linux_dmabuf_v1', 'wl_drm_unknown'],
  clipboard: { mode: 'both' as const, mimeTypes: ['text/plain'], maxBytes: 4096 },
  ...distinctBridgeLimits(),
};

/** A stand-in for the bridge process: records its options, lets the test emit events. */
function fakeBridge() {
  const fake = {
    options: null as BridgeProcessOptions | null,
    stopped: 0,
    settle: null as null | { resolve: (g: never[]) => void; reject: (e: Error) => void },
    stats: {
      running: true,
      clientsTotal: 0,
      poll: { ns: 0, workNs: 0, hits: 0, misses: 0 },
      clients: [],
    } as BridgeStats,
    emit(event: BridgeEvent) {
      fake.options!.onEvent!(event);
    },
    start(options: BridgeProcessOptions) {
      fake.options = options;
      writeFileSync(options.config.socketPath, '');
      const ready = new Promise<never[]>((resolve, reject) => {
        fake.settle = { resolve, reject };
      });
      ready.catch(() => undefined);
      return {
        ready,
        stats: () => Promise.resolve(fake.stats),
        stop: () => {
          fake.stopped++;
          rmSync(options.config.socketPath, { force: true });
          return Promise.resolve();
        },
        pid: 4242,
        ends: [],
        effectiveConfig: null,
      } as never;
    },
  };
  return fake;
}

let dir = '';
let paths: InstancePaths;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'h2-bridge-'));
  paths = instancePaths('h2-unit', {
    dataRoot: path.join(dir, 'data'),
    runtimeRoot: path.join(dir, 'run'),
  });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('bridge settings', () => {
  it('carries every field of the policy, the optional dmabuf global and maxFds included', () => {
    const { settings, dropped } = bridgeSettingsFromPolicy(compiledBridge, SUPPORTED);
    expect(settings.globals).toEqual([
      'wl_compositor',
      'wl_shm',
      'xdg_wm_base',
      'zwp_linux_dmabuf_v1',
    ]);
    expect(settings.clipboard).toEqual({ mode: 'both', mimeTypes: ['text/plain'], maxBytes: 4096 });
    // Every bridge limit, each with a value of its own, where the native settings hold it.
    for (const key of BRIDGE_LIMIT_KEYS) {
      expect(nativeValueOf(settings, key), key).toBe(compiledBridge[key]);
    }
    expect(settings.limits.maxFds).toBe(compiledBridge.maxFds);
    expect(settings.requireSealed).toBe(false);
    // And nothing else.
    expect(Object.keys(settings).sort()).toEqual(
      ['clipboard', 'globals', 'limits', ...nativeKeysIn('settings')].sort(),
    );
    expect(Object.keys(settings.limits).sort()).toEqual(nativeKeysIn('limits'));
    expect(dropped).toEqual(['wl_drm_unknown']);
    expect(parseBridgeSettings(JSON.stringify(settings))).toEqual(settings);
  });

  it('refuses settings from the command line that are not only bridge settings', () => {
    const bad = (text: string, message: RegExp): void => {
      expect(() => parseBridgeSettings(text)).toThrow(message);
    };
    bad('', /not JSON/);
    bad('{', /not JSON/);
    bad('[]', /not an object/);
    bad('null', /not an object/);
    bad('{"requireSealed":true,"limits":{}}', /globals is missing/);
    bad('{"globals":[],"requireSealed":true,"limits":{},"extra":1}', /unknown key "extra"/);
    // Not a way around the session host's own fields: the bridge process never sees them.
    bad('{"globals":[],"requireSealed":true,"limits":{},"socketPath":"/x"}', /"socketPath"/);
    bad('{"globals":[],"requireSealed":true,"limits":{},"runAsUid":0}', /"runAsUid"/);
    bad(`{"globals":[],"requireSealed":true,"x":"${'a'.repeat(70_000)}"}`, /longer than 64 KiB/);
    expect(() => parseBridgeSettings('{')).toThrow(
      expect.objectContaining({ code: 'BRIDGE_SETTINGS_INVALID' }),
    );
  });

  it('reads the guest owner from the command line, refusing anything but UID:GID', () => {
    expect(parseGuestOwner('101000:101000')).toEqual({ uid: 101000, gid: 101000 });
    for (const bad of [
      '',
      '0:5',
      '5:0',
      '1:2:3',
      '-1:5',
      'a:b',
      '4294967295:1',
      '1 :2',
      '99999999999:1',
    ])
      expect(() => parseGuestOwner(bad), bad).toThrow(
        expect.objectContaining({ code: 'BRIDGE_SETTINGS_INVALID' }),
      );
  });

  it('mounts the socket folder at /run/xdg', () => {
    expect(bridgeMountEntry(paths)).toBe(
      `${paths.runtimeDir}/xdg run/xdg none bind,ro,create=dir,nosuid,nodev,noexec 0 0`,
    );
    expect(paths.bridgeSocket).toBe(`${paths.runtimeDir}/xdg/wayland-0`);
  });
});

describe('bridgeConfigFor', () => {
  const plan = () =>
    ({
      compiled: {
        bridge: { ...compiledBridge },
        notes: [] as { field: string; message: string }[],
      },
    }) as never;

  it('is off, saying why, without a display', () => {
    const off = bridgeConfigFor(plan(), { env: {} });
    expect(off).toEqual({
      enabled: false,
      reason: expect.stringMatching(/WAYLAND_DISPLAY is unset/),
    });
    const noRuntime = bridgeConfigFor(plan(), { env: { WAYLAND_DISPLAY: 'wayland-9' } });
    expect(noRuntime).toMatchObject({
      enabled: false,
      reason: expect.stringMatching(/XDG_RUNTIME_DIR is unset/),
    });
    const missing = bridgeConfigFor(plan(), { hostDisplay: path.join(dir, 'nope'), env: {} });
    expect(missing).toMatchObject({
      enabled: false,
      reason: expect.stringMatching(/is not a Wayland socket/),
    });
    writeFileSync(path.join(dir, 'file'), '');
    expect(bridgeConfigFor(plan(), { hostDisplay: path.join(dir, 'file'), env: {} })).toMatchObject(
      { enabled: false },
    );
  });

  it('is on for a listening socket, by path or by name, noting dropped globals', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'wl-test'), resolve));
    try {
      const p = plan() as { compiled: { notes: { field: string; message: string }[] } };
      const on = bridgeConfigFor(p as never, {
        env: { XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: 'wl-test' },
        supportedGlobals: SUPPORTED,
      });
      expect(on).toMatchObject({ enabled: true, hostSocket: path.join(dir, 'wl-test') });
      expect(on).toMatchObject({
        settings: {
          limits: { maxFds: compiledBridge.maxFds },
          globals: expect.arrayContaining(['zwp_linux_dmabuf_v1']),
        },
      });
      expect(p.compiled.notes).toEqual([
        {
          field: '/bridge/globals',
          message: expect.stringMatching(/cannot relay wl_drm_unknown/),
        },
      ]);
      expect(
        bridgeConfigFor(plan(), {
          hostDisplay: path.join(dir, 'wl-test'),
          env: {},
          supportedGlobals: SUPPORTED,
        }),
      ).toMatchObject({
        enabled: true,
      });
      // The guest's mapped compositor ids travel to the session host with the settings.
      expect(
        bridgeConfigFor(plan(), {
          hostDisplay: path.join(dir, 'wl-test'),
          env: {},
          supportedGlobals: SUPPORTED,
          bridgeGuestOwner: { uid: 101000, gid: 101000 },
        }),
      ).toMatchObject({ enabled: true, guestOwner: { uid: 101000, gid: 101000 } });
    } finally {
      server.close();
    }
  });
});

describe('SessionBridge', () => {
  const settings = bridgeSettingsFromPolicy(compiledBridge, SUPPORTED).settings;

  it('is off with the reason, and still makes the folder the mount needs', async () => {
    const sb = await SessionBridge.start({
      paths,
      config: { enabled: false, reason: 'no display' },
    });
    expect(existsSync(paths.xdgDir)).toBe(true);
    expect(sb.status()).toMatchObject({
      state: 'off',
      reason: 'no display',
      socket: null,
      clients: 0,
    });
    await expect(sb.stats()).rejects.toMatchObject({ code: 'BRIDGE_OFF' });
    await sb.stop();
    expect(existsSync(paths.xdgDir)).toBe(false);
    expect(sb.status().state).toBe('off');
  });

  it('passes the policy to the bridge and tracks clients and windows from its events', async () => {
    const fake = fakeBridge();
    const lines: string[] = [];
    const sb = await SessionBridge.start({
      paths,
      config: { enabled: true, hostSocket: '/run/host-0', settings },
      log: (l) => lines.push(l),
      startBridge: (o) => fake.start(o),
    });
    expect(fake.options!.config).toEqual({
      socketPath: paths.bridgeSocket,
      hostSocketPath: '/run/host-0',
      ...settings,
      ...(process.getuid?.() === 0 ? { runAsUid: 65534, runAsGid: 65534 } : {}),
    });
    expect(fake.options!.config.globals).toEqual([
      'wl_compositor',
      'wl_shm',
      'xdg_wm_base',
      'zwp_linux_dmabuf_v1',
    ]);
    expect(sb.status().state).toBe('starting');
    fake.settle!.resolve([]);
    expect(await sb.whenSettled()).toBe('running');
    fake.emit({ type: 'client-connected', clientId: 1, pid: 10, uid: 0 });
    fake.emit({ type: 'toplevel-mapped', clientId: 1, appId: 'droidway.demo', title: 'Demo' });
    fake.emit({ type: 'violation', clientId: 1, reason: 'unsealed', message: 'x'.repeat(1000) });
    let status = sb.status();
    expect(status).toMatchObject({
      state: 'running',
      clients: 1,
      toplevels: ['droidway.demo'],
      socket: paths.bridgeSocket,
    });
    const violation = status.events.find((e) => e.type === 'violation') as { message: string };
    expect(violation.message.length).toBeLessThan(400);
    fake.emit({ type: 'client-disconnected', clientId: 1, reason: 'violation:unsealed' });
    status = sb.status();
    expect(status).toMatchObject({ clients: 0, toplevels: [] });
    expect(lines.join('\n')).toMatch(/client 1 violation unsealed/);
    for (let i = 0; i < MAX_KEPT_EVENTS + 10; i++)
      fake.emit({ type: 'client-connected', clientId: 100 + i, pid: 1, uid: 0 });
    expect(sb.status().events).toHaveLength(MAX_KEPT_EVENTS);
    expect(await sb.stats()).toBe(fake.stats);
    expect(sb.status().process).toEqual({ pid: 4242, restarts: 0, lastEnd: null, config: null });
    fake.options!.onEnd!({
      at: new Date().toISOString(),
      pid: 4242,
      code: null,
      signal: 'SIGKILL',
      restartedAt: new Date().toISOString(),
      summary: 'bridge process 4242 ended by signal SIGKILL, restarted at now',
    });
    expect(sb.status()).toMatchObject({ state: 'running', clients: 0 });
    expect(sb.status().events.at(-1)).toMatchObject({ type: 'process-ended', signal: 'SIGKILL' });
    expect(lines.join('\n')).toMatch(/ended by signal SIGKILL, restarted/);

    await sb.stop();
    expect(fake.stopped).toBe(1);
    expect(existsSync(paths.bridgeSocket)).toBe(false);
    expect(existsSync(paths.xdgDir)).toBe(false);
    expect(sb.status()).toMatchObject({
      state: 'stopped',
      reason: 'the session ended',
      socket: null,
    });
    // The last counters stay readable after the stop.
    expect(await sb.stats()).toBe(fake.stats);
  });

  it('goes down with the reason when the host is lost, and when the host refuses', async () => {
    const fake = fakeBridge();
    const sb = await SessionBridge.start({
      paths,
      config: { enabled: true, hostSocket: '/run/host-0', settings },
      startBridge: (o) => fake.start(o),
    });
    fake.settle!.resolve([]);
    await sb.whenSettled();
    fake.emit({
      type: 'host-lost',
      reason: 'hangup',
      message: 'the compositor closed the connection',
    });
    expect(sb.status()).toMatchObject({
      state: 'down',
      reason: expect.stringMatching(/lost the host compositor \(hangup\)/),
      socket: null,
    });
    await new Promise((r) => setImmediate(r));
    expect(fake.stopped).toBe(1);
    await sb.stop();
    expect(sb.status().state).toBe('down');

    const refusing = fakeBridge();
    const sb2 = await SessionBridge.start({
      paths,
      config: { enabled: true, hostSocket: '/run/host-0', settings },
      startBridge: (o) => refusing.start(o),
    });
    refusing.settle!.reject(new Error('connect: ENOENT'));
    expect(await sb2.whenSettled()).toBe('down');
    expect(sb2.status().reason).toMatch(/refused: connect: ENOENT/);
    await sb2.stop();
  });

  it('goes down when the bridge cannot even start', async () => {
    const sb = await SessionBridge.start({
      paths,
      config: { enabled: true, hostSocket: '/run/host-0', settings },
      startBridge: () => {
        throw new Error('bind: EADDRINUSE');
      },
    });
    expect(sb.status()).toMatchObject({
      state: 'down',
      reason: expect.stringMatching(/EADDRINUSE/),
    });
    await sb.stop();
  });
});

describe('CLI formatting', () => {
  it('prints the bridge line and the stats table', () => {
    expect(
      formatBridge({
        state: 'running',
        reason: null,
        hostSocket: '/run/host-0',
        socket: '/x',
        guestRuntimeDir: '/run/xdg',
        guestDisplay: 'wayland-0',
        clients: 1,
        toplevels: ['droidway.demo'],
        events: [],
        process: { pid: 7, restarts: 0, lastEnd: null, config: null },
      }),
    ).toBe('  display bridge: running on /run/host-0 (1 client; windows droidway.demo)\n');
    expect(
      formatBridge({
        state: 'off',
        reason: 'no display',
        hostSocket: null,
        socket: null,
        guestRuntimeDir: '/run/xdg',
        guestDisplay: 'wayland-0',
        clients: 0,
        toplevels: [],
        events: [],
        process: { pid: null, restarts: 0, lastEnd: null, config: null },
      }),
    ).toBe('  display bridge: off (no display)\n');
    const client = {
      clientId: 3,
      pid: 77,
      uid: 0,
      connected: false,
      disconnectReason: 'violation:unsealed',
      commits: 1,
      buffersForwarded: { shm: 0, dmabuf: 0 },
      bytesCopied: 0,
      damageRectsDropped: 0,
      objects: 0,
      pools: 0,
      buffers: 0,
      surfaces: 0,
      fdsRejected: { unsealed: 1 },
      violations: { unsealed: 1 },
    };
    const text = formatBridgeStats('default', {
      running: true,
      clientsTotal: 3,
      poll: { ns: 12_345_678, workNs: 4_000_000, hits: 40, misses: 2 },
      clients: [client],
    });
    expect(text).toMatch(
      /^instance default: bridge running, 0 clients connected, 3 since start; polled 12 ms \(40 found a message, 2 did not\)\n/,
    );
    const idle = formatBridgeStats('default', {
      running: true,
      clientsTotal: 0,
      poll: { ns: 0, workNs: 0, hits: 0, misses: 0 },
      clients: [],
    });
    expect(idle).toBe(
      'instance default: bridge running, 0 clients connected, 0 since start; never polled\n',
    );
    expect(text).toMatch(
      /^3 +77 +gone \(violation:unsealed\) +1 +0 +0 +0 +unsealed=1 +unsealed=1$/m,
    );
  });
});
