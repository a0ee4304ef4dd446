import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  realpathSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AshmemRegion, closeFd, inspectFd, socketPair } from '../../electron/core/native/index.js';

// /tmp may be a tmpfs; /var/tmp is on disk on a standard Debian install. The file-system type is
// asserted as the kernel reports it for the directory either way.
let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync('/var/tmp/droidway-inspect-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withFd<T>(fd: number, use: (fd: number) => T): T {
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

describe('inspectFd', () => {
  it('classifies a memfd region, and lists its seals before and after it is made read-only', () => {
    const region = AshmemRegion.create('inspect-me', 12_288, { backend: 'memfd' });
    try {
      expect(inspectFd(region.fd)).toEqual({
        kind: 'memfd',
        size: 12_288,
        seals: ['shrink', 'grow'],
        fsType: 'tmpfs',
        fsMagic: 0x01021994,
        link: '/memfd:inspect-me (deleted)',
        mode: constants.S_IFREG | 0o777,
        access: 'rw',
      });
      region.setReadOnly();
      expect(inspectFd(region.fd).seals).toEqual(['shrink', 'grow', 'future-write']);
    } finally {
      region.close();
    }
  });

  it('classifies a regular file on disk with its size, link and access mode', () => {
    const path = join(dir, 'plain.bin');
    writeFileSync(path, Buffer.alloc(1234, 1), { mode: 0o640 });
    const expectedMagic = statfsSync(dir).type >>> 0;
    const info = withFd(openSync(path, 'r'), inspectFd);
    expect(info).toMatchObject({
      kind: 'file',
      size: 1234,
      link: path,
      access: 'r',
      fsMagic: expectedMagic,
    });
    expect(info.mode).toBe(constants.S_IFREG | 0o640);
    // Files on tmpfs support F_GET_SEALS (born with F_SEAL_SEAL); disk file systems do not.
    expect(info.seals).toEqual(info.fsType === 'tmpfs' ? ['seal'] : null);
    expect(info.fsType).not.toMatch(/^0x/);
  });

  it('classifies both ends of a socket pair as sockets on sockfs', () => {
    const [a, b] = socketPair('stream');
    try {
      for (const fd of [a, b]) {
        const info = inspectFd(fd);
        expect(info).toMatchObject({
          kind: 'socket',
          fsType: 'sockfs',
          seals: null,
          size: 0,
          access: 'rw',
        });
        expect(info.link).toMatch(/^socket:\[\d+\]$/);
      }
    } finally {
      closeFd(a);
      closeFd(b);
    }
  });

  it('classifies an anonymous pipe (pipefs) and a named FIFO as pipes', async () => {
    // Node has no pipe(2); borrow the read end of a shell pipeline's pipe through /proc.
    const shell = spawn('sh', ['-c', `sleep 30 | sh -c 'echo $$; exec sleep 30'`], {
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    });
    try {
      const [line] = (await once(shell.stdout, 'data')) as [Buffer];
      const pid = Number(line.toString().trim());
      const info = withFd(
        openSync(`/proc/${pid}/fd/0`, constants.O_RDONLY | constants.O_NONBLOCK),
        inspectFd,
      );
      expect(info).toMatchObject({ kind: 'pipe', fsType: 'pipefs', seals: null, access: 'r' });
      expect(info.link).toMatch(/^pipe:\[\d+\]$/);
    } finally {
      process.kill(-shell.pid!, 'SIGKILL');
    }

    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const info = withFd(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK), inspectFd);
    expect(info).toMatchObject({ kind: 'pipe', link: fifo, access: 'rw' });
    expect(info.mode & constants.S_IFMT).toBe(constants.S_IFIFO);
  });

  it("classifies /dev/null as 'other' (a character device on devtmpfs, which reports tmpfs)", () => {
    const info = withFd(openSync('/dev/null', 'r+'), inspectFd);
    expect(info).toMatchObject({
      kind: 'other',
      link: '/dev/null',
      size: 0,
      seals: null,
      access: 'rw',
    });
    expect(info.mode & constants.S_IFMT).toBe(constants.S_IFCHR);
    expect(['tmpfs', 'ramfs']).toContain(info.fsType);
  });

  it('reports EBADF for an fd that is not open', () => {
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    expect(() => inspectFd(fd)).toThrow(
      expect.objectContaining({ code: 'EBADF', errno: -9, syscall: 'fstat' }),
    );
  });
});
