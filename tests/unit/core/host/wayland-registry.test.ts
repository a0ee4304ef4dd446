import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchWaylandGlobals } from '../../../../electron/core/host/wayland-registry.js';
import { encodeMessage, encodeRequest } from '../../../../electron/core/host/wayland-wire.js';

/**
 * A stand-in compositor on a real Unix socket: it checks the client's two requests, then answers
 * with whatever bytes the test gives.
 */
let dir: string;
let server: Server | null = null;
let received: Buffer[] = [];
const sockets = new Set<Socket>();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'droidway-wl-'));
  received = [];
});

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise<void>((resolve) =>
    server === null ? resolve() : server.close(() => resolve()),
  );
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

const LE = endianness() === 'LE';
const REQUESTS = Buffer.concat([encodeRequest(1, 1, [2]), encodeRequest(1, 0, [3])]);

function serve(reply: (socket: Socket) => void): Promise<string> {
  const path = join(dir, 'wayland-test');
  server = createServer((socket) => {
    sockets.add(socket);
    let got = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      received.push(chunk);
      if (got.length === REQUESTS.length) reply(socket);
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server!.listen(path, () => resolve(path)));
}

const global = (name: number, iface: string, version: number): Buffer =>
  encodeMessage(2, 0, [name, iface, version]);
const done = encodeMessage(3, 0, [1]);

describe('fetchWaylandGlobals', () => {
  it('sends get_registry(2) and sync(3) and returns the globals announced before done', async () => {
    const path = await serve((socket) =>
      socket.write(
        Buffer.concat([
          global(1, 'wl_compositor', 5),
          global(2, 'wl_shm', 1),
          global(3, 'xdg_wm_base', 5),
          encodeMessage(1, 1, [9]),
          done,
        ]),
      ),
    );
    const globals = await fetchWaylandGlobals(path, { timeoutMs: 2000 });
    expect(Buffer.concat(received)).toEqual(REQUESTS);
    // The client hangs up once done arrived: the compositor side sees the connection end.
    await Promise.all(
      [...sockets].map((s) => (s.readableEnded ? null : new Promise((r) => s.once('end', r)))),
    );
    expect(globals.map((g) => g.interface)).toEqual(['wl_compositor', 'wl_shm', 'xdg_wm_base']);
  });

  it('reassembles events split across writes', async () => {
    const path = await serve((socket) => {
      const bytes = Buffer.concat([global(1, 'wl_shm', 1), done]);
      let at = 0;
      const step = (): void => {
        if (at >= bytes.length) return;
        socket.write(bytes.subarray(at, at + 3));
        at += 3;
        setTimeout(step, 1);
      };
      step();
    });
    expect(await fetchWaylandGlobals(path, { timeoutMs: 2000 })).toEqual([
      { name: 1, interface: 'wl_shm', version: 1 },
    ]);
  });

  it('drops a global removed before done', async () => {
    const path = await serve((socket) =>
      socket.write(
        Buffer.concat([
          global(1, 'wl_shm', 1),
          global(2, 'wl_seat', 7),
          encodeMessage(2, 1, [2]),
          done,
        ]),
      ),
    );
    expect((await fetchWaylandGlobals(path)).map((g) => g.interface)).toEqual(['wl_shm']);
  });

  it('reports wl_display.error with its message', async () => {
    const path = await serve((socket) =>
      socket.write(encodeMessage(1, 0, [1, 1, 'invalid object 2'])),
    );
    await expect(fetchWaylandGlobals(path)).rejects.toMatchObject({
      code: 'EWAYLAND_DISPLAY_ERROR',
      message: expect.stringContaining('invalid object 2'),
    });
  });

  it('rejects malformed events from the compositor', async () => {
    const bad = encodeRequest(2, 0, []);
    bad[LE ? 6 : 5] = 6; // size 6: not a multiple of 4
    const path = await serve((socket) => socket.write(bad));
    await expect(fetchWaylandGlobals(path)).rejects.toMatchObject({ code: 'EWAYLAND_PROTOCOL' });
  });

  it('rejects an event for an object it never created', async () => {
    const path = await serve((socket) => socket.write(encodeMessage(7, 0, [1])));
    await expect(fetchWaylandGlobals(path)).rejects.toMatchObject({
      code: 'EWAYLAND_PROTOCOL',
      message: expect.stringContaining('object 7'),
    });
  });

  it('rejects a compositor that closes mid-message', async () => {
    const path = await serve((socket) => socket.end(global(1, 'wl_shm', 1).subarray(0, 10)));
    await expect(fetchWaylandGlobals(path)).rejects.toMatchObject({
      code: 'EWAYLAND_CLOSED',
      message: expect.stringContaining('middle of a message'),
    });
  });

  it('times out when the compositor never answers', async () => {
    const path = await serve(() => undefined);
    const started = Date.now();
    await expect(fetchWaylandGlobals(path, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops reading past the byte cap', async () => {
    const path = await serve((socket) => {
      const many = Buffer.concat(
        Array.from({ length: 200 }, (_, i) => global(i + 1, 'wl_output', 4)),
      );
      socket.write(many);
    });
    await expect(fetchWaylandGlobals(path, { maxBytes: 1024 })).rejects.toMatchObject({
      code: 'EWAYLAND_TOO_LARGE',
    });
  });

  it('passes on the socket error when nothing listens', async () => {
    await expect(fetchWaylandGlobals(join(dir, 'nobody'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
