/**
 * A session: one run of an instance's container, driven through `lxc-start -F` as a monitored
 * child. The session owns the whole life of that run:
 *
 * - start: check the rootfs, clean what an earlier run left, write the config (with the runtime's
 *   mounts and the seccomp profile) into the instance's LXC folder, spawn `lxc-start -F`, and
 *   wait for the guest's init to write its ready marker into the host folder bind-mounted at
 *   `/run/droidway` (a plain file on the host: no attach, no polling of LXC);
 * - the monitored child's exit is the container's death: the session notices it at once, cleans
 *   up and moves to `stopped` (the guest shut down, or a stop was asked) or `error` (the init was
 *   killed or failed), with the reason from LXC's log;
 * - every stop, crash and failed start cleans the container's processes, cgroups, mounts and
 *   runtime files before the final state is announced, so a listener that sees `stopped` sees a
 *   clean host.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, readlinkSync, watch, type FSWatcher } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { releaseAndroidMounts } from './android-mounts.js';
import { type CleanupReport } from './host-cleanup.js';
import { cleanupContainer, lxcTargetOf } from './instance-cleanup.js';
import type { InstancePaths } from './instance-paths.js';
import {
  lxcAttach,
  lxcFreeze,
  lxcInfo,
  lxcKill,
  lxcStop,
  lxcUnfreeze,
  readLogTail,
  spawnLxcStart,
  type AttachOptions,
  type LxcInfo,
  type LxcMonitor,
  type ToolResult,
} from './lxc.js';
import {
  configRootIds,
  configRootfs,
  parseLxcConfig,
  withRuntimeAdditions,
} from './lxc-config-text.js';
import { checkRootfs } from './rootfs-check.js';
import { CappedLog, DEFAULT_CONSOLE_MAX_BYTES } from './console-log.js';
import {
  prepareSessionStorage,
  splitReadOnlyBinds,
  type HostReadOnlyBind,
  type SessionStorage,
} from './session-storage.js';
import type { SessionBridgeStatus } from './session-bridge.js';
import { RuntimeError, isErrno } from './runtime-errors.js';
import {
  SessionStateMachine,
  type SessionState,
  type SessionStateChange,
} from './session-state.js';

/** How long a start waits for the guest's ready marker by default. */
export const DEFAULT_READY_TIMEOUT_MS = 20_000;
/** How long `stop` lets init shut down before killing it, by default. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;
/** How long after `lxc-stop` the monitored child may take to exit before it is killed. */
const CHILD_EXIT_GRACE_MS = 5_000;
const READY_POLL_MS = 20;

/** What a session is built from. */
export interface SessionOptions {
  paths: InstancePaths;
  /** The full LXC config text (the policy compiler's output); must set `lxc.rootfs.path`. */
  lxcConfig: string;
  /** Seccomp profile text; written beside the config and named by `lxc.seccomp.profile`. */
  seccompProfile?: string;
  /** Extra `lxc.mount.entry` values, e.g. the demo guest's read-only host mounts. */
  extraMountEntries?: readonly string[];
  /** Variables set in the guest init's environment (`lxc.environment`). */
  environment?: Readonly<Record<string, string>>;
  readyTimeoutMs?: number;
  stopTimeoutSeconds?: number;
  /** Where cgroup hierarchies are mounted (tests only). */
  cgroupRoot?: string;
  /**
   * The session's writable layers (see `session-storage.ts`): when given, the config's rootfs
   * must be `paths.rootfsDir`, filled at each start from `storage.rootfsSource`; the console log
   * is capped by `storage.consoleMaxBytes`. Without it the config's rootfs is used as it is.
   */
  storage?: SessionStorage;
}

/** A snapshot for `status`. */
export interface SessionStatus {
  instance: string;
  containerName: string;
  state: SessionState;
  /** Host pid of the container's init while it runs. */
  initPid: number | null;
  /** Pid of the monitored `lxc-start -F`. */
  monitorPid: number | null;
  /** The display bridge, when a session host runs one (see `session-bridge.ts`). */
  bridge?: SessionBridgeStatus;
}

/** How a container's end is judged, from lxc-start's exit and LXC's log. */
export interface ExitVerdict {
  clean: boolean;
  reason: string;
}

/**
 * Judges an unrequested container end: clean when `lxc-start` exited 0 and LXC logged no
 * abnormal end of init (a guest that shut itself down), otherwise not, with the reason
 * (`Child <pid> ended on signal Killed(9)` → "the container's init was killed by signal Killed(9)").
 */
export function classifyExit(
  exit: { exitCode: number | null; signal: NodeJS.Signals | null },
  logTail: string,
): ExitVerdict {
  if (exit.signal !== null)
    return { clean: false, reason: `lxc-start was killed by ${exit.signal}` };
  const lines = logTail.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const bySignal = /Child <\d+> ended on signal (\S+)/.exec(line);
    if (bySignal)
      return { clean: false, reason: `the container's init was killed by signal ${bySignal[1]}` };
    const byError = /Child <\d+> ended on error \((\d+)\)/.exec(line);
    if (byError)
      return { clean: false, reason: `the container's init exited with status ${byError[1]}` };
  }
  if (exit.exitCode !== 0)
    return { clean: false, reason: `lxc-start exited with status ${exit.exitCode}` };
  return { clean: true, reason: 'the guest shut down' };
}

/** One run of an instance's container; see the module doc. Emits `'state'` on every change. */
export class Session extends EventEmitter<{ state: [SessionStateChange] }> {
  readonly paths: InstancePaths;
  readonly #options: SessionOptions;
  readonly #machine = new SessionStateMachine();
  #monitor: LxcMonitor | null = null;
  #exit: { exitCode: number | null; signal: NodeJS.Signals | null } | null = null;
  #initPid: number | null = null;
  #starting: Promise<void> | null = null;
  #ending: Promise<void> | null = null;
  #lastCleanup: CleanupReport | null = null;
  /** Settles once the guest's console output is all in the console log. */
  #consoleCopied: Promise<void> = Promise.resolve();

  constructor(options: SessionOptions) {
    super();
    this.paths = options.paths;
    this.#options = options;
    this.#machine.on('change', (change) => this.emit('state', change));
  }

  /** The current state. */
  get state(): SessionState {
    return this.#machine.state;
  }

  /** What the last cleanup did (null before the first one). */
  get lastCleanup(): CleanupReport | null {
    return this.#lastCleanup;
  }

  /** A snapshot of the session. */
  status(): SessionStatus {
    return {
      instance: this.paths.name,
      containerName: this.paths.containerName,
      state: this.state,
      initPid: this.#initPid,
      monitorPid: this.#monitor?.pid ?? null,
    };
  }

  /** Resolves with the state once the session is `stopped` or `error` (at once if it is). */
  whenEnded(): Promise<SessionState> {
    const now = this.state;
    if (now.name === 'stopped' || now.name === 'error') return Promise.resolve(now);
    return new Promise((resolve) => {
      const listener = (change: SessionStateChange): void => {
        if (change.to.name === 'stopped' || change.to.name === 'error') {
          this.off('state', listener);
          resolve(change.to);
        }
      };
      this.on('state', listener);
    });
  }

  /**
   * Starts the container and resolves once the guest's init is ready (state `running`). On any
   * failure the container is killed, everything cleaned, the state set to `error` with the
   * reason, and a `RuntimeError` thrown (`ROOTFS_UNSAFE`, `LXC_CONFIG_INVALID`,
   * `LXC_START_FAILED` with the LXC log's tail …). Throws `SESSION_BAD_STATE` unless `stopped`
   * or `error`.
   */
  start(): Promise<void> {
    this.#machine.expect('start', 'stopped', 'error');
    this.#machine.transition('starting');
    this.#exit = null;
    this.#initPid = null;
    const run = this.#doStart();
    this.#starting = run.catch(() => {});
    return run;
  }

  async #doStart(): Promise<void> {
    const target = lxcTargetOf(this.paths);
    try {
      const lines = parseLxcConfig(this.#options.lxcConfig);
      const storage = this.#options.storage;
      if (storage !== undefined) {
        if (configRootfs(lines) !== this.paths.rootfsDir)
          throw new RuntimeError(
            'LXC_CONFIG_INVALID',
            `with session storage the config's rootfs must be ${this.paths.rootfsDir}`,
          );
        await checkRootfs(storage.rootfsSource);
      } else {
        await checkRootfs(configRootfs(lines));
      }
      await this.#prepare(lines);
      // lxc-start hands its stdio to the guest's init (`lxc.console.path = none`): a pipe the
      // host copies into the console log, never the log file itself, keeps host files out of
      // the guest (`policy verify` checks init's fds).
      const sink = new CappedLog(
        this.paths.consoleLog,
        storage?.consoleMaxBytes ?? DEFAULT_CONSOLE_MAX_BYTES,
      );
      try {
        this.#monitor = await spawnLxcStart(target, {
          configFile: this.paths.lxcConfigFile,
          logFile: this.paths.lxcLog,
          outputFd: 'pipe',
        });
      } catch (e) {
        sink.close();
        throw e;
      }
      const monitor = this.#monitor;
      this.#consoleCopied = copyOutput(monitor, sink);
      void monitor.exited.then((exit) => this.#onExit(monitor, exit));
      await this.#waitReady();
      let initPid = findContainerInit(monitor.pid);
      if (initPid === null) {
        const info = await lxcInfo(target);
        if (info.state !== 'RUNNING' || info.initPid === null) {
          throw new RuntimeError(
            'LXC_START_FAILED',
            `the guest is ready but LXC reports it ${info.state}`,
          );
        }
        initPid = info.initPid;
      }
      if (this.state.name !== 'starting')
        throw new RuntimeError('SESSION_BAD_STATE', 'the start was cancelled by a stop');
      this.#initPid = initPid;
      this.#machine.transition('running');
    } catch (e) {
      const error =
        e instanceof RuntimeError
          ? e
          : new RuntimeError('LXC_START_FAILED', `start failed: ${(e as Error).message}`, {
              cause: e,
            });
      await this.#abortStart(error);
      throw error;
    }
  }

  async #prepare(lines: ReturnType<typeof parseLxcConfig>): Promise<void> {
    const p = this.paths;
    for (const dir of [p.dataDir, p.logDir, p.guestDataDir])
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const root = configRootIds(lines);
    await restrictRuntimeDir(p, root);
    this.#lastCleanup = await cleanupContainer(p, {
      stopLiveContainer: true,
      cgroupRoot: this.#options.cgroupRoot,
    });
    if (this.#lastCleanup.problems.length > 0) {
      throw new RuntimeError(
        'LXC_START_FAILED',
        `leftovers of an earlier run could not be cleaned: ${this.#lastCleanup.problems.join('; ')}`,
      );
    }
    await fs.mkdir(p.containerDir, { recursive: true, mode: 0o711 });
    await fs.chmod(p.lxcPath, 0o711);
    let config = this.#options.lxcConfig;
    let extraEntries = this.#options.extraMountEntries ?? [];
    if (this.#options.storage !== undefined) {
      // Read-only binds of host folders are made by the host, outside the guest's user
      // namespace, so their flags are locked inside it (see session-storage.ts); LXC gets the rest.
      const entries = lines.filter((l) => l.key === 'lxc.mount.entry').map((l) => l.value);
      const binds: HostReadOnlyBind[] = splitReadOnlyBinds([...entries, ...extraEntries]).binds;
      await prepareSessionStorage(
        this.#options.storage,
        {
          rootfsDir: p.rootfsDir,
          guestRunDir: p.guestRunDir,
          dataImage: p.dataImage,
          guestDataDir: p.guestDataDir,
          guestDataMount: p.guestDataMount,
        },
        binds,
      );
      // A missing optional source was skipped; LXC would skip it too.
      const moved = new Set(binds.map((b) => b.entry));
      config = config
        .split('\n')
        .filter((line) => {
          const m = /^\s*lxc\.mount\.entry\s*=\s*(.*)$/.exec(line);
          return m === null || !moved.has(m[1]!.trim());
        })
        .join('\n');
      extraEntries = extraEntries.filter((e) => !moved.has(e));
    } else {
      await fs.mkdir(p.guestRunDir, { mode: 0o755 });
      await fs.chown(p.guestRunDir, root.uid, root.gid);
    }
    await openBridgeSocket(p, root);
    // The mask file must be reachable by the guest's root, which mounts it: in the runtime folder.
    await fs.rm(p.maskFile, { force: true });
    await fs.writeFile(p.maskFile, '', { mode: 0o444, flag: 'wx' });
    await fs.chmod(p.maskFile, 0o444);

    const seccomp = this.#options.seccompProfile;
    if (seccomp !== undefined) await fs.writeFile(p.lxcSeccompFile, seccomp, { mode: 0o600 });
    const text = withRuntimeAdditions(config, parseLxcConfig(config), {
      guestRunDir: p.guestRunDir,
      extraMountEntries: extraEntries,
      ...(this.#options.environment ? { environment: this.#options.environment } : {}),
      ...(seccomp !== undefined ? { seccompFile: p.lxcSeccompFile } : {}),
    });
    await fs.writeFile(p.lxcConfigFile, text, { mode: 0o600 });
    // One log per session, the previous one kept: a start failure's tail is about this start.
    for (const log of [p.lxcLog, p.consoleLog]) {
      await fs.rename(log, `${log}.1`).catch((e: unknown) => {
        if (!isErrno(e, 'ENOENT')) throw e;
      });
    }
  }

  async #waitReady(): Promise<void> {
    const timeout = this.#options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const deadline = Date.now() + timeout;
    // inotify on the run dir wakes the wait as soon as init renames its marker into place; the
    // poll stays as the fallback (and notices lxc-start's exit).
    let wake: (() => void) | null = null;
    let watcher: FSWatcher | null = null;
    try {
      watcher = watch(this.paths.guestRunDir, () => wake?.());
      watcher.on('error', () => {});
    } catch {
      // No inotify: polling alone.
    }
    try {
      await this.#pollReady(deadline, timeout, (resolve) => (wake = resolve));
    } finally {
      watcher?.close();
    }
  }

  async #pollReady(
    deadline: number,
    timeout: number,
    onWake: (resolve: () => void) => void,
  ): Promise<void> {
    for (;;) {
      if (this.#exit !== null) {
        const how = this.#exit.signal
          ? `was killed by ${this.#exit.signal}`
          : `exited with status ${this.#exit.exitCode}`;
        throw new RuntimeError('LXC_START_FAILED', `lxc-start ${how} before the guest was ready`, {
          logTail: await readLogTail(this.paths.lxcLog),
        });
      }
      if (this.state.name !== 'starting')
        throw new RuntimeError('SESSION_BAD_STATE', 'the start was cancelled by a stop');
      try {
        await fs.access(this.paths.readyMarker);
        return;
      } catch {
        // Not yet.
      }
      if (Date.now() > deadline) {
        throw new RuntimeError(
          'LXC_START_FAILED',
          `the guest's init did not become ready within ${timeout} ms`,
          {
            logTail: await readLogTail(this.paths.lxcLog),
          },
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, READY_POLL_MS);
        onWake(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async #abortStart(error: RuntimeError): Promise<void> {
    await this.#endContainer(true);
    const report = await this.#cleanup();
    const problems = report.problems.length > 0 ? ` (cleanup: ${report.problems.join('; ')})` : '';
    if (this.state.name === 'stopping') {
      this.#machine.transition('stopped', { reason: `start cancelled${problems}` });
    } else {
      this.#machine.transition('error', {
        code: error.code,
        reason: `${error.message}${problems}`,
      });
    }
  }

  /** Kills (or, when `kill` is false, just awaits) the monitored child, bounded in time. */
  async #endContainer(kill: boolean): Promise<void> {
    const monitor = this.#monitor;
    if (monitor === null || this.#exit !== null) return;
    if (kill) await lxcKill(lxcTargetOf(this.paths)).catch(() => {});
    if (
      (await Promise.race([monitor.exited, sleep(CHILD_EXIT_GRACE_MS).then(() => null)])) === null
    ) {
      monitor.child.kill('SIGKILL');
      await monitor.exited;
    }
  }

  async #cleanup(): Promise<CleanupReport> {
    // Once the container's processes are gone the pipes close; the bound only guards a leak.
    await Promise.race([
      this.#consoleCopied,
      new Promise((resolve) => setTimeout(resolve, CHILD_EXIT_GRACE_MS).unref()),
    ]);
    this.#lastCleanup = await cleanupContainer(this.paths, {
      cgroupRoot: this.#options.cgroupRoot,
    });
    // An Android image's rootfs and binderfs were mounted for this run by `session start`.
    await releaseAndroidMounts(this.paths, this.#lastCleanup);
    this.#monitor = null;
    this.#initPid = null;
    return this.#lastCleanup;
  }

  #onExit(
    monitor: LxcMonitor,
    exit: { exitCode: number | null; signal: NodeJS.Signals | null },
  ): void {
    if (monitor !== this.#monitor) return;
    this.#exit = exit;
    const now = this.state.name;
    // `starting` and `stopping` await the exit themselves; only an unasked end is handled here.
    if ((now === 'running' || now === 'frozen') && this.#ending === null) {
      this.#ending = this.#handleDeath(exit).finally(() => {
        this.#ending = null;
      });
    }
  }

  async #handleDeath(exit: {
    exitCode: number | null;
    signal: NodeJS.Signals | null;
  }): Promise<void> {
    const verdict = classifyExit(exit, await readLogTail(this.paths.lxcLog, 200));
    const report = await this.#cleanup();
    const problems = report.problems.length > 0 ? ` (cleanup: ${report.problems.join('; ')})` : '';
    if (verdict.clean && problems === '') {
      this.#machine.transition('stopped', { reason: verdict.reason });
    } else {
      this.#machine.transition('error', {
        code: 'CONTAINER_DIED',
        reason: `${verdict.reason}${problems}`,
      });
    }
  }

  /**
   * Stops the container: init gets SIGPWR and `timeoutSeconds` to end (default 10), then it is
   * killed; a frozen container is thawed first; a start in progress is cancelled. Resolves once
   * everything is cleaned and the state is `stopped` (or `error` when cleanup left something,
   * named in the reason). Does nothing on a session that is already `stopped` or `error`.
   */
  async stop(
    timeoutSeconds = this.#options.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS,
  ): Promise<void> {
    if (this.#ending !== null) {
      await this.#ending;
      return;
    }
    const now = this.state.name;
    if (now === 'stopped' || now === 'error') return;
    if (now === 'stopping') {
      await this.whenEnded();
      return;
    }
    this.#machine.transition('stopping');
    if (now === 'starting') {
      await lxcKill(lxcTargetOf(this.paths)).catch(() => {});
      await this.#starting;
      return;
    }
    const target = lxcTargetOf(this.paths);
    let how = 'stopped';
    try {
      if (now === 'frozen') await lxcUnfreeze(target);
      if ((await lxcStop(target, timeoutSeconds)) === 'killed')
        how = `killed after ${timeoutSeconds} s`;
    } catch (e) {
      how = `killed (lxc-stop failed: ${(e as Error).message})`;
      await this.#endContainer(true);
    }
    await this.#endContainer(false);
    const report = await this.#cleanup();
    if (report.problems.length > 0) {
      this.#machine.transition('error', {
        code: 'CLEANUP_INCOMPLETE',
        reason: report.problems.join('; '),
      });
    } else {
      this.#machine.transition('stopped', { reason: how });
    }
  }

  /** Freezes every process of the container (`lxc-freeze`); needs `running`. */
  async freeze(): Promise<void> {
    this.#machine.expect('freeze', 'running');
    await lxcFreeze(lxcTargetOf(this.paths));
    if (this.state.name === 'running') this.#machine.transition('frozen');
  }

  /** Thaws the container (`lxc-unfreeze`); needs `frozen`. */
  async unfreeze(): Promise<void> {
    this.#machine.expect('unfreeze', 'frozen');
    await lxcUnfreeze(lxcTargetOf(this.paths));
    if (this.state.name === 'frozen') this.#machine.transition('running');
  }

  /** Runs `argv` in the container (see `lxcAttach`); needs `running`. */
  async attachExec(argv: readonly string[], options: AttachOptions = {}): Promise<ToolResult> {
    this.#machine.expect('run a command in', 'running');
    return lxcAttach(lxcTargetOf(this.paths), argv, options);
  }

  /** What `lxc-info` says about the container now. */
  info(): Promise<LxcInfo> {
    return lxcInfo(lxcTargetOf(this.paths));
  }
}

/**
 * Makes the instance's runtime folder reachable by host root and the guest's root only. With a
 * user namespace LXC mounts the guest's folders as the guest's (mapped) root, which must
 * traverse the folder: it is owned by that id, mode 0700, so no other host user reaches
 * anything under it. Without one (the host-equivalent preset) it stays root's, 0711.
 */
export async function restrictRuntimeDir(
  p: InstancePaths,
  root: { uid: number; gid: number },
): Promise<void> {
  // Parents the runtime creates stay traversable (0711): the mapped root must pass through them.
  await fs.mkdir(path.dirname(p.runtimeDir), { recursive: true, mode: 0o711 });
  await fs.mkdir(p.runtimeDir, { recursive: true, mode: 0o700 });
  if (root.uid === 0) {
    await fs.chmod(p.runtimeDir, 0o711);
    return;
  }
  await fs.chown(p.runtimeDir, root.uid, root.gid);
  await fs.chmod(p.runtimeDir, 0o700);
}

/**
 * Lets every guest id reach the display bridge's socket: the bridge creates it 0600 for host
 * root, which is nobody inside a user namespace, and the guest's clients run as guest root (the
 * demo client) or Android's system uid (its composer). The folder above (the runtime folder,
 * see `restrictRuntimeDir`) keeps other host users away from it.
 */
async function openBridgeSocket(
  p: InstancePaths,
  root: { uid: number; gid: number },
): Promise<void> {
  if (root.uid === 0) return;
  const dir = await fs.lstat(p.xdgDir).catch(() => null);
  if (dir === null || !dir.isDirectory()) return;
  // Listable, as XDG_RUNTIME_DIR is for its clients; still host root's, so not writable.
  await fs.chmod(p.xdgDir, 0o755);
  const st = await fs.lstat(p.bridgeSocket).catch(() => null);
  if (st === null || !st.isSocket()) return;
  await fs.chmod(p.bridgeSocket, 0o666);
}

/** How far past the monitor's pid `findContainerInit` looks. */
const INIT_PID_WINDOW = 64;

/**
 * The host pid of the container's init, found without asking `lxc-info` (a process start on the
 * start path): `lxc-start -F` clones init itself, so init is the monitor's child in another pid
 * namespace, and pids are handed out upwards, so it sits just above the monitor's pid. Null when
 * not found there (pid wrap-around, a busy host): the caller asks LXC then.
 */
export function findContainerInit(monitorPid: number): number | null {
  let ownNs: string;
  try {
    ownNs = readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
  for (let pid = monitorPid + 1; pid <= monitorPid + INIT_PID_WINDOW; pid++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields resume after the command name's last ')': state, then the parent pid.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== monitorPid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) !== ownNs) return pid;
    } catch {
      // Gone meanwhile.
    }
  }
  return null;
}

/** Copies lxc-start's stdout and stderr into `sink`; resolves once both ended and `sink` is closed. */
function copyOutput(monitor: LxcMonitor, sink: CappedLog): Promise<void> {
  const streams = [monitor.child.stdout, monitor.child.stderr].filter(
    (s): s is NonNullable<typeof s> => s !== null,
  );
  return Promise.all(
    streams.map(
      (stream) =>
        new Promise<void>((resolve) => {
          stream.on('data', (chunk: Buffer) => {
            try {
              sink.write(chunk);
            } catch {
              // A full or vanished log must not take the session down: the rest is dropped.
              sink.close();
            }
          });
          stream.once('close', () => resolve());
          stream.once('error', () => resolve());
        }),
    ),
  ).then(() => {
    sink.close();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
