import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fstatSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AshmemRegion,
  closeFd,
  countOpenFds,
  inspectFd,
  nativeModulePath,
  peerCredentials,
  recvMessage,
  sendMessage,
  socketPair,
} from '../../electron/core/native/index.js';

const owned: number[] = [];
const regions: AshmemRegion[] = [];
afterEach(() => {
  for (const fd of owned.splice(0)) closeFd(fd);
  for (const region of regions.splice(0)) region.close();
});

function pair(type: 'stream' | 'seqpacket'): [number, number] {
  const fds = socketPair(type);
  owned.push(...fds);
  return fds;
}

function region(name: string): AshmemRegion {
  const created = AshmemRegion.create(name, 4096);
  regions.push(created);
  return created;
}

describe('fd passing over a Unix socket', () => {
  it('delivers 28 fds in one message, in order, as new O_CLOEXEC fds for the same files', async () => {
    const baseline = countOpenFds();
    const [a, b] = socketPair('seqpacket');
    const sent = Array.from({ length: 28 }, (_, i) => region(`pass-${String(i).padStart(2, '0')}`));

    expect(
      await sendMessage(
        a,
        Buffer.from('twenty-eight'),
        sent.map((r) => r.fd),
      ),
    ).toBe(12);
    const message = await recvMessage(b, { maxBytes: 64, maxFds: 253 });

    expect(message.data.toString()).toBe('twenty-eight');
    expect(message).toMatchObject({ fdsDropped: 0, controlTruncated: false, dataTruncated: false });
    expect(message.fds).toHaveLength(28);
    message.fds.forEach((fd, i) => {
      expect(sent.map((r) => r.fd)).not.toContain(fd);
      expect(inspectFd(fd).link).toBe(`/memfd:pass-${String(i).padStart(2, '0')} (deleted)`);
      expect(fstatSync(fd).ino).toBe(fstatSync(sent[i]!.fd).ino);
    });

    for (const fd of [...message.fds, a, b]) closeFd(fd);
    for (const r of regions.splice(0)) r.close();
    expect(countOpenFds()).toBe(baseline);
  });

  it('keeps maxFds of 40 fds, closes the other 30 and counts them, leaking nothing', async () => {
    const baseline = countOpenFds();
    const [a, b] = socketPair('stream');
    const source = AshmemRegion.create('forty', 4096);
    await sendMessage(a, Buffer.from([1]), Array<number>(40).fill(source.fd));

    const beforeReceive = countOpenFds();
    const message = await recvMessage(b, { maxBytes: 16, maxFds: 10 });
    expect(message.fds).toHaveLength(10);
    expect(message.fdsDropped).toBe(30);
    expect(message.controlTruncated).toBe(false);
    expect(countOpenFds()).toBe(beforeReceive + 10); // the 30 extras are already closed

    for (const fd of [...message.fds, a, b]) closeFd(fd);
    source.close();
    expect(countOpenFds()).toBe(baseline);
  });

  it('reports MSG_CTRUNC when the receiver has no room left in its fd table', async () => {
    const [a, b] = socketPair('seqpacket');
    owned.push(a);
    const helper = fileURLToPath(new URL('./ctrunc-child.mjs', import.meta.url));
    // A small fd limit (util-linux prlimit) keeps the child's filling of its table quick.
    const child = spawn(
      'prlimit',
      ['--nofile=256', process.execPath, helper, nativeModulePath(), '3'],
      {
        stdio: ['ignore', 'pipe', 'inherit', b],
      },
    );
    closeFd(b);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      const ready = await recvMessage(a, { maxBytes: 16, maxFds: 0, timeoutMs: 10_000 });
      expect(ready.data.toString()).toBe('ready');
      const source = region('ctrunc');
      await sendMessage(a, Buffer.from('x'), Array<number>(20).fill(source.fd));
      const [code] = (await once(child, 'close')) as [number | null];
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ received: 3, dropped: 0, controlTruncated: true });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('with maxFds 0 receives the data and closes every fd that came with it', async () => {
    const [a, b] = pair('seqpacket');
    const before = countOpenFds();
    await sendMessage(a, Buffer.from('x'), [region('zero').fd, region('zero').fd]);
    const message = await recvMessage(b, { maxBytes: 1, maxFds: 0 });
    expect(message).toMatchObject({ fds: [], fdsDropped: 2 });
    expect(countOpenFds()).toBe(before + 2); // just the two regions this test made
  });

  it('rejects with ETIMEDOUT when nothing arrives in time', async () => {
    const [, b] = pair('seqpacket');
    const started = performance.now();
    await expect(recvMessage(b, { maxBytes: 8, maxFds: 1, timeoutMs: 80 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      errno: -110,
      syscall: 'poll',
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
  });

  it('reports 0 bytes and no fds once the peer has closed its end', async () => {
    const [a, b] = socketPair('stream');
    owned.push(b);
    closeFd(a);
    const message = await recvMessage(b, { maxBytes: 8, maxFds: 4 });
    expect(message.data.length).toBe(0);
    expect(message.fds).toEqual([]);
  });

  it('reports MSG_TRUNC when a seqpacket message is longer than maxBytes', async () => {
    const [a, b] = pair('seqpacket');
    await sendMessage(a, Buffer.alloc(100, 7));
    const message = await recvMessage(b, { maxBytes: 10, maxFds: 0 });
    expect(message.data).toEqual(Buffer.alloc(10, 7));
    expect(message.dataTruncated).toBe(true);
  });

  it('rejects a send to a closed peer with EPIPE and one with a closed fd attached with EBADF', async () => {
    const [a, b] = socketPair('stream');
    owned.push(a);
    const stale = region('stale');
    const staleFd = stale.fd;
    stale.close();
    await expect(sendMessage(a, Buffer.from('x'), [staleFd])).rejects.toMatchObject({
      code: 'EBADF',
      syscall: 'sendmsg',
    });
    closeFd(b);
    await expect(sendMessage(a, Buffer.from('x'))).rejects.toMatchObject({
      code: 'EPIPE',
      syscall: 'sendmsg',
    });
  });

  it('sends a full 64 KiB payload over a stream socket in one call', async () => {
    const [a, b] = pair('stream');
    const payload = Buffer.alloc(64 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const sending = sendMessage(a, payload, [], { timeoutMs: 5000 });
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < payload.length) {
      const message = await recvMessage(b, { maxBytes: 64 * 1024, maxFds: 0 });
      chunks.push(message.data);
      total += message.data.length;
    }
    expect(await sending).toBe(payload.length);
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });

  it('reports this process as the peer of a socket pair (SO_PEERCRED)', () => {
    const [a] = pair('seqpacket');
    expect(peerCredentials(a)).toEqual({
      pid: process.pid,
      uid: process.getuid!(),
      gid: process.getgid!(),
    });
  });
});
