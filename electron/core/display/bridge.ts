/**
 * The display bridge's facade: validates options, resolves the host compositor's socket, and
 * wraps the native `DisplayBridge` (a nested compositor on its own thread, see
 * `native/DESIGN.md`) with a `ready` promise and typed events.
 */
import { isAbsolute, join } from 'node:path';
import type {
  BridgeClipboard,
  BridgeClipboardMode,
  BridgeEvent,
  BridgeGlobalName,
  BridgeLimits,
  BridgeNativeOptions,
  BridgeStats,
  DroidwayBridgeNative,
} from '../../../native/index.js';
import { checkBoolean, checkInteger, invalidType, outOfRange } from '../native/arguments.js';
import {
  BRIDGE_LIMIT_KEYS,
  bridgeLimitRow,
  nativeBridgeKey,
  type NativeBridgeLimits,
} from '../policy/bridge-limits.js';
import { loadNative, nativeModulePath, NativeUnavailableError } from '../native/binding.js';

export type {
  BridgeClientStats,
  BridgeEvent,
  BridgeGlobalName,
  BridgeLimits,
  BridgeStats,
} from '../../../native/index.js';

/**
 * Globals the bridge relays only when asked for by name (never by default): linux-dmabuf, which
 * the bridge offers only when the host compositor has it, and relative pointer, pointer
 * constraints and tablets (offered, like every global, only when the host has them).
 */
export const BRIDGE_OPTIONAL_GLOBALS: readonly BridgeGlobalName[] = [
  'zwp_linux_dmabuf_v1',
  'zwp_relative_pointer_manager_v1',
  'zwp_pointer_constraints_v1',
  'zwp_tablet_manager_v2',
];

/** Every global the native bridge can relay (the module's `bridgeSupportedGlobals`). */
export function supportedBridgeGlobals(
  binding: DroidwayBridgeNative = loadBridgeNative(),
): readonly BridgeGlobalName[] {
  return binding.bridgeSupportedGlobals;
}

/** `sun_path` holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Thrown when no host compositor socket can be found; `code` is `'ENOHOSTDISPLAY'`. */
export class HostDisplayError extends Error {
  readonly code = 'ENOHOSTDISPLAY';
  constructor(message: string) {
    super(message);
    this.name = 'HostDisplayError';
  }
}

/**
 * Options of `DisplayBridge.start`. The policy's bridge limits are the native options' own
 * (`requireSealed`, default true: `F_SEAL_SHRINK` on memfd pools; the connection caps; `limits`),
 * checked against the native bounds of their rows in `BRIDGE_LIMITS`.
 */
export interface DisplayBridgeOptions extends Partial<Omit<NativeBridgeLimits, 'limits'>> {
  /** Absolute path of the guest-facing socket (must not exist). */
  socketPath: string;
  /** `0o600` (default) or `0o660`. */
  socketMode?: number;
  /**
   * The host compositor: an absolute socket path or a display name under `XDG_RUNTIME_DIR`.
   * Defaults to `WAYLAND_DISPLAY` (itself defaulting to `wayland-0`).
   */
  hostDisplay?: string;
  /** Globals the guest may see (default: every supported one but `BRIDGE_OPTIONAL_GLOBALS`). */
  globals?: readonly BridgeGlobalName[];
  hostTimeoutMs?: number;
  limits?: BridgeLimits;
  /** The clipboard relay (default: off). */
  clipboard?: BridgeClipboard;
  /** Called on the JS thread for every event. */
  onEvent?: (event: BridgeEvent) => void;
  /** Environment used to find the host display; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The native binding; defaults to `loadNative()`. */
  binding?: DroidwayBridgeNative;
}

function checkSocketPath(value: unknown, name: string): string {
  if (typeof value !== 'string') throw invalidType(`${name} must be a string`);
  if (!isAbsolute(value)) throw outOfRange(`${name} must be an absolute path`);
  if (value.includes('\0')) throw outOfRange(`${name} must not contain NUL`);
  if (Buffer.byteLength(value) > MAX_SOCKET_PATH_BYTES) {
    throw outOfRange(`${name} must be at most ${MAX_SOCKET_PATH_BYTES} bytes`);
  }
  return value;
}

/**
 * The host compositor's socket path, as libwayland resolves it: an absolute `hostDisplay` (or
 * `WAYLAND_DISPLAY`) is used as is, a name is joined to `XDG_RUNTIME_DIR`.
 * @throws HostDisplayError when a name is given but `XDG_RUNTIME_DIR` is unset or relative
 */
export function resolveHostSocket(
  hostDisplay: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const name = hostDisplay ?? (env.WAYLAND_DISPLAY || 'wayland-0');
  if (isAbsolute(name)) return checkSocketPath(name, 'hostDisplay');
  if (name.includes('/')) throw outOfRange('hostDisplay must be a name or an absolute path');
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir === undefined || !isAbsolute(runtimeDir)) {
    throw new HostDisplayError(
      `cannot find the host compositor: XDG_RUNTIME_DIR is ${runtimeDir === undefined ? 'unset' : 'not absolute'} and the display '${name}' is not a path`,
    );
  }
  return checkSocketPath(join(runtimeDir, name), 'host socket');
}

/** Checks `options` and returns what the native constructor takes. */
export function bridgeNativeOptions(options: DisplayBridgeOptions): BridgeNativeOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidType('options must be an object');
  }
  const socketPath = checkSocketPath(options.socketPath, 'socketPath');
  const socketMode = options.socketMode ?? 0o600;
  if (socketMode !== 0o600 && socketMode !== 0o660) {
    throw outOfRange('socketMode must be 0o600 or 0o660');
  }
  const supported = supportedBridgeGlobals(options.binding ?? loadBridgeNative());
  const globals = options.globals ?? supported.filter((g) => !BRIDGE_OPTIONAL_GLOBALS.includes(g));
  if (!Array.isArray(globals)) throw invalidType('globals must be an array');
  for (const global of globals) {
    if (!supported.includes(global)) {
      throw outOfRange(`globals: '${String(global)}' cannot be relayed`);
    }
  }
  const result: BridgeNativeOptions = {
    socketPath,
    socketMode,
    hostSocketPath: resolveHostSocket(options.hostDisplay, options.env),
    globals: [...new Set(globals)],
    // Required unless said otherwise (checked below with the other policy fields).
    requireSealed: true,
  };
  if (options.hostTimeoutMs !== undefined) {
    result.hostTimeoutMs = checkInteger(options.hostTimeoutMs, 'hostTimeoutMs', 1, 600_000);
  }
  if (
    options.limits !== undefined &&
    (typeof options.limits !== 'object' || options.limits === null)
  ) {
    throw invalidType('limits must be an object');
  }
  // The policy's bridge limits, each where the native options hold it, within the native bounds.
  const top = options as unknown as Record<string, unknown>;
  const limits = (options.limits ?? {}) as Record<string, unknown>;
  const checked: Record<string, unknown> = {};
  for (const key of BRIDGE_LIMIT_KEYS) {
    const row = bridgeLimitRow(key);
    const place = nativeBridgeKey(key);
    const value = (place.in === 'limits' ? limits : top)[place.key];
    if (value === undefined) continue;
    const name = place.in === 'limits' ? `limits.${place.key}` : place.key;
    const valid =
      row.type === 'integer'
        ? checkInteger(value, name, row.nativeMin, row.nativeMax)
        : checkBoolean(value, name);
    if (place.in === 'limits') checked[place.key] = valid;
    else (result as unknown as Record<string, unknown>)[place.key] = valid;
  }
  if (options.limits !== undefined) result.limits = checked as BridgeLimits;
  if (options.clipboard !== undefined) result.clipboard = checkClipboard(options.clipboard);
  return result;
}

const CLIPBOARD_MODES: readonly BridgeClipboardMode[] = ['off', 'host-to-guest', 'both'];
/** A MIME type the bridge accepts: printable ASCII without spaces, 1..255 bytes. */
export const CLIPBOARD_MIME_PATTERN = /^[\x21-\x7e]{1,255}$/;

function checkClipboard(value: unknown): BridgeClipboard {
  if (typeof value !== 'object' || value === null) throw invalidType('clipboard must be an object');
  const { mode, mimeTypes, maxBytes } = value as Partial<BridgeClipboard>;
  if (!CLIPBOARD_MODES.includes(mode as BridgeClipboardMode)) {
    throw outOfRange(`clipboard.mode must be one of ${CLIPBOARD_MODES.join(', ')}`);
  }
  if (!Array.isArray(mimeTypes) || mimeTypes.length > 32) {
    throw outOfRange('clipboard.mimeTypes must be an array of at most 32 types');
  }
  for (const type of mimeTypes) {
    if (typeof type !== 'string' || !CLIPBOARD_MIME_PATTERN.test(type)) {
      throw outOfRange(`clipboard.mimeTypes: ${JSON.stringify(type)} is not a MIME type`);
    }
  }
  return {
    mode: mode as BridgeClipboardMode,
    mimeTypes: [...mimeTypes],
    maxBytes: checkInteger(maxBytes, 'clipboard.maxBytes', 1, 2 ** 30),
  };
}

/** Error of a bridge that could not reach the host compositor; `code` is `'EBRIDGEHOST'`. */
export class BridgeHostError extends Error {
  readonly code = 'EBRIDGEHOST';
  constructor(message: string) {
    super(message);
    this.name = 'BridgeHostError';
  }
}

/** The loaded module's bridge exports; a module built before the bridge existed lacks them. */
function loadBridgeNative(): DroidwayBridgeNative {
  const binding = loadNative() as Partial<DroidwayBridgeNative>;
  if (typeof binding.DisplayBridge !== 'function') {
    throw new NativeUnavailableError(nativeModulePath(), 'the module has no display bridge');
  }
  return binding as DroidwayBridgeNative;
}

interface NativeBridge {
  stop(): void;
  stats(): BridgeStats;
}

/** A running display bridge session. */
export class DisplayBridge {
  /** Resolves with the globals offered once the host is connected; rejects on `'error'`. */
  readonly ready: Promise<{ interface: string; version: number }[]>;
  readonly socketPath: string;
  private readonly native: NativeBridge;
  private stopped = false;

  private constructor(options: DisplayBridgeOptions) {
    const nativeOptions = bridgeNativeOptions(options);
    this.socketPath = nativeOptions.socketPath;
    const binding = options.binding ?? loadBridgeNative();
    let settle: {
      resolve: (globals: { interface: string; version: number }[]) => void;
      reject: (error: Error) => void;
    } | null = null;
    this.ready = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    // A caller that never awaits `ready` must not get an unhandled rejection.
    this.ready.catch(() => undefined);
    const onEvent = options.onEvent;
    this.native = new binding.DisplayBridge(nativeOptions, (event) => {
      if (event.type === 'ready') settle?.resolve(event.globals);
      if (event.type === 'error') settle?.reject(new BridgeHostError(event.message));
      if (event.type === 'stopped') settle?.reject(new BridgeHostError('the bridge stopped'));
      onEvent?.(event);
    });
  }

  /**
   * Binds the guest socket and starts the bridge thread. Await `ready` before pointing guests
   * at the socket (they can connect earlier; they are served once the host is connected).
   */
  static start(options: DisplayBridgeOptions): DisplayBridge {
    return new DisplayBridge(options);
  }

  /** Per-client counters (commits, buffers forwarded, bytes copied, fds rejected by reason). */
  stats(): BridgeStats {
    return this.native.stats();
  }

  /** Disconnects every guest, removes the socket and joins the bridge thread. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.native.stop();
  }
}
