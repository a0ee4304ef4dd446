/**
 * The host side of `policy verify`: things the verifier sets up on the host so the probe can
 * show that the container cannot reach them — a TCP server on 127.0.0.1, an abstract Unix
 * socket, a SysV message queue — and the host facts (namespace inodes, a host process) the
 * comparison needs. Linux only.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import { promisify } from 'node:util';
import { PROBE_NAMESPACES } from './probe-output-schema.js';
import type { ProbeNamespace } from './probe-output.js';
import type { HostFacts } from './verify.js';

const run = promisify(execFile);

/** Error with code `'HOST_FIXTURE_FAILED'`: a fixture could not be created. */
export class HostFixtureError extends Error {
  readonly code = 'HOST_FIXTURE_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'HostFixtureError';
  }
}

/** Live host fixtures; `close()` tears all of them down (idempotent, never rejects). */
export interface HostFixtures {
  tcpPort: number;
  abstractSocket: string;
  ipcKey: number;
  /** `msqid` of the message queue (for `ipcrm -q`). */
  ipcId: number;
  close(): Promise<void>;
}

function listen(
  server: net.Server,
  target: { port: number; host: string } | { path: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/** A server that accepts and drops every connection: a connection alone is the evidence. */
function dropServer(): net.Server {
  return net.createServer((socket) => socket.destroy());
}

/** Key of message queue `id` from /proc/sysvipc/msg (columns: key msqid …). */
async function messageQueueKey(id: number): Promise<number> {
  const table = await readFile('/proc/sysvipc/msg', 'utf8');
  for (const line of table.split('\n').slice(1)) {
    const [key, msqid] = line.trim().split(/\s+/);
    if (msqid === String(id) && key !== undefined && /^-?\d+$/.test(key)) return Number(key);
  }
  throw new HostFixtureError(`message queue ${id} not found in /proc/sysvipc/msg`);
}

async function createMessageQueue(): Promise<{ id: number; key: number }> {
  // ipcmk picks a random key; key 0 would be IPC_PRIVATE, which a lookup in the container would
  // create instead of find, so such a queue is replaced.
  for (let attempt = 0; attempt < 4; attempt++) {
    const { stdout } = await run('ipcmk', ['-Q', '-p', '0600']);
    const match = /id:\s*(\d+)/.exec(stdout);
    if (!match?.[1])
      throw new HostFixtureError(`unexpected ipcmk output: ${stdout.trim().slice(0, 200)}`);
    const id = Number(match[1]);
    try {
      const key = await messageQueueKey(id);
      if (key !== 0) return { id, key };
    } catch (e) {
      await removeMessageQueue(id);
      throw e;
    }
    await removeMessageQueue(id);
  }
  throw new HostFixtureError('ipcmk kept choosing key 0');
}

async function removeMessageQueue(id: number): Promise<void> {
  try {
    await run('ipcrm', ['-q', String(id)]);
  } catch {
    // Already gone (or never created): nothing left to release.
  }
}

/**
 * Creates the host fixtures: a TCP server on 127.0.0.1 (ephemeral port), a listening abstract
 * Unix socket with a random name, and a SysV message queue (via util-linux `ipcmk`). Everything
 * created so far is torn down again when a later step fails. Rejects with `HostFixtureError`.
 */
export async function prepareHostFixtures(): Promise<HostFixtures> {
  const tcp = dropServer();
  const abstract = dropServer();
  const name = `droidway-verify-${randomBytes(8).toString('hex')}`;
  let queue: { id: number; key: number } | null = null;
  const teardown = async () => {
    await Promise.all([closeServer(tcp), closeServer(abstract)]);
    if (queue) await removeMessageQueue(queue.id);
    queue = null;
  };
  try {
    await listen(tcp, { port: 0, host: '127.0.0.1' });
    await listen(abstract, { path: `\0${name}` });
    queue = await createMessageQueue();
  } catch (e) {
    await teardown();
    if (e instanceof HostFixtureError) throw e;
    throw new HostFixtureError(`could not set up the host fixtures: ${(e as Error).message}`);
  }
  const address = tcp.address();
  if (address === null || typeof address === 'string') {
    await teardown();
    throw new HostFixtureError('TCP fixture has no port');
  }
  let closed = false;
  const { id, key } = queue;
  return {
    tcpPort: address.port,
    abstractSocket: name,
    ipcKey: key,
    ipcId: id,
    close: async () => {
      if (closed) return;
      closed = true;
      await teardown();
    },
  };
}

/** Namespace inodes of the calling (host) process, from `/proc/self/ns`. Unreadable ones are left out. */
export async function readHostNamespaces(): Promise<Partial<Record<ProbeNamespace, number>>> {
  const out: Partial<Record<ProbeNamespace, number>> = {};
  await Promise.all(
    PROBE_NAMESPACES.map(async (name) => {
      try {
        out[name] = (await stat(`/proc/self/ns/${name}`)).ino;
      } catch {
        // A kernel without this namespace type: the comparison reports it as unknown.
      }
    }),
  );
  return out;
}

/** pid, comm and start time (field 22 of /proc/self/stat) of the calling process. */
export async function readHostProcess(): Promise<{ pid: number; comm: string; startTime: string }> {
  const [comm, stat] = await Promise.all([
    readFile('/proc/self/comm', 'utf8'),
    readFile('/proc/self/stat', 'utf8'),
  ]);
  // Fields are counted after the last ')', since comm may contain spaces and parentheses.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = rest[19];
  if (startTime === undefined) throw new HostFixtureError('unparsable /proc/self/stat');
  return { pid: process.pid, comm: comm.trimEnd(), startTime };
}

/** The host facts for `verifyIsolation`, with the fixtures' addresses when given. */
export async function collectHostFacts(fixtures: HostFixtures | null): Promise<HostFacts> {
  return {
    namespaces: await readHostNamespaces(),
    process: await readHostProcess(),
    tcpPort: fixtures?.tcpPort ?? null,
    abstractSocket: fixtures?.abstractSocket ?? null,
    ipcKey: fixtures?.ipcKey ?? null,
  };
}
