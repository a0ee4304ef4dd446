import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostProbe } from '../../../../electron/core/host/host-probe.js';

const host = createHostProbe();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'droidway-probe-'));
  writeFileSync(join(dir, 'ten'), '0123456789');
  symlinkSync(join(dir, 'ten'), join(dir, 'link'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createHostProbe', () => {
  it('reads /proc files, whose size is reported as 0', async () => {
    expect((await host.readFile('/proc/self/status')).toString()).toMatch(/^Name:/);
  });

  it('refuses a file over the limit, and reads only the head when asked', async () => {
    await expect(host.readFile(join(dir, 'ten'), 9)).rejects.toMatchObject({ code: 'EFBIG' });
    expect((await host.readFile(join(dir, 'ten'), 10)).toString()).toBe('0123456789');
    expect((await host.readHead(join(dir, 'link'), 4)).toString()).toBe('0123');
    await expect(host.readFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stats through symlinks and tells sockets and directories apart', async () => {
    const socketPath = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      expect(await host.stat(join(dir, 'link'))).toEqual({
        type: 'file',
        mode: expect.any(Number),
        size: 10,
      });
      expect((await host.stat(socketPath))?.type).toBe('socket');
      expect((await host.stat(dir))?.type).toBe('directory');
      expect((await host.stat('/dev/null'))?.type).toBe('char-device');
      expect(await host.stat(join(dir, 'missing'))).toBeNull();
      expect(await host.exists(join(dir, 'missing'))).toBe(false);
      expect(await host.readlink(join(dir, 'link'))).toBe(join(dir, 'ten'));
      expect((await host.readdir(dir)).sort()).toEqual(
        expect.arrayContaining(['link', 'sock', 'ten']),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('runs argv without a shell', async () => {
    const result = await host.exec(
      [process.execPath, '-e', 'console.log(process.argv[1])', '$(echo hi); true'],
      { timeoutMs: 10_000 },
    );
    expect(result).toEqual({
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: '$(echo hi); true\n',
      stderr: '',
    });
  });

  it('reports the exit status and kills a process that outlives the timeout', async () => {
    expect(
      (await host.exec([process.execPath, '-e', 'process.exit(3)'], { timeoutMs: 10_000 }))
        .exitCode,
    ).toBe(3);
    const started = Date.now();
    const hung = await host.exec([process.execPath, '-e', 'setInterval(() => {}, 1000)'], {
      timeoutMs: 300,
    });
    expect(hung).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects when the program cannot be started', async () => {
    await expect(
      host.exec([join(dir, 'no-such-program')], { timeoutMs: 1000 }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(host.exec([], { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('knows the kernel release and uid of this process', () => {
    expect(host.kernelRelease).toMatch(/^\d+\.\d+/);
    expect(host.uid).toBe(process.getuid?.());
  });

  it('reports an unbuilt native module, and one that does not load, without throwing', async () => {
    const saved = process.env.DROIDWAY_NATIVE_PATH;
    try {
      process.env.DROIDWAY_NATIVE_PATH = join(dir, 'missing.node');
      expect(await host.shmProbe()).toEqual({
        native: 'missing',
        message: 'native module not built — run npm run build:native',
      });
      writeFileSync(join(dir, 'garbage.node'), 'not a shared object');
      process.env.DROIDWAY_NATIVE_PATH = join(dir, 'garbage.node');
      expect(await host.shmProbe()).toEqual({
        native: 'missing',
        message: expect.stringMatching(/^native module failed to load: /),
      });
    } finally {
      if (saved === undefined) delete process.env.DROIDWAY_NATIVE_PATH;
      else process.env.DROIDWAY_NATIVE_PATH = saved;
    }
  });
});
