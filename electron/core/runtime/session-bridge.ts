/**
 * The display bridge of a session, as the session host runs it: a `DisplayBridge` (the facade
 * of the native nested compositor) whose guest-facing socket lives in the instance's runtime
 * folder (`xdg/wayland-0`) and is bind-mounted into the container at `/run/xdg`, with the
 * globals, limits and seal requirement of the compiled policy.
 *
 * A session without a host display still starts: the bridge is `off` and its status says why.
 * A bridge whose host compositor goes away is `down` with the reason; the container keeps
 * running. Events (clients, toplevels, violations, host loss) are logged and the last ones kept
 * in the status.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  BRIDGE_GLOBALS,
  DisplayBridge,
  type BridgeEvent,
  type BridgeGlobalName,
  type BridgeStats,
  type DisplayBridgeOptions,
} from '../display/bridge.js';
import { CONTAINER_WAYLAND_DISPLAY, CONTAINER_XDG_RUNTIME_DIR } from '../images/android-props.js';
import type { InstancePaths } from './instance-paths.js';
import { RuntimeError, isErrno } from './runtime-errors.js';

/** Where the bridge socket's folder appears in the guest (`XDG_RUNTIME_DIR`). */
export const GUEST_XDG_RUNTIME_DIR = CONTAINER_XDG_RUNTIME_DIR;
/** The bridge socket's name in that folder (`WAYLAND_DISPLAY`). */
export const GUEST_WAYLAND_DISPLAY = CONTAINER_WAYLAND_DISPLAY;
/** Events kept in the status. */
export const MAX_KEPT_EVENTS = 64;
/** Longest reason or message kept from an event. */
const MAX_EVENT_TEXT = 300;

/** What the bridge enforces, from the compiled policy (`CompiledPolicy.bridge`). */
export interface SessionBridgeSettings {
  globals: BridgeGlobalName[];
  requireSealed: boolean;
  maxObjects?: number;
  maxPools?: number;
  maxBuffers?: number;
  maxSurfaces?: number;
}

/** How the session host is told to run the bridge. */
export type SessionBridgeConfig =
  | { enabled: true; hostSocket: string; settings: SessionBridgeSettings }
  | { enabled: false; reason: string };

/** State of a session's bridge. */
export type SessionBridgeState = 'off' | 'starting' | 'running' | 'down' | 'stopped';

/** One kept event, with the time it arrived. */
export type KeptBridgeEvent = BridgeEvent & { at: string };

/** The bridge part of a session's status. */
export interface SessionBridgeStatus {
  state: SessionBridgeState;
  /** Why the bridge is off, down or stopped; null while starting or running. */
  reason: string | null;
  /** The host compositor's socket, when one was given. */
  hostSocket: string | null;
  /** The guest-facing socket on the host, while it exists. */
  socket: string | null;
  /** `XDG_RUNTIME_DIR` and `WAYLAND_DISPLAY` as the guest sees them. */
  guestRuntimeDir: string;
  guestDisplay: string;
  /** Guest clients connected now. */
  clients: number;
  /** Toplevels shown on the host now, by `app_id`. */
  toplevels: string[];
  /** The last events, oldest first. */
  events: KeptBridgeEvent[];
}

/**
 * Maps the compiled policy's bridge settings onto what the bridge can do: globals it cannot
 * relay are dropped (named in `dropped`), `maxFds` has no native counterpart yet.
 */
export function bridgeSettingsFromPolicy(compiled: {
  globals: readonly string[];
  maxPools: number;
  maxBuffers: number;
  maxSurfaces: number;
  maxObjects: number;
  requireSealedBuffers: boolean;
}): { settings: SessionBridgeSettings; dropped: string[] } {
  const known = new Set<string>(BRIDGE_GLOBALS);
  const globals = compiled.globals.filter((g): g is BridgeGlobalName => known.has(g));
  return {
    settings: {
      globals,
      requireSealed: compiled.requireSealedBuffers,
      maxObjects: compiled.maxObjects,
      maxPools: compiled.maxPools,
      maxBuffers: compiled.maxBuffers,
      maxSurfaces: compiled.maxSurfaces,
    },
    dropped: compiled.globals.filter((g) => !known.has(g)),
  };
}

const LIMIT_KEYS = ['maxObjects', 'maxPools', 'maxBuffers', 'maxSurfaces'] as const;

/**
 * Parses the bridge settings handed to the session host on its command line (JSON). Throws
 * `RuntimeError` (`BRIDGE_SETTINGS_INVALID`) for anything but an object with a `globals` array
 * of relayable names, a boolean `requireSealed` and positive integer limits.
 */
export function parseBridgeSettings(text: string): SessionBridgeSettings {
  const bad = (why: string): never => {
    throw new RuntimeError('BRIDGE_SETTINGS_INVALID', `bridge settings: ${why}`);
  };
  if (text.length > 64 * 1024) bad('longer than 64 KiB');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not an object');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (
      key !== 'globals' &&
      key !== 'requireSealed' &&
      !(LIMIT_KEYS as readonly string[]).includes(key)
    )
      bad(`unknown key ${JSON.stringify(key.slice(0, 40))}`);
  }
  if (!Array.isArray(o.globals)) return bad('globals must be an array');
  const globals: BridgeGlobalName[] = [];
  for (const g of o.globals as unknown[]) {
    if (typeof g !== 'string' || !(BRIDGE_GLOBALS as readonly string[]).includes(g))
      bad(`global ${JSON.stringify(String(g).slice(0, 40))} cannot be relayed`);
    if (!globals.includes(g as BridgeGlobalName)) globals.push(g as BridgeGlobalName);
  }
  if (typeof o.requireSealed !== 'boolean') bad('requireSealed must be a boolean');
  const settings: SessionBridgeSettings = { globals, requireSealed: o.requireSealed as boolean };
  for (const key of LIMIT_KEYS) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 20)
      bad(`${key} must be an integer from 1 to ${2 ** 20}`);
    settings[key] = v as number;
  }
  return settings;
}

/**
 * The `lxc.mount.entry` that shows the bridge socket's folder at `/run/xdg` in the guest.
 * Read-only: connecting to a Unix socket needs no write access to its file system, and LXC
 * applies nosuid/nodev/noexec to a bind mount only when it remounts it read-only, so a writable
 * bind would give the guest a host folder where it could plant a setuid file.
 */
export function bridgeMountEntry(paths: InstancePaths): string {
  return `${paths.xdgDir} ${GUEST_XDG_RUNTIME_DIR.slice(1)} none bind,ro,create=dir,nosuid,nodev,noexec 0 0`;
}

/** The guest environment that points Wayland clients at the bridge. */
export function bridgeGuestEnvironment(): Record<string, string> {
  return { XDG_RUNTIME_DIR: GUEST_XDG_RUNTIME_DIR, WAYLAND_DISPLAY: GUEST_WAYLAND_DISPLAY };
}

function clip(text: string): string {
  return text.length > MAX_EVENT_TEXT ? `${text.slice(0, MAX_EVENT_TEXT)}…` : text;
}

/** Options of `SessionBridge.start`. */
export interface SessionBridgeOptions {
  paths: InstancePaths;
  config: SessionBridgeConfig;
  log?: (line: string) => void;
  /** Starts the display bridge; default `DisplayBridge.start` (tests inject a fake). */
  startBridge?: (options: DisplayBridgeOptions) => Pick<DisplayBridge, 'ready' | 'stats' | 'stop'>;
}

/** A session's bridge; see the module doc. */
export class SessionBridge {
  readonly #paths: InstancePaths;
  readonly #log: (line: string) => void;
  #bridge: Pick<DisplayBridge, 'ready' | 'stats' | 'stop'> | null = null;
  #state: SessionBridgeState;
  #reason: string | null;
  readonly #hostSocket: string | null;
  readonly #events: KeptBridgeEvent[] = [];
  readonly #clients = new Set<number>();
  readonly #toplevels = new Map<string, string>();
  #lastStats: BridgeStats | null = null;

  private constructor(paths: InstancePaths, config: SessionBridgeConfig, log: (l: string) => void) {
    this.#paths = paths;
    this.#log = log;
    this.#state = config.enabled ? 'starting' : 'off';
    this.#reason = config.enabled ? null : config.reason;
    this.#hostSocket = config.enabled ? config.hostSocket : null;
  }

  /**
   * Creates the socket folder (always: the container's mount needs it) and, when the config
   * enables it, starts the bridge. Never throws for a bridge that cannot start: the state
   * becomes `down` with the reason, and the session goes on without a display.
   */
  static async start(options: SessionBridgeOptions): Promise<SessionBridge> {
    const log = options.log ?? (() => {});
    const sb = new SessionBridge(options.paths, options.config, log);
    const dir = options.paths.xdgDir;
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true, mode: 0o711 });
    await fs.chmod(dir, 0o711);
    const config = options.config;
    if (!config.enabled) {
      log(`bridge off: ${config.reason}`);
      return sb;
    }
    const s = config.settings;
    const limits: Record<string, number> = {};
    for (const key of LIMIT_KEYS) if (s[key] !== undefined) limits[key] = s[key];
    try {
      const start = options.startBridge ?? ((o: DisplayBridgeOptions) => DisplayBridge.start(o));
      sb.#bridge = start({
        socketPath: options.paths.bridgeSocket,
        hostDisplay: config.hostSocket,
        globals: s.globals,
        requireSealed: s.requireSealed,
        limits,
        onEvent: (event) => sb.#onEvent(event),
      });
    } catch (e) {
      sb.#down(`the bridge could not start: ${(e as Error).message}`);
      return sb;
    }
    sb.#bridge.ready.then(
      (globals) => {
        if (sb.#state !== 'starting') return;
        sb.#state = 'running';
        log(
          `bridge running on ${config.hostSocket}: ${globals.map((g) => g.interface).join(', ')}`,
        );
      },
      (e: unknown) =>
        sb.#down(`the host compositor ${config.hostSocket} refused: ${(e as Error).message}`),
    );
    return sb;
  }

  /** Resolves once the bridge is running, or with its state when it is off or down. */
  async whenSettled(): Promise<SessionBridgeState> {
    await this.#bridge?.ready.catch(() => undefined);
    return this.#state;
  }

  #down(reason: string): void {
    if (this.#state === 'stopped' || this.#state === 'down') return;
    this.#state = 'down';
    this.#reason = reason;
    this.#log(`bridge down: ${reason}`);
    // Called from the bridge's own event callback: stopping (which joins its thread) waits a turn.
    setImmediate(() => this.#stopNative());
  }

  #onEvent(event: BridgeEvent): void {
    const kept = { ...event, at: new Date().toISOString() } as KeptBridgeEvent;
    if ('reason' in kept && typeof kept.reason === 'string')
      kept.reason = clip(kept.reason) as never;
    if ('message' in kept && typeof kept.message === 'string') kept.message = clip(kept.message);
    this.#events.push(kept);
    if (this.#events.length > MAX_KEPT_EVENTS) this.#events.shift();
    switch (event.type) {
      case 'client-connected':
        this.#clients.add(event.clientId);
        this.#log(
          `bridge: client ${event.clientId} connected (pid ${event.pid}, uid ${event.uid})`,
        );
        break;
      case 'client-disconnected':
        this.#clients.delete(event.clientId);
        for (const [key] of this.#toplevels)
          if (key.startsWith(`${event.clientId}:`)) this.#toplevels.delete(key);
        this.#log(`bridge: client ${event.clientId} disconnected (${clip(event.reason)})`);
        break;
      case 'toplevel-mapped':
        this.#toplevels.set(`${event.clientId}:${event.appId}:${event.title}`, event.appId);
        this.#log(`bridge: client ${event.clientId} mapped ${event.appId} "${clip(event.title)}"`);
        break;
      case 'toplevel-unmapped':
        this.#toplevels.delete(`${event.clientId}:${event.appId}:${event.title}`);
        this.#log(`bridge: client ${event.clientId} unmapped ${event.appId}`);
        break;
      case 'violation':
        this.#log(
          `bridge: client ${event.clientId} violation ${event.reason}: ${clip(event.message)}`,
        );
        break;
      case 'host-lost':
        this.#down(`lost the host compositor (${event.reason}): ${clip(event.message)}`);
        break;
      case 'error':
        this.#down(`${event.reason}: ${clip(event.message)}`);
        break;
      case 'stopped':
        if (event.reason === 'host-lost' || event.reason === 'error')
          this.#down(this.#reason ?? `the bridge stopped (${event.reason})`);
        break;
      case 'ready':
        break;
    }
  }

  /** A snapshot for the session's status. */
  status(): SessionBridgeStatus {
    return {
      state: this.#state,
      reason: this.#reason,
      hostSocket: this.#hostSocket,
      socket:
        this.#state === 'starting' || this.#state === 'running' ? this.#paths.bridgeSocket : null,
      guestRuntimeDir: GUEST_XDG_RUNTIME_DIR,
      guestDisplay: GUEST_WAYLAND_DISPLAY,
      clients: this.#clients.size,
      toplevels: [...this.#toplevels.values()],
      events: [...this.#events],
    };
  }

  /**
   * Per-client counters. Throws `RuntimeError` (`BRIDGE_OFF`) when the bridge never ran; a
   * bridge that went down answers with its last counters.
   */
  stats(): BridgeStats {
    if (this.#bridge !== null) {
      try {
        this.#lastStats = this.#bridge.stats();
      } catch {
        // A stopped native bridge may refuse; the last counters stand.
      }
    }
    if (this.#lastStats === null)
      throw new RuntimeError(
        'BRIDGE_OFF',
        `the display bridge is ${this.#state}${this.#reason ? `: ${this.#reason}` : ''}`,
      );
    return this.#lastStats;
  }

  #stopNative(): void {
    const bridge = this.#bridge;
    if (bridge === null) return;
    try {
      this.#lastStats = bridge.stats();
    } catch {
      // Keep what we had.
    }
    bridge.stop();
  }

  /** Stops the bridge (guests disconnected, socket removed) and removes the socket folder. */
  async stop(reason = 'the session ended'): Promise<void> {
    if (this.#state !== 'off' && this.#state !== 'down') {
      this.#state = 'stopped';
      this.#reason = reason;
    }
    this.#stopNative();
    this.#bridge = null;
    await fs.rm(this.#paths.bridgeSocket, { force: true });
    await fs.rmdir(this.#paths.xdgDir).catch((e: unknown) => {
      if (!isErrno(e, 'ENOENT'))
        this.#log(`bridge: ${path.basename(this.#paths.xdgDir)}: ${(e as Error).message}`);
    });
  }
}
