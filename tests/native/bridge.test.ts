import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bridgeNativeOptions,
  DisplayBridge,
  resolveHostSocket,
  supportedBridgeGlobals,
  type BridgeEvent,
} from '../../electron/core/display/bridge.js';
import { countOpenFds, loadNative } from '../../electron/core/native/index.js';
import {
  BRIDGE_INTEGER_LIMIT_KEYS,
  BRIDGE_LIMIT_KEYS,
  bridgeLimitRow,
  nativeBridgeKey,
} from '../../electron/core/policy/bridge-limits.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync('/tmp/droidway-bridge-native-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('display bridge options', () => {
  it('resolves the host socket as libwayland does', () => {
    expect(
      resolveHostSocket(undefined, { WAYLAND_DISPLAY: 'w-1', XDG_RUNTIME_DIR: '/run/u' }),
    ).toBe('/run/u/w-1');
    expect(resolveHostSocket(undefined, { XDG_RUNTIME_DIR: '/run/u' })).toBe('/run/u/wayland-0');
    expect(resolveHostSocket('/abs/sock', {})).toBe('/abs/sock');
    expect(() => resolveHostSocket('w-1', {})).toThrow(
      expect.objectContaining({ code: 'ENOHOSTDISPLAY' }),
    );
    expect(() => resolveHostSocket('a/b', { XDG_RUNTIME_DIR: '/run/u' })).toThrow(RangeError);
  });

  it('refuses malformed options before anything reaches the native side', () => {
    const base = { socketPath: '/tmp/x', hostDisplay: '/tmp/h' };
    expect(bridgeNativeOptions(base)).toMatchObject({
      socketPath: '/tmp/x',
      hostSocketPath: '/tmp/h',
      socketMode: 0o600,
      requireSealed: true,
    });
    // linux-dmabuf only by name, never in the default set.
    expect(bridgeNativeOptions(base).globals).not.toContain('zwp_linux_dmabuf_v1');
    expect(
      bridgeNativeOptions({ ...base, globals: ['zwp_linux_dmabuf_v1'], limits: { maxFds: 8 } }),
    ).toMatchObject({ globals: ['zwp_linux_dmabuf_v1'], limits: { maxFds: 8 } });
    const CLIP = { mode: 'both', mimeTypes: ['text/plain'], maxBytes: 10 } as const;
    expect(
      bridgeNativeOptions({ ...base, clipboard: { ...CLIP, mimeTypes: ['text/plain'] } }),
    ).toMatchObject({ clipboard: { mode: 'both', mimeTypes: ['text/plain'], maxBytes: 10 } });
    const cases: [object, string][] = [
      [{ ...base, socketPath: 'relative' }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, socketPath: `/${'x'.repeat(200)}` }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, socketPath: 7 }, 'ERR_INVALID_ARG_TYPE'],
      [{ ...base, socketMode: 0o666 }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, globals: ['wl_data_device_manager'] }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, globals: 'wl_shm' }, 'ERR_INVALID_ARG_TYPE'],
      [{ ...base, requireSealed: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
      [{ ...base, maxClients: 0 }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, limits: { maxObjects: 1.5 } }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, limits: 3 }, 'ERR_INVALID_ARG_TYPE'],
      [{ ...base, limits: { maxFds: 0 } }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, limits: { maxRegionRects: 0 } }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, limits: { maxDamageRects: 65_537 } }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, maxClientsPerUid: -1 }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, firstRequestTimeoutMs: 0 }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, firstRequestTimeoutMs: '2000' }, 'ERR_INVALID_ARG_TYPE'],
      [{ ...base, pollMaxUs: -1 }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, pollMaxUs: 1001 }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, pollMaxUs: '200' }, 'ERR_INVALID_ARG_TYPE'],
      [{ ...base, clipboard: 'both' }, 'ERR_INVALID_ARG_TYPE'],
      [{ ...base, clipboard: { ...CLIP, mode: 'guest-to-host' } }, 'ERR_OUT_OF_RANGE'],
      [
        { ...base, clipboard: { ...CLIP, mimeTypes: ['text/plain; charset=x'] } },
        'ERR_OUT_OF_RANGE',
      ],
      [{ ...base, clipboard: { ...CLIP, mimeTypes: [''] } }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, clipboard: { ...CLIP, mimeTypes: Array(33).fill('a/b') } }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, clipboard: { ...CLIP, maxBytes: 0 } }, 'ERR_OUT_OF_RANGE'],
      [{ ...base, clipboard: { ...CLIP, maxBytes: 2 ** 30 + 1 } }, 'ERR_OUT_OF_RANGE'],
    ];
    for (const [options, code] of cases) {
      expect(
        () => bridgeNativeOptions(options as Parameters<typeof bridgeNativeOptions>[0]),
        JSON.stringify(options),
      ).toThrow(expect.objectContaining({ code }));
    }
  });

  it('takes the relayable globals from the native module, linux-dmabuf included', () => {
    // The one list (the unit tests of the session bridge use the same names).
    expect(supportedBridgeGlobals()).toEqual([
      'wl_compositor',
      'wl_subcompositor',
      'wl_shm',
      'wl_output',
      'wl_seat',
      'xdg_wm_base',
      'wp_viewporter',
      'wp_presentation',
      'zwp_linux_dmabuf_v1',
      'zwp_relative_pointer_manager_v1',
      'zwp_pointer_constraints_v1',
      'wp_fractional_scale_manager_v1',
      'zwp_tablet_manager_v2',
    ]);
  });

  it('has the native constructor check its options again', () => {
    const { DisplayBridge: NativeBridge } = loadNative() as unknown as {
      DisplayBridge: new (options: unknown, onEvent: unknown) => unknown;
    };
    const onEvent = () => undefined;
    expect(() => new NativeBridge({}, onEvent)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    const options = {
      socketPath: join(dir, 'n'),
      hostSocketPath: '/nonexistent',
      globals: ['nope'],
    };
    expect(() => new NativeBridge(options, onEvent)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => new NativeBridge({ ...options, globals: [], socketMode: 0o777 }, onEvent)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => new NativeBridge({ ...options, globals: [], pollMaxUs: 1001 }, onEvent)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(existsSync(options.socketPath)).toBe(false);
  });

  it('has the native bounds of every bridge limit the facade checks', () => {
    const { DisplayBridge: NativeBridge } = loadNative() as unknown as {
      DisplayBridge: new (options: unknown, onEvent: unknown) => unknown;
    };
    // A bad global fails after the options are read (EINVAL): a limit out of its bounds fails
    // before (ERR_OUT_OF_RANGE), in the facade and in the native constructor alike.
    const base = { socketPath: join(dir, 'b'), hostSocketPath: '/nonexistent', globals: ['nope'] };
    const withValue = (key: (typeof BRIDGE_LIMIT_KEYS)[number], value: unknown) => {
      const place = nativeBridgeKey(key);
      return place.in === 'limits'
        ? { ...base, limits: { [place.key]: value } }
        : { ...base, [place.key]: value };
    };
    for (const key of BRIDGE_INTEGER_LIMIT_KEYS) {
      const row = bridgeLimitRow(key);
      if (row.type !== 'integer') continue;
      for (const [value, code] of [
        [row.nativeMin, 'EINVAL'],
        [row.nativeMax, 'EINVAL'],
        [row.nativeMin - 1, 'ERR_OUT_OF_RANGE'],
        [row.nativeMax + 1, 'ERR_OUT_OF_RANGE'],
      ] as const) {
        expect(
          () => new NativeBridge(withValue(key, value), () => undefined),
          `${key} ${value}`,
        ).toThrow(expect.objectContaining({ code }));
        const facade = { ...withValue(key, value), hostDisplay: '/nonexistent', globals: [] };
        if (code === 'ERR_OUT_OF_RANGE')
          expect(() => bridgeNativeOptions(facade as never), `${key} ${value}`).toThrow(
            expect.objectContaining({ code }),
          );
        else expect(() => bridgeNativeOptions(facade as never)).not.toThrow();
      }
    }
    expect(existsSync(base.socketPath)).toBe(false);
  });
});

describe('display bridge lifecycle without a host', () => {
  it('refuses a socket path that exists, leaving the file alone', () => {
    const taken = join(dir, 'taken');
    writeFileSync(taken, 'keep');
    expect(() =>
      DisplayBridge.start({ socketPath: taken, hostDisplay: join(dir, 'none') }),
    ).toThrow(expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }));
    expect(readFileSync(taken, 'utf8')).toBe('keep');
  });

  it('reports an unreachable host, removes its socket and releases every fd', async () => {
    const before = countOpenFds();
    const events: BridgeEvent[] = [];
    const socketPath = join(dir, 'bridge-nohost');
    const bridge = DisplayBridge.start({
      socketPath,
      socketMode: 0o660,
      hostDisplay: join(dir, 'no-compositor-here'),
      onEvent: (event) => events.push(event),
    });
    // The socket may already be gone here: the bridge thread removes it as soon as the host
    // connection fails, which can be before this line runs.
    await expect(bridge.ready).rejects.toMatchObject({ code: 'EBRIDGEHOST' });
    expect(events[0]).toMatchObject({ type: 'error', reason: 'host-unavailable' });
    expect((events[0] as { message: string }).message).toContain('no-compositor-here');
    bridge.stop();
    bridge.stop();
    expect(existsSync(socketPath)).toBe(false);
    expect(bridge.stats()).toEqual({
      running: false,
      clientsTotal: 0,
      poll: { ns: 0, workNs: 0, hits: 0, misses: 0 },
      clients: [],
    });
    expect(countOpenFds()).toBe(before);
  });
});
