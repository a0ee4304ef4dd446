/**
 * The display bridge in its own process: spawns `droidway-bridge` (native/bridge-process), hands
 * it its configuration as one JSON line, reads its events and stats as JSON lines, and keeps it
 * running: a bridge process that dies (a crash, a kill, the memory cap) is restarted after a
 * short backoff, a limited number of times a minute, and every end is kept for the status.
 *
 * The process binds the guest socket and connects to the host with the rights it was started
 * with, then drops to `runAsUid/runAsGid` (when root), caps its address space, sets
 * no_new_privs and a seccomp allow-list before it reads a single guest byte. It parses the
 * configuration strictly itself; this side only fills in the host socket and checks the shape.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { join, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type {
  BridgeEffectiveConfig,
  BridgeEvent,
  BridgeProcessConfig,
  BridgeStats,
} from '../../../native/index.js';
import { findProjectRoot } from '../native/binding.js';
import { BridgeHostError } from './bridge.js';

export type { BridgeEffectiveConfig, BridgeProcessConfig } from '../../../native/index.js';

/** Environment variable naming the `droidway-bridge` executable to run instead of the built one. */
export const BRIDGE_EXECUTABLE_ENV = 'DROIDWAY_BRIDGE_PATH';

/** Longest line accepted from the bridge process (stats of 256 clients fit easily). */
const MAX_LINE = 1024 * 1024;
/** How long `stats()` waits for an answer. */
const STATS_TIMEOUT_MS = 3000;
/** How long `stop()` waits for the process before it kills it. */
const STOP_TIMEOUT_MS = 3000;

/**
 * Where the built `droidway-bridge` is (or `DROIDWAY_BRIDGE_PATH`). In a packaged app it is
 * unpacked beside the asar (electron-builder's `asarUnpack`): nothing runs from inside one.
 */
export function bridgeExecutablePath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[BRIDGE_EXECUTABLE_ENV];
  if (explicit) return explicit;
  const built = join(findProjectRoot(), 'native/build/bridge-process/droidway-bridge');
  return built.replace(`${sep}app.asar${sep}`, `${sep}app.asar.unpacked${sep}`);
}

/** One end of a bridge process, as kept for the status. */
export interface BridgeProcessEnd {
  /** ISO time the process ended. */
  at: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ISO time a new process was started, or null when none was (stopped, or too many ends). */
  restartedAt: string | null;
  /** One sentence: "bridge process ended by signal SIGKILL, restarted at …". */
  summary: string;
}

/** Restart policy of `BridgeProcess`. */
export interface BridgeRestartPolicy {
  /** Ends within one minute after which no restart is tried (default 5). */
  maxPerMinute?: number;
  /** Delay before the n-th consecutive restart, the last one repeating (default 0, 250, 1000 ms). */
  backoffMs?: readonly number[];
}

/** Options of `BridgeProcess.start`. */
export interface BridgeProcessOptions {
  /** The configuration line (the bridge checks it; `runAsUid/Gid` are required when root). */
  config: BridgeProcessConfig;
  /** The executable; default `bridgeExecutablePath()`. */
  executable?: string;
  /** Every event of every process, in order (a restarted process starts with a new 'ready'). */
  onEvent?: (event: BridgeEvent) => void;
  /** Called when a running process ended on its own, after the restart decision. */
  onEnd?: (end: BridgeProcessEnd) => void;
  restart?: BridgeRestartPolicy;
  /** Lines the process writes to stderr (libwayland's warnings). */
  onStderr?: (line: string) => void;
}

/** What the ready line adds to the native 'ready' event. */
type ReadyLine = Extract<BridgeEvent, { type: 'ready' }> & {
  pid: number;
  config: BridgeEffectiveConfig;
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A supervised bridge process; see the module doc. */
export class BridgeProcess {
  /** Resolves with the globals offered by the first process; rejects if it never got ready. */
  readonly ready: Promise<{ interface: string; version: number }[]>;
  readonly socketPath: string;
  readonly #options: BridgeProcessOptions;
  readonly #executable: string;
  readonly #maxPerMinute: number;
  readonly #backoff: readonly number[];
  #child: ChildProcess | null = null;
  #pid: number | null = null;
  #effective: BridgeEffectiveConfig | null = null;
  #everReady = false;
  #stopping = false;
  #consecutive = 0;
  readonly #ends: BridgeProcessEnd[] = [];
  #settle: {
    resolve: (g: { interface: string; version: number }[]) => void;
    reject: (e: Error) => void;
  } | null = null;
  #pendingStats: { resolve: (s: BridgeStats) => void; reject: (e: Error) => void }[] = [];
  #restartTimer: NodeJS.Timeout | null = null;
  #exited: Promise<void> = Promise.resolve();
  #readyAt: number | null = null;
  #serving = false;

  private constructor(options: BridgeProcessOptions) {
    if (!isObject(options) || !isObject(options.config)) {
      throw new TypeError('options.config must be an object');
    }
    this.#options = options;
    this.socketPath = options.config.socketPath;
    this.#executable = options.executable ?? bridgeExecutablePath();
    this.#maxPerMinute = options.restart?.maxPerMinute ?? 5;
    this.#backoff = options.restart?.backoffMs ?? [0, 250, 1000];
    this.ready = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // A caller that never awaits `ready` must not get an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Spawns the first process; await `ready` before pointing guests at the socket. */
  static start(options: BridgeProcessOptions): BridgeProcess {
    const bridge = new BridgeProcess(options);
    bridge.#spawn();
    return bridge;
  }

  /** The current process's pid (null between a death and its restart, or once stopped). */
  get pid(): number | null {
    return this.#pid;
  }

  /** Whether a process runs and has reported 'ready' (false while one restarts). */
  get serving(): boolean {
    return this.#serving;
  }

  /** The configuration the process reported in its last 'ready' line. */
  get effectiveConfig(): BridgeEffectiveConfig | null {
    return this.#effective;
  }

  /** Every end of a process that ran, oldest first (at most 20 kept). */
  get ends(): readonly BridgeProcessEnd[] {
    return this.#ends;
  }

  /** Milliseconds from the last spawn to its 'ready' line. */
  get readyMs(): number | null {
    return this.#readyAt;
  }

  #spawn(): void {
    this.#removeStaleSocket();
    const startedAt = performance.now();
    const child = spawn(this.#executable, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    this.#pid = child.pid ?? null;
    let readyHere = false;
    child.stdin.on('error', () => undefined); // a dead process: its exit says why
    child.stdin.write(`${JSON.stringify(this.#options.config)}\n`);
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (line.length > MAX_LINE) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (!isObject(parsed) || typeof parsed.type !== 'string') return;
      if (parsed.type === 'stats') {
        this.#pendingStats.shift()?.resolve(parsed.stats as BridgeStats);
        return;
      }
      const event = parsed as unknown as BridgeEvent;
      if (event.type === 'ready') {
        const ready = parsed as unknown as ReadyLine;
        readyHere = true;
        this.#serving = true;
        this.#everReady = true;
        this.#consecutive = 0;
        this.#effective = ready.config;
        this.#readyAt = performance.now() - startedAt;
        this.#settle?.resolve(ready.globals);
        this.#settle = null;
        this.#options.onEvent?.({ type: 'ready', globals: ready.globals });
        return;
      }
      if (event.type === 'error' && !this.#everReady) {
        this.#settle?.reject(new BridgeHostError(event.message));
        this.#settle = null;
      }
      this.#options.onEvent?.(event);
    });
    const stderr = createInterface({ input: child.stderr, crlfDelay: Infinity });
    stderr.on('line', (line) => this.#options.onStderr?.(line.slice(0, 1000)));
    this.#exited = new Promise((resolve) => {
      child.once('error', (e) => {
        this.#settle?.reject(new BridgeHostError(`${this.#executable}: ${e.message}`));
        this.#settle = null;
        resolve();
      });
      child.once('close', (code, signal) => {
        lines.close();
        this.#onExit(child, code, signal, readyHere);
        resolve();
      });
    });
  }

  #onExit(
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    readyHere: boolean,
  ): void {
    if (this.#child === child) {
      this.#child = null;
      this.#pid = null;
      this.#serving = false;
    }
    for (const pending of this.#pendingStats.splice(0)) {
      pending.reject(new Error('the bridge process ended'));
    }
    if (!readyHere) {
      this.#settle?.reject(
        new BridgeHostError(
          `the bridge process ended before it was ready (${signal ?? `exit code ${code}`})`,
        ),
      );
      this.#settle = null;
    }
    if (this.#stopping) return;
    this.#removeStaleSocket();
    // Exit 0/1/2: stopped, the host was lost, or it could not set up; a restart would not help.
    // A signal or any other status is a crash (or the memory cap): restart.
    const crashed = signal !== null || (code !== 0 && code !== 1 && code !== 2);
    const now = Date.now();
    const recent = this.#ends.filter((e) => now - Date.parse(e.at) < 60_000).length;
    const restart = readyHere && crashed && recent < this.#maxPerMinute;
    const delay = this.#backoff[Math.min(this.#consecutive, this.#backoff.length - 1)] ?? 0;
    const restartedAt = restart ? new Date(now + delay).toISOString() : null;
    const how = signal !== null ? `by signal ${signal}` : `with exit code ${code}`;
    let summary = `bridge process ${child.pid} ended ${how}`;
    if (restart) summary += `, restarted at ${restartedAt}`;
    else if (readyHere && crashed) summary += `, not restarted: ${recent + 1} ends within a minute`;
    const end: BridgeProcessEnd = {
      at: new Date(now).toISOString(),
      pid: child.pid ?? 0,
      code,
      signal,
      restartedAt,
      summary,
    };
    this.#ends.push(end);
    if (this.#ends.length > 20) this.#ends.shift();
    if (restart) {
      this.#consecutive++;
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = null;
        if (!this.#stopping) this.#spawn();
      }, delay);
    }
    this.#options.onEnd?.(end);
  }

  /** A socket left behind by a process that could not remove it (killed, or confined). */
  #removeStaleSocket(): void {
    try {
      if (lstatSync(this.socketPath).isSocket()) unlinkSync(this.socketPath);
    } catch {
      // Absent: nothing to remove.
    }
  }

  /** Per-client counters of the current process. Rejects when no process runs. */
  stats(): Promise<BridgeStats> {
    const child = this.#child;
    if (child === null || child.stdin === null || !child.stdin.writable) {
      return Promise.reject(new Error('no bridge process is running'));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#pendingStats.indexOf(entry);
        if (i >= 0) this.#pendingStats.splice(i, 1);
        reject(new Error('the bridge process did not answer'));
      }, STATS_TIMEOUT_MS);
      const entry = {
        resolve: (s: BridgeStats) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#pendingStats.push(entry);
      child.stdin!.write('stats\n');
    });
  }

  /**
   * Stops the process (guests disconnected), waits for it (killing it after 3 s), removes the
   * socket. No restart follows. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    const child = this.#child;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      child.stdin?.end('stop\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    if (existsSync(this.socketPath)) this.#removeStaleSocket();
  }
}
