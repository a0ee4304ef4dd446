/**
 * The session host's fd channel (`exec.sock` beside the control socket): the way a desktop user
 * runs Droidway's guest commands and reads its guest's files without root, and without the root
 * host ever reading guest bytes on the user's behalf.
 *
 * One connection carries one request and one answer, each a single `SCM_RIGHTS` message (JSON of
 * at most 64 KiB plus fds), sent and received by the native module on the raw socket fds (Node's
 * streams never read this socket, so no byte can be taken from under the native read):
 *
 *     → {"op":"exec","argv":[…],"timeoutMs":N}        + [stdin, stdout, stderr]
 *     ← {"ok":true,"value":{"exitCode":0,"signal":null}}
 *     → {"op":"open-data","path":"/data/app/…/base.apk"}
 *     ← {"ok":true,"value":{"size":N}}                 + [fd, read-only]
 *     ← {"ok":false,"error":{"code":"…","message":"…"}}
 *
 * `exec` hands the caller's three fds to `lxc-attach` as its stdio: an APK streams in from the
 * user's side (a socket the user writes its staged, checked copy into) and the guest's answer goes
 * straight back to the user, who parses it. The peer's uid (`SO_PEERCRED`) must own the session;
 * a non-root owner may run only `guest-verbs.ts`' commands. `open-data` opens a file under the
 * guest's `/data` (the host twin, checked component by component, opened `O_NOFOLLOW`, regular
 * files only) read-only and passes the fd.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants as fsc, fstatSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { validateFdChannelRequest } from '../../generated/fd-channel.js';
import type { PeerCredentials } from '../../../native/index.js';
import { closeFd, recvMessage, sendMessage, socketPair } from '../native/fd.js';
import { guestVerbRefusal } from './guest-verbs.js';
import type { InstancePaths } from './instance-paths.js';
import { GUEST_PATH } from './lxc.js';
import { RuntimeError, isErrno } from './runtime-errors.js';

/** Name of the fd channel's socket in the control folder. */
export const FD_CHANNEL_SOCKET = 'exec.sock';
/** Largest request or answer message. */
const MAX_MESSAGE = 64 * 1024;
/** How long either side waits for the other's message. */
const MESSAGE_TIMEOUT_MS = 10_000;
/** Largest file `open-data` hands out (an APK's cap). */
const MAX_DATA_FILE_BYTES = 4 * 1024 * 1024 * 1024;

/** A request on the fd channel. */
export type FdChannelRequest =
  { op: 'exec'; argv: string[]; timeoutMs?: number } | { op: 'open-data'; path: string };

/** Parses one request message; throws `CONTROL_BAD_REQUEST` saying what is wrong. */
export function parseFdChannelRequest(bytes: Uint8Array): FdChannelRequest {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new RuntimeError('CONTROL_BAD_REQUEST', 'the request is not JSON');
  }
  const validateRequest = validateFdChannelRequest as ValidateFunction<FdChannelRequest>;
  if (!validateRequest(value)) {
    const e = validateRequest.errors?.[0];
    throw new RuntimeError(
      'CONTROL_BAD_REQUEST',
      `the request is invalid${e ? `: ${e.instancePath || '/'} ${e.message ?? ''}` : ''}`,
    );
  }
  return value;
}

/** What the host does for a valid request (the session host supplies the real one). */
export interface FdChannelHandlers {
  /** Runs `argv` in the guest with `stdio` as its stdin/stdout/stderr; resolves with its end. */
  exec(
    argv: string[],
    stdio: [number, number, number],
    timeoutMs: number,
  ): Promise<{ exitCode: number | null; signal: string | null }>;
  /** Opens a guest `/data` file read-only; resolves with its fd (handed over) and size. */
  openData(guestPath: string): Promise<{ fd: number; size: number }>;
}

/** Options of `FdChannelServer.listen`. */
export interface FdChannelServerOptions {
  socketPath: string;
  peerCredentials: (fd: number) => PeerCredentials;
  /** Uids allowed to connect (the session's owner and root). */
  allowedUids: readonly number[];
  /** Who owns the socket file (so the owner can connect); default this process's uid. */
  socketOwner?: number;
  handlers: FdChannelHandlers;
}

type Answer =
  | { ok: true; value: unknown; fds?: number[] }
  | { ok: false; error: { code: string; message: string } };

/** The listening fd channel of one session host. */
export class FdChannelServer {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** Listens on `socketPath` (mode 0600, owned by `socketOwner`); the folder must exist. */
  static async listen(options: FdChannelServerOptions): Promise<FdChannelServer> {
    await fs.rm(options.socketPath, { force: true });
    const server = net.createServer({ pauseOnConnect: true });
    server.maxConnections = 16;
    const channel = new FdChannelServer(server);
    server.on('connection', (socket) => {
      channel.#sockets.add(socket);
      socket.on('close', () => channel.#sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      void serve(socket, options).finally(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await fs.chmod(options.socketPath, 0o600);
    const owner = options.socketOwner;
    if (owner !== undefined && owner !== process.getuid?.()) {
      await fs.chown(options.socketPath, owner, -1);
    }
    return channel;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function rawFd(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no fd');
  return fd;
}

async function serve(socket: net.Socket, options: FdChannelServerOptions): Promise<void> {
  let fd: number;
  let peer: PeerCredentials;
  try {
    fd = rawFd(socket);
    peer = options.peerCredentials(fd);
  } catch {
    return;
  }
  const answer = async (a: Answer): Promise<void> => {
    const body = a.ok ? { ok: true, value: a.value } : { ok: false, error: a.error };
    const fds = a.ok ? (a.fds ?? []) : [];
    try {
      await sendMessage(fd, Buffer.from(JSON.stringify(body)), fds, {
        timeoutMs: MESSAGE_TIMEOUT_MS,
      });
    } catch {
      // The peer left; nothing to tell.
    }
  };
  if (!options.allowedUids.includes(peer.uid)) {
    await answer({
      ok: false,
      error: { code: 'CONTROL_PEER_REFUSED', message: `uid ${peer.uid} may not use this session` },
    });
    return;
  }
  let received: { data: Uint8Array; fds: number[] };
  try {
    const m = await recvMessage(fd, {
      maxBytes: MAX_MESSAGE,
      maxFds: 3,
      timeoutMs: MESSAGE_TIMEOUT_MS,
    });
    received = { data: m.data, fds: m.fds };
  } catch {
    return;
  }
  try {
    const request = parseFdChannelRequest(received.data);
    if (request.op === 'exec') {
      if (received.fds.length !== 3)
        throw new RuntimeError(
          'CONTROL_BAD_REQUEST',
          'exec needs exactly three fds (stdin, stdout, stderr)',
        );
      if (peer.uid !== 0) {
        const refusal = guestVerbRefusal(request.argv);
        if (refusal !== null) throw new RuntimeError('CONTROL_PEER_REFUSED', refusal);
      }
      const [i, o, e] = received.fds as [number, number, number];
      const value = await options.handlers.exec(
        request.argv,
        [i, o, e],
        request.timeoutMs ?? 60_000,
      );
      await answer({ ok: true, value });
    } else {
      if (received.fds.length !== 0)
        throw new RuntimeError('CONTROL_BAD_REQUEST', 'open-data takes no fds');
      const opened = await options.handlers.openData(request.path);
      try {
        await answer({ ok: true, value: { size: opened.size }, fds: [opened.fd] });
      } finally {
        closeFd(opened.fd);
      }
    }
  } catch (e) {
    await answer({
      ok: false,
      error: {
        code:
          (e as { code?: unknown }).code === undefined
            ? 'CONTROL_BAD_REQUEST'
            : String((e as { code: unknown }).code),
        message: (e as Error).message ?? String(e),
      },
    });
  } finally {
    for (const f of received.fds) {
      try {
        closeFd(f);
      } catch {
        // Already handed over and closed.
      }
    }
  }
}

/**
 * Runs `lxc-attach` for `paths`' container with `stdio` as the attached program's stdio (the
 * host never reads it), the environment cleared and `PATH` set; kills it after `timeoutMs`.
 */
export function attachWithFds(
  paths: Pick<InstancePaths, 'lxcPath' | 'containerName'>,
  argv: readonly string[],
  stdio: [number, number, number],
  timeoutMs: number,
  guestPath: string = GUEST_PATH,
): Promise<{ exitCode: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'lxc-attach',
      [
        '-P',
        paths.lxcPath,
        '-n',
        paths.containerName,
        '--clear-env',
        '-v',
        `PATH=${guestPath}`,
        '--',
        ...argv,
      ],
      { stdio, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RuntimeError('LXC_TOOL_FAILED', `lxc-attach could not be run: ${e.message}`));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal });
    });
  });
}

/**
 * Opens guest path `guestPath` (absolute, under `/data`) in `dataDir` (the guest's `/data` on the
 * host) read-only: every component is checked with `lstat` (no symlink, no `..`), the file is
 * opened `O_NOFOLLOW`, and what was opened must be a regular file of at most 4 GiB.
 */
export async function openGuestData(
  dataDir: string,
  guestPath: string,
): Promise<{ fd: number; size: number }> {
  const refuse = (why: string): never => {
    throw new RuntimeError(
      'CONTROL_BAD_REQUEST',
      `guest path ${JSON.stringify(guestPath.slice(0, 200))} ${why}`,
    );
  };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(guestPath)) refuse('holds a control character');
  const parts = guestPath.split('/').filter((p) => p !== '');
  if (!guestPath.startsWith('/data/') || parts[0] !== 'data') refuse('is not under /data');
  if (parts.some((p) => p === '..' || p === '.')) refuse('has a . or .. component');
  let current = dataDir;
  for (const part of parts.slice(1, -1)) {
    current = path.join(current, part);
    const st = await fs.lstat(current).catch(() => null);
    if (st === null || !st.isDirectory()) refuse('does not name a file in a real folder');
  }
  const file = path.join(current, parts[parts.length - 1]!);
  let fd: number;
  try {
    // A bare fd (not a FileHandle): it is handed over, and must not be closed when collected.
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    return refuse(isErrno(e, 'ELOOP') ? 'is a symlink' : 'cannot be opened');
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.size > MAX_DATA_FILE_BYTES) {
    closeSync(fd);
    refuse('is not a regular file of a usable size');
  }
  return { fd, size: st.size };
}

// --- client ---

/** Where `paths`' fd channel listens. */
export function fdChannelPath(controlDir: string): string {
  return path.join(controlDir, FD_CHANNEL_SOCKET);
}

async function connectPaused(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket();
    // Paused before connecting: Node must never read this socket, the native calls do.
    socket.pause();
    socket.once('error', (e) =>
      reject(
        isErrno(e, 'ENOENT') || isErrno(e, 'ECONNREFUSED')
          ? new RuntimeError('SESSION_NOT_RUNNING', 'no session is running for this instance')
          : new RuntimeError('CONTROL_UNAVAILABLE', `the session cannot be reached: ${e.message}`),
      ),
    );
    socket.connect(socketPath, () => resolve(socket));
  });
}

/** Sends `request` with `fds` and waits for the answer (and the fds it carries). */
export async function fdChannelCall(
  socketPath: string,
  request: FdChannelRequest,
  fds: number[],
  answerTimeoutMs: number,
  afterSend: () => void = () => {},
): Promise<{ value: unknown; fds: number[] }> {
  const socket = await connectPaused(socketPath);
  try {
    const fd = rawFd(socket);
    try {
      await sendMessage(fd, Buffer.from(JSON.stringify(request)), fds, {
        timeoutMs: MESSAGE_TIMEOUT_MS,
      });
    } finally {
      afterSend();
    }
    const m = await recvMessage(fd, {
      maxBytes: MAX_MESSAGE,
      maxFds: 1,
      timeoutMs: answerTimeoutMs,
    });
    if (m.data.byteLength === 0)
      throw new RuntimeError(
        'CONTROL_UNAVAILABLE',
        'the session host closed the channel without an answer',
      );
    let answer: unknown;
    try {
      answer = JSON.parse(Buffer.from(m.data).toString('utf8'));
    } catch {
      m.fds.forEach((f) => closeFd(f));
      throw new RuntimeError(
        'CONTROL_UNAVAILABLE',
        'the session host answered something that is not JSON',
      );
    }
    const a = answer as {
      ok?: unknown;
      value?: unknown;
      error?: { code?: unknown; message?: unknown };
    };
    if (a.ok !== true) {
      m.fds.forEach((f) => closeFd(f));
      const code = typeof a.error?.code === 'string' ? a.error.code : 'CONTROL_UNAVAILABLE';
      const error = new RuntimeError(
        code as ConstructorParameters<typeof RuntimeError>[0],
        typeof a.error?.message === 'string' ? a.error.message : 'the session host refused',
      );
      throw error;
    }
    return { value: a.value, fds: m.fds };
  } finally {
    socket.destroy();
  }
}

/** A socket pair whose first end is wrapped for this process and second end is a bare fd. */
export function streamPair(): { local: net.Socket; remoteFd: number } {
  const [a, b] = socketPair('stream');
  return { local: new net.Socket({ fd: a, readable: true, writable: true }), remoteFd: b };
}
