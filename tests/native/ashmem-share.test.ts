import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AshmemRegion,
  closeFd,
  countOpenFds,
  nativeModulePath,
  recvMessage,
  sendMessage,
  socketPair,
  truncateFd,
  type FdInfo,
} from '../../electron/core/native/index.js';

const CHILD = fileURLToPath(new URL('./share-child.mjs', import.meta.url));
const REGION_SIZE = 64 * 1024;

interface ChildReply {
  ok: boolean;
  code?: string;
  errno?: number;
  syscall?: string;
  info?: FdInfo;
  size?: number;
  sha256?: string;
  head?: number[];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Starts share-child.mjs with one end of a seqpacket pair as its fd 3; returns the other end. */
function startChild() {
  const [parentEnd, childEnd] = socketPair('seqpacket');
  const child = spawn(process.execPath, [CHILD, nativeModulePath()], {
    stdio: ['ignore', 'ignore', 'pipe', childEnd],
  });
  closeFd(childEnd); // the child holds its own copy now
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let open = true;
  const closeParentEnd = () => {
    if (open) closeFd(parentEnd);
    open = false;
  };
  cleanups.push(() => {
    closeParentEnd();
    child.kill('SIGKILL');
  });

  return {
    async ask(command: object, fd: number): Promise<ChildReply> {
      await sendMessage(parentEnd, Buffer.from(JSON.stringify(command)), [fd]);
      const reply = await recvMessage(parentEnd, { maxBytes: 65536, maxFds: 0, timeoutMs: 15_000 });
      if (reply.data.length === 0) throw new Error(`child closed the socket; stderr: ${stderr}`);
      return JSON.parse(reply.data.toString('utf8')) as ChildReply;
    },
    async finish(): Promise<{ code: number | null; stderr: string }> {
      closeParentEnd(); // the child reads 0 bytes and exits; 'close' waits for its stdio too
      const [code] = (await once(child, 'close')) as [number | null];
      return { code, stderr };
    },
  };
}

describe('an ashmem region shared with another process', () => {
  it('carries the same bytes both ways, then refuses new writable mappings once read-only', async () => {
    const baseline = countOpenFds();
    const region = AshmemRegion.create('droidway-share', REGION_SIZE);
    expect(region.backend).toBe('memfd'); // this kernel has no /dev/ashmem
    const mapping = region.map({ writable: true });
    const bytes = new Uint8Array(mapping.buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;

    const child = startChild();

    const seen = await child.ask({ writable: false }, region.fd);
    expect(seen).toMatchObject({
      ok: true,
      size: REGION_SIZE,
      head: [3, 10, 17, 24, 31, 38, 45, 52],
    });
    expect(seen.sha256).toBe(sha256(bytes));
    expect(seen.info).toMatchObject({
      kind: 'memfd',
      size: REGION_SIZE,
      seals: ['shrink', 'grow'],
      fsType: 'tmpfs',
      link: '/memfd:droidway-share (deleted)',
      access: 'rw',
    });

    // A write through the child's mapping shows up in the parent's: it is one memory.
    const wrote = await child.ask({ writable: true, write: { offset: 0, value: 0xab } }, region.fd);
    expect(wrote.ok).toBe(true);
    expect(bytes[0]).toBe(0xab);

    region.setReadOnly();

    const refused = await child.ask({ writable: true }, region.fd);
    expect(refused).toMatchObject({ ok: false, code: 'EPERM', errno: -1, syscall: 'mmap' });
    expect(refused.info?.seals).toEqual(['shrink', 'grow', 'future-write']);

    // The parent's mapping predates the seal and keeps its write access.
    bytes[1] = 0xcd;
    const readOnly = await child.ask({ writable: false }, region.fd);
    expect(readOnly).toMatchObject({ ok: true, head: [0xab, 0xcd, 17, 24, 31, 38, 45, 52] });
    expect(readOnly.sha256).toBe(sha256(bytes));

    for (const size of [REGION_SIZE * 2, REGION_SIZE / 2]) {
      expect(() => truncateFd(region.fd, size)).toThrow(
        expect.objectContaining({ code: 'EPERM', syscall: 'ftruncate' }),
      );
    }

    const exit = await child.finish();
    expect(exit).toEqual({ code: 0, stderr: '' });
    mapping.unmap();
    region.close();
    expect(countOpenFds()).toBe(baseline);
  });
});
