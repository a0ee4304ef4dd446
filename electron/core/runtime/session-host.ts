/**
 * The session host: the process that owns a running session (in the desktop app, Electron main;
 * headless, the detached `session-host-main.js`). It claims the instance (a live host elsewhere
 * is refused, a crashed one's leftovers are cleaned), records itself in the runtime folder,
 * runs the session's display bridge (`session-bridge.ts`; its socket folder is mounted at
 * `/run/xdg` in the guest), answers the control socket, and, once the session has ended, stops
 * the bridge, closes the socket and removes its own files.
 */
import fs from 'node:fs/promises';
import type { PeerCredentials } from '../../../native/index.js';
import type { ControlRequest } from './control-protocol.js';
import { collectHostView } from '../inspect/host-view.js';
import { ControlServer } from './control-socket.js';
import { attachWithFds, fdChannelPath, FdChannelServer, openGuestData } from './fd-channel.js';
import { guestVerbRefusal } from './guest-verbs.js';
import { GUEST_COMMAND_PATH } from './lxc.js';
import { RuntimeError } from './runtime-errors.js';
import { currentHostRecord, writeHostRecord } from './host-record.js';
import { reclaimInstance, type ReclaimResult } from './instance-cleanup.js';
import { Session, type SessionOptions, type SessionStatus } from './session.js';
import {
  SessionBridge,
  bridgeGuestEnvironment,
  bridgeMountEntry,
  prepareUserBridgeFolder,
  type SessionBridgeConfig,
} from './session-bridge.js';
import type { SessionState, SessionStateChange } from './session-state.js';

/** Options of `SessionHost.start`. */
export interface SessionHostOptions {
  session: SessionOptions;
  /** `SO_PEERCRED` reader for the control socket (the native module's `peerCredentials`). */
  peerCredentials: (fd: number) => PeerCredentials;
  /** Uids the control socket answers; default this process's uid and root. */
  allowedUids?: readonly number[];
  /** Progress lines for the host log. */
  log?: (line: string) => void;
  /** The display bridge; default off ("no host display was given"). */
  bridge?: SessionBridgeConfig;
  /**
   * A desktop user's session: its bridge runs on the user's side, so the socket folder is
   * prepared for that user (owner `uid`, group `gid`: the guest compositor's, setgid).
   */
  userBridgeFolder?: { uid: number; gid: number };
  /**
   * The uid owning the session (`paths.owner`): with the host running as root for a desktop user,
   * the control socket and the fd channel are that user's, and its guest commands are limited to
   * `guest-verbs.ts`' set. Default the instance paths' owner.
   */
  owner?: number;
}

/** A host owning one session; see the module doc. */
export class SessionHost {
  readonly session: Session;
  /** The session's display bridge (possibly off). */
  readonly bridge: SessionBridge;
  /** What claiming the instance found (a stale session it cleaned, or a free instance). */
  readonly reclaimed: ReclaimResult;
  readonly #server: ControlServer;
  readonly #done: Promise<SessionState>;

  private constructor(
    session: Session,
    bridge: SessionBridge,
    server: ControlServer,
    reclaimed: ReclaimResult,
    done: Promise<SessionState>,
  ) {
    this.session = session;
    this.bridge = bridge;
    this.#server = server;
    this.reclaimed = reclaimed;
    this.#done = done;
  }

  /**
   * Claims the instance, opens the control socket and starts the session. Resolves once the
   * guest runs; rejects with the session's start error (`SESSION_ALREADY_RUNNING` when another
   * live host owns the instance), after the host's files are removed.
   */
  static async start(options: SessionHostOptions): Promise<SessionHost> {
    const log = options.log ?? (() => {});
    const paths = options.session.paths;
    const reclaimed = await reclaimInstance(paths, { cgroupRoot: options.session.cgroupRoot });
    if (reclaimed.kind === 'stale') {
      log(`cleaned a stale session of ${paths.name}: ${JSON.stringify(reclaimed.report)}`);
    }
    await fs.mkdir(paths.runtimeDir, { recursive: true, mode: 0o711 });
    await fs.chmod(paths.runtimeDir, 0o711);
    await writeHostRecord(paths.hostRecord, await currentHostRecord(paths.name));
    // Started before the container so the socket is there when the guest's clients look.
    const bridge = await SessionBridge.start({
      paths,
      config: options.bridge ?? { enabled: false, reason: 'no host display was given' },
      log,
    });
    if (options.userBridgeFolder !== undefined)
      await prepareUserBridgeFolder(paths, options.userBridgeFolder);
    // The runtime's /run tmpfs comes before its extra entries, so /run/xdg lands on top of it.
    const session = new Session({
      ...options.session,
      extraMountEntries: [...(options.session.extraMountEntries ?? []), bridgeMountEntry(paths)],
      environment: { ...options.session.environment, ...bridgeGuestEnvironment() },
    });
    session.on('state', (c) =>
      log(`state ${c.from.name} -> ${c.to.name}${c.to.reason ? ` (${c.to.reason})` : ''}`),
    );
    const owner = options.owner ?? paths.owner;
    const allowedUids = options.allowedUids ?? [...new Set([owner, process.getuid?.() ?? 0, 0])];
    let server: ControlServer;
    let channel: FdChannelServer;
    try {
      server = await ControlServer.listen({
        socketPath: paths.controlSocket,
        peerCredentials: options.peerCredentials,
        allowedUids,
        owner,
        handler: (request, peer) => handle(session, bridge, request, peer),
      });
      channel = await FdChannelServer.listen({
        socketPath: fdChannelPath(paths.controlDir),
        peerCredentials: options.peerCredentials,
        allowedUids,
        socketOwner: owner,
        handlers: {
          exec: (argv, stdio, timeoutMs) => {
            session.expectRunning('run a command in');
            return attachWithFds(paths, argv, stdio, timeoutMs, GUEST_COMMAND_PATH);
          },
          openData: (guestPath) => openGuestData(paths.guestDataDir, guestPath),
        },
      });
    } catch (e) {
      await bridge.stop('the control socket could not be opened');
      await removeHostFiles(options.session);
      throw e;
    }
    // Every change into stopped/error after this point is the end of the one run this host owns.
    const ended = new Promise<SessionState>((resolve) => {
      const listener = (change: SessionStateChange): void => {
        if (change.to.name === 'stopped' || change.to.name === 'error') {
          session.off('state', listener);
          resolve(change.to);
        }
      };
      session.on('state', listener);
    });
    const done = ended.then(async (final) => {
      await bridge.stop(`the session ended (${final.name})`);
      await channel.close();
      await server.close();
      await removeHostFiles(options.session);
      log(`host done: ${final.name}${final.reason ? ` (${final.reason})` : ''}`);
      return final;
    });
    try {
      await session.start();
    } catch (e) {
      await done;
      throw e;
    }
    return new SessionHost(session, bridge, server, reclaimed, done);
  }

  /** Resolves with the session's final state once the host has closed its socket and files. */
  whenDone(): Promise<SessionState> {
    return this.#done;
  }

  /** Stops the session (if it runs) and resolves once the host is done. */
  async stop(): Promise<SessionState> {
    await this.session.stop();
    return this.#done;
  }

  /** The control socket path. */
  get socketPath(): string {
    return this.#server.socketPath;
  }
}

/** The session record (`session-policy.json` in the data folder), parsed; null when absent. */
async function readRecordFile(paths: { dataDir: string }): Promise<unknown> {
  try {
    const text = await fs.readFile(`${paths.dataDir}/session-policy.json`, 'utf8');
    return text.length > 4 * 1024 * 1024 ? null : (JSON.parse(text) as unknown);
  } catch {
    return null;
  }
}

async function removeHostFiles(options: SessionOptions): Promise<void> {
  const p = options.paths;
  await fs.rm(p.controlDir, { recursive: true, force: true });
  await fs.rm(p.hostRecord, { force: true });
  await fs.rm(p.xdgDir, { recursive: true, force: true });
  await fs.rmdir(p.runtimeDir).catch(() => {});
}

async function handle(
  session: Session,
  bridge: SessionBridge,
  request: ControlRequest,
  peer: PeerCredentials,
): Promise<unknown> {
  const status = (): SessionStatus => ({ ...session.status(), bridge: bridge.status() });
  switch (request.method) {
    case 'status':
      return status();
    case 'stop':
      await session.stop(request.params.timeoutSeconds);
      return status();
    case 'freeze':
      await session.freeze();
      return status();
    case 'unfreeze':
      await session.unfreeze();
      return status();
    case 'bridge-stats':
      return bridge.stats();
    case 'record':
      return readRecordFile(session.paths);
    case 'host-view': {
      const initPid = session.status().initPid;
      return initPid === null
        ? null
        : collectHostView(initPid, { consoleLog: session.paths.consoleLog });
    }
    case 'attach-exec': {
      const p = request.params;
      if (peer.uid !== 0) {
        const refusal = guestVerbRefusal(p.argv);
        if (refusal !== null) throw new RuntimeError('CONTROL_PEER_REFUSED', refusal);
      }
      const r = await session.attachExec(p.argv, {
        ...(p.env ? { env: p.env } : {}),
        ...(p.stdin !== undefined ? { stdin: Buffer.from(p.stdin, 'base64') } : {}),
        ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
      });
      return {
        exitCode: r.exitCode,
        signal: r.signal,
        stdout: r.stdout.toString('base64'),
        stderr: r.stderr.toString('base64'),
        stdoutTruncated: r.stdoutTruncated,
        stderrTruncated: r.stderrTruncated,
      };
    }
  }
}
