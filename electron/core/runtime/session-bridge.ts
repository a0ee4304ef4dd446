/**
 * The display bridge of a session, as the session host runs it: a `BridgeProcess` (the native
 * nested compositor in its own unprivileged, confined process, restarted when it dies) whose
 * guest-facing socket lives in the instance's runtime folder (`xdg/wayland-0`) and is
 * bind-mounted into the container at `/run/xdg`, with the globals, limits and seal requirement
 * of the compiled policy, handed through unchanged (`BridgeSettings` of `native/index.d.ts`).
 *
 * A session without a host display still starts: the bridge is `off` and its status says why.
 * A bridge whose host compositor goes away is `down` with the reason; the container keeps
 * running. A bridge process that dies is restarted (its guest clients reconnect) and the status
 * says so. Events (clients, toplevels, violations, host loss, process ends) are logged and the
 * last ones kept in the status.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BridgeSettings } from '../../../native/index.js';
import { BRIDGE_LIMIT_KEYS, nativeBridgeKey, nativeBridgeLimits } from '../policy/bridge-limits.js';
import type { BridgeSettings as CompiledBridgeSettings } from '../policy/policy-compile.js';
import type { BridgeEvent, BridgeGlobalName, BridgeStats } from '../display/bridge.js';
import {
  BridgeProcess,
  type BridgeEffectiveConfig,
  type BridgeProcessEnd,
  type BridgeProcessOptions,
} from '../display/bridge-process.js';
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

/** What the bridge enforces, from the compiled policy: the native module's own type. */
export type SessionBridgeSettings = BridgeSettings;

/**
 * The guest's compositor client as the host sees it (its uid/gid mapped by the container's user
 * namespace): the bridge socket is given to it (0660) and its folder to its group (0770).
 */
export interface GuestSocketOwner {
  uid: number;
  gid: number;
}

/** How the session host is told to run the bridge. */
export type SessionBridgeConfig =
  | {
      enabled: true;
      hostSocket: string;
      settings: SessionBridgeSettings;
      /** Default: the socket stays the session host's, mode from the settings' default (0600). */
      guestOwner?: GuestSocketOwner;
    }
  | { enabled: false; reason: string };

/** Who a bridge process started by root becomes: nobody/nogroup unless told otherwise. */
export const DEFAULT_BRIDGE_RUN_AS = { uid: 65534, gid: 65534 } as const;

/** A bridge process's end as kept in the status events. */
export type BridgeProcessEndEvent = { type: 'process-ended' } & BridgeProcessEnd;

/** State of a session's bridge. */
export type SessionBridgeState = 'off' | 'starting' | 'running' | 'down' | 'stopped';

/** One kept event, with the time it arrived. */
export type KeptBridgeEvent = (BridgeEvent | BridgeProcessEndEvent) & { at: string };

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
  /**
   * The bridge process: its pid now (null when none runs), how often it was restarted, how it
   * last ended, and the configuration it reported running with.
   */
  process: {
    pid: number | null;
    restarts: number;
    lastEnd: string | null;
    config: BridgeEffectiveConfig | null;
  };
}

/**
 * The compiled policy's bridge settings in the native module's shape, every field carried over
 * (each bridge limit where its row of `BRIDGE_LIMITS` places it).
 * Globals the native bridge cannot relay (`supported`: the module's `bridgeSupportedGlobals`)
 * are left out and named in `dropped`.
 */
export function bridgeSettingsFromPolicy(
  compiled: CompiledBridgeSettings,
  supported: readonly string[],
): { settings: SessionBridgeSettings; dropped: string[] } {
  const known = new Set<string>(supported);
  const globals = compiled.globals.filter((g): g is BridgeGlobalName => known.has(g));
  return {
    settings: {
      globals,
      clipboard: { ...compiled.clipboard, mimeTypes: [...compiled.clipboard.mimeTypes] },
      ...nativeBridgeLimits(compiled),
    },
    dropped: compiled.globals.filter((g) => !known.has(g)),
  };
}

/** The keys of `BridgeSettings`: globals, clipboard, limits and the top-level rows of `BRIDGE_LIMITS`. */
const SETTINGS_KEYS: readonly string[] = [
  'globals',
  'clipboard',
  'limits',
  ...BRIDGE_LIMIT_KEYS.map(nativeBridgeKey)
    .filter((place) => place.in === 'settings')
    .map((place) => place.key),
];

/**
 * Reads the bridge settings handed to the session host on its command line (JSON), far enough
 * to pass them on: an object with only the keys of `BridgeSettings`, so that nothing
 * else of the bridge's configuration can be set through them. Their values are checked where
 * they are used, once, by the bridge process (which refuses the whole line). Throws
 * `RuntimeError` (`BRIDGE_SETTINGS_INVALID`).
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
  for (const key of Object.keys(raw)) {
    if (!SETTINGS_KEYS.includes(key)) bad(`unknown key ${JSON.stringify(key.slice(0, 40))}`);
  }
  for (const key of SETTINGS_KEYS) if (!(key in raw)) bad(`${key} is missing`);
  return raw as SessionBridgeSettings;
}

/**
 * Reads `UID:GID` (the guest's compositor ids on the host, from the session host's command line).
 * Throws `RuntimeError` (`BRIDGE_SETTINGS_INVALID`) for anything else, for root (0) and for
 * the "unchanged" id (2^32 - 1).
 */
export function parseGuestOwner(text: string): GuestSocketOwner {
  const ids = /^(\d{1,10}):(\d{1,10})$/.exec(text);
  const uid = Number(ids?.[1]);
  const gid = Number(ids?.[2]);
  if (ids === null || uid < 1 || gid < 1 || uid >= 2 ** 32 - 1 || gid >= 2 ** 32 - 1)
    throw new RuntimeError(
      'BRIDGE_SETTINGS_INVALID',
      `bridge guest owner: ${JSON.stringify(text.slice(0, 40))} is not UID:GID (1 to 4294967294)`,
    );
  return { uid, gid };
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

/** Removes the socket at `socketPath` if a socket is there (never anything else). */
function removeSocket(socketPath: string): void {
  try {
    if (lstatSync(socketPath).isSocket()) unlinkSync(socketPath);
  } catch {
    // Gone already.
  }
}

function clip(text: string): string {
  return text.length > MAX_EVENT_TEXT ? `${text.slice(0, MAX_EVENT_TEXT)}…` : text;
}

/** What SessionBridge uses of a `BridgeProcess`. */
export type SessionBridgeProcess = Pick<
  BridgeProcess,
  'ready' | 'stats' | 'stop' | 'pid' | 'ends' | 'effectiveConfig'
>;

/** Options of `SessionBridge.start`. */
export interface SessionBridgeOptions {
  paths: InstancePaths;
  config: SessionBridgeConfig;
  log?: (line: string) => void;
  /** Who the bridge process becomes when the session host is root (default nobody/nogroup). */
  runAs?: { uid: number; gid: number };
  /** Address-space cap of the bridge process in MiB (default 256). */
  memoryLimitMiB?: number;
  /** Starts the bridge process; default `BridgeProcess.start` (tests inject a fake). */
  startBridge?: (options: BridgeProcessOptions) => SessionBridgeProcess;
  /**
   * A desktop user's bridge (`runtime/display-host.ts`): the root session host prepared the
   * socket folder for this user (`prepareUserBridgeFolder`: the user's, group of the guest's
   * compositor, setgid), so it is used as it is and the socket is made 0660 (its group comes
   * from the folder; a user cannot chown to the guest's ids).
   */
  userSide?: boolean;
}

/**
 * Prepares `paths`' socket folder for a bridge run by a desktop user (`owner`): owned by that
 * user, group `guestGid` (the guest compositor's mapped gid, else the user's own), mode 02770 so
 * the socket the user's bridge creates there belongs to that group. Nobody else on the host may
 * enter. Root only.
 */
export async function prepareUserBridgeFolder(
  paths: Pick<InstancePaths, 'xdgDir'>,
  owner: { uid: number; gid: number },
): Promise<void> {
  await fs.mkdir(paths.xdgDir, { recursive: true, mode: 0o700 });
  await fs.chown(paths.xdgDir, owner.uid, owner.gid);
  await fs.chmod(paths.xdgDir, 0o2770);
}

/** A session's bridge; see the module doc. */
export class SessionBridge {
  readonly #paths: InstancePaths;
  readonly #log: (line: string) => void;
  #bridge: SessionBridgeProcess | null = null;
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
    const config = options.config;
    const owner = config.enabled ? config.guestOwner : undefined;
    if (options.userSide === true) {
      if (!config.enabled) return sb;
      return sb.#launch(options, config, undefined, log);
    }
    await fs.rm(dir, { recursive: true, force: true });
    // With a guest owner: its group (and nobody else on the host) may enter, 0770; the socket
    // is then its own, 0660. Without one, the folder is traversable and the socket 0600.
    const dirMode = owner ? 0o770 : 0o711;
    await fs.mkdir(dir, { recursive: true, mode: dirMode });
    if (owner) await fs.chown(dir, owner.uid, owner.gid);
    await fs.chmod(dir, dirMode);
    if (!config.enabled) {
      log(`bridge off: ${config.reason}`);
      return sb;
    }
    return sb.#launch(options, config, owner, log);
  }

  #launch(
    options: SessionBridgeOptions,
    config: Extract<SessionBridgeConfig, { enabled: true }>,
    owner: GuestSocketOwner | undefined,
    log: (line: string) => void,
  ): SessionBridge {
    const root = process.getuid?.() === 0;
    const runAs = options.runAs ?? DEFAULT_BRIDGE_RUN_AS;
    try {
      const start = options.startBridge ?? ((o: BridgeProcessOptions) => BridgeProcess.start(o));
      this.#bridge = start({
        config: {
          socketPath: options.paths.bridgeSocket,
          hostSocketPath: config.hostSocket,
          ...config.settings,
          ...(owner ? { socketMode: 0o660, socketUid: owner.uid, socketGid: owner.gid } : {}),
          ...(options.userSide === true ? { socketMode: 0o660 } : {}),
          ...(root ? { runAsUid: runAs.uid, runAsGid: runAs.gid } : {}),
          ...(options.memoryLimitMiB !== undefined
            ? { memoryLimitMiB: options.memoryLimitMiB }
            : {}),
        },
        onEvent: (event) => this.#onEvent(event),
        onEnd: (end) => this.#onEnd(end),
        onStderr: (line) => log(`bridge process: ${line}`),
      });
    } catch (e) {
      this.#down(`the bridge could not start: ${(e as Error).message}`);
      return this;
    }
    this.#bridge.ready.then(
      (globals) => {
        if (this.#state !== 'starting') return;
        this.#state = 'running';
        log(
          `bridge running on ${config.hostSocket}: ${globals.map((g) => g.interface).join(', ')}`,
        );
      },
      (e: unknown) =>
        this.#down(`the host compositor ${config.hostSocket} refused: ${(e as Error).message}`),
    );
    return this;
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
    // No bridge will serve it again; the confined process cannot remove it itself, and the
    // status stops naming it now.
    removeSocket(this.#paths.bridgeSocket);
    void this.#stopNative();
  }

  #onEnd(end: BridgeProcessEnd): void {
    this.#keep({ type: 'process-ended', ...end, at: new Date().toISOString() });
    this.#log(`bridge: ${end.summary}`);
    // The process's guest clients went with it; restarted, it starts with none.
    this.#clients.clear();
    this.#toplevels.clear();
    if (end.restartedAt === null) this.#down(end.summary);
  }

  #keep(event: KeptBridgeEvent): void {
    this.#events.push(event);
    if (this.#events.length > MAX_KEPT_EVENTS) this.#events.shift();
  }

  /** The configuration the bridge process runs with (from its 'ready' line), once it is ready. */
  effectiveConfig(): BridgeEffectiveConfig | null {
    return this.#bridge?.effectiveConfig ?? null;
  }

  /** The running bridge process's pid, if one runs. */
  get processId(): number | null {
    return this.#bridge?.pid ?? null;
  }

  #onEvent(event: BridgeEvent): void {
    const kept = { ...event, at: new Date().toISOString() } as KeptBridgeEvent;
    if ('reason' in kept && typeof kept.reason === 'string')
      kept.reason = clip(kept.reason) as never;
    if ('message' in kept && typeof kept.message === 'string') kept.message = clip(kept.message);
    this.#keep(kept);
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
        if (this.#state === 'running') this.#log('bridge: a restarted bridge process is ready');
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
      process: {
        pid: this.#bridge?.pid ?? null,
        restarts: this.#bridge?.ends.filter((e) => e.restartedAt !== null).length ?? 0,
        lastEnd: this.#bridge?.ends.at(-1)?.summary ?? null,
        config: this.#bridge?.effectiveConfig ?? null,
      },
    };
  }

  /**
   * Per-client counters. Throws `RuntimeError` (`BRIDGE_OFF`) when the bridge never ran; a
   * bridge that went down answers with its last counters.
   */
  async stats(): Promise<BridgeStats> {
    if (this.#bridge !== null) {
      try {
        this.#lastStats = await this.#bridge.stats();
      } catch {
        // No process runs right now (restarting, or down): the last counters stand.
      }
    }
    if (this.#lastStats === null)
      throw new RuntimeError(
        'BRIDGE_OFF',
        `the display bridge is ${this.#state}${this.#reason ? `: ${this.#reason}` : ''}`,
      );
    return this.#lastStats;
  }

  async #stopNative(): Promise<void> {
    const bridge = this.#bridge;
    if (bridge === null) return;
    try {
      this.#lastStats = await bridge.stats();
    } catch {
      // Keep what we had.
    }
    await bridge.stop();
  }

  /** Stops the bridge (guests disconnected, socket removed) and removes the socket folder. */
  async stop(reason = 'the session ended'): Promise<void> {
    if (this.#state !== 'off' && this.#state !== 'down') {
      this.#state = 'stopped';
      this.#reason = reason;
    }
    await this.#stopNative();
    this.#bridge = null;
    await fs.rm(this.#paths.bridgeSocket, { force: true });
    await fs.rmdir(this.#paths.xdgDir).catch((e: unknown) => {
      if (!isErrno(e, 'ENOENT'))
        this.#log(`bridge: ${path.basename(this.#paths.xdgDir)}: ${(e as Error).message}`);
    });
  }
}
