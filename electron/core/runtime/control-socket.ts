/**
 * The session host's control socket: a Unix stream socket in an owner-only folder (0700), the
 * socket itself 0600, and every connection's peer credentials (`SO_PEERCRED`) checked: only the
 * host's own user and root are answered. Requests are newline-delimited JSON (see
 * `control-protocol.ts`), handled one at a time per connection, in order.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { PeerCredentials } from '../../../native/index.js';
import {
  ControlRequestError,
  MAX_REQUEST_BYTES,
  encodeResponse,
  parseControlRequest,
  type ControlRequest,
  type ControlResponse,
} from './control-protocol.js';
import { RuntimeError, isErrno } from './runtime-errors.js';

/** Requests one connection may have waiting for an answer; a client sending more is cut off. */
export const MAX_PENDING_REQUESTS = 32;

/** Answers one validated request; a throw becomes an error response with the error's `code`. */
export type ControlHandler = (request: ControlRequest, peer: PeerCredentials) => Promise<unknown>;

/** Options of `ControlServer.listen`. */
export interface ControlServerOptions {
  /** Socket path; its folder is created 0700 (or must already be ours and 0700). */
  socketPath: string;
  handler: ControlHandler;
  /** `SO_PEERCRED` of a connected socket fd: the native module's `peerCredentials`. */
  peerCredentials: (fd: number) => PeerCredentials;
  /** Uids answered; default the host's own uid and root. */
  allowedUids?: readonly number[];
  /** Connections open at once; more are refused. */
  maxConnections?: number;
  /** A connection silent this long is closed. */
  idleTimeoutMs?: number;
  /**
   * The session's owner when it is not this process's user (a desktop user's session hosted by
   * root): the folder and socket are handed to that uid, so only it (and root) can connect.
   */
  owner?: number;
}

/** A listening control socket. */
export class ControlServer {
  readonly socketPath: string;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #inFlight = 0;
  #drained: (() => void) | null = null;

  private constructor(socketPath: string, server: net.Server) {
    this.socketPath = socketPath;
    this.#server = server;
  }

  /**
   * Creates the socket folder (0700) and the socket (0600) and starts answering. Throws
   * `CONTROL_UNAVAILABLE` when the folder is a symlink or someone else's, or the path is taken
   * by something that is not a socket.
   */
  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    const dir = path.dirname(options.socketPath);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await fs.lstat(dir);
    const self = process.getuid?.() ?? 0;
    if (!st.isDirectory() || (st.uid !== self && st.uid !== options.owner)) {
      throw new RuntimeError('CONTROL_UNAVAILABLE', `${dir} is not a folder owned by this user`);
    }
    await fs.chmod(dir, 0o700);
    try {
      const old = await fs.lstat(options.socketPath);
      if (!old.isSocket())
        throw new RuntimeError(
          'CONTROL_UNAVAILABLE',
          `${options.socketPath} exists and is not a socket`,
        );
      await fs.unlink(options.socketPath);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    const allowed = options.allowedUids ?? [process.getuid?.() ?? 0, 0];
    const server = net.createServer();
    server.maxConnections = options.maxConnections ?? 16;
    const control = new ControlServer(options.socketPath, server);
    server.on('connection', (socket) => control.#accept(socket, options, allowed));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await fs.chmod(options.socketPath, 0o600);
    if (options.owner !== undefined && options.owner !== self) {
      await fs.chown(dir, options.owner, -1);
      await fs.chown(options.socketPath, options.owner, -1);
    }
    return control;
  }

  #accept(socket: net.Socket, options: ControlServerOptions, allowed: readonly number[]): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(options.idleTimeoutMs ?? 5 * 60_000, () => socket.destroy());

    // Answers once and hangs up; further input is drained unread so the socket can finish closing.
    const closeWith = (code: string, message: string): void => {
      socket.removeAllListeners('data');
      socket.resume();
      socket.end(encodeResponse({ id: null, ok: false, error: { code, message } }), () =>
        socket.destroy(),
      );
    };
    const refuse = (message: string): void => closeWith('CONTROL_PEER_REFUSED', message);
    // Node exposes no SO_PEERCRED; the native module reads it from the accepted socket's fd.
    const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
    let peer: PeerCredentials;
    try {
      if (typeof fd !== 'number' || fd < 0) throw new Error('the accepted socket has no fd');
      peer = options.peerCredentials(fd);
    } catch (e) {
      refuse(`peer credentials unavailable: ${(e as Error).message}`);
      return;
    }
    if (!allowed.includes(peer.uid)) {
      refuse(`uid ${peer.uid} may not control this session`);
      return;
    }

    let buffered = '';
    let pending = 0;
    let queue = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (++pending > MAX_PENDING_REQUESTS) {
          closeWith(
            'CONTROL_BAD_REQUEST',
            `more than ${MAX_PENDING_REQUESTS} requests waiting on one connection`,
          );
          return;
        }
        queue = queue.then(async () => {
          await this.#answer(socket, line, peer, options.handler);
          pending--;
        });
      }
      // Characters never outnumber bytes, so this bounds memory; the exact byte cap is checked per line.
      if (buffered.length > MAX_REQUEST_BYTES) {
        closeWith('CONTROL_BAD_REQUEST', `request is longer than ${MAX_REQUEST_BYTES} bytes`);
      }
    });
  }

  async #answer(
    socket: net.Socket,
    line: string,
    peer: PeerCredentials,
    handler: ControlHandler,
  ): Promise<void> {
    if (line.trim() === '' || socket.destroyed) return;
    this.#inFlight++;
    let response: ControlResponse;
    let id: ControlResponse['id'] = null;
    try {
      const request = parseControlRequest(line);
      id = request.id;
      response = { id, ok: true, value: (await handler(request, peer)) ?? null };
    } catch (e) {
      if (e instanceof ControlRequestError) id = e.requestId;
      const code = (e as { code?: unknown }).code;
      response = {
        id,
        ok: false,
        error: {
          code: typeof code === 'string' ? code : 'INTERNAL',
          message: (e as Error).message ?? String(e),
        },
      };
    }
    if (!socket.destroyed) socket.write(encodeResponse(response));
    this.#inFlight--;
    if (this.#inFlight === 0) this.#drained?.();
  }

  /**
   * Stops accepting, lets requests being answered finish (their answers are sent), then closes
   * every connection and removes the socket file.
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    for (const socket of this.#sockets) socket.end();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
    for (const socket of this.#sockets) socket.destroy();
    await fs.unlink(this.socketPath).catch(() => {});
  }
}
