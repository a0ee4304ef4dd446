// The native facade's own logic, with an injected fake binding: every malformed argument is
// refused in TypeScript before the binding is called, well-formed ones reach it normalised, and
// AshmemRegion keeps its fd bookkeeping. The real module is exercised by tests/native/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DroidwayNative } from '../../../../native/index.js';
import {
  AshmemRegion,
  closeFd,
  findProjectRoot,
  inspectFd,
  loadNative,
  mapFd,
  NativeUnavailableError,
  nativeModulePath,
  peerCredentials,
  recvMessage,
  sendMessage,
  socketPair,
  truncateFd,
} from '../../../../electron/core/native/index.js';

function fakeBinding() {
  const mapping = {
    length: 0,
    writable: false,
    buffer: new ArrayBuffer(0),
    mapped: true,
    unmap: vi.fn(),
  };
  return {
    napiVersion: 9,
    ashmemCreate: vi.fn(() => ({ fd: 42, backend: 'memfd' as const })),
    ashmemSetReadOnly: vi.fn(),
    ashmemGetSize: vi.fn(() => 4096),
    ashmemDeviceAvailable: vi.fn(() => false),
    inspectFd: vi.fn(),
    mapFd: vi.fn(() => mapping),
    socketPair: vi.fn((): [number, number] => [5, 6]),
    sendMessage: vi.fn(async () => 1),
    recvMessage: vi.fn(async () => ({
      data: Buffer.alloc(0),
      fds: [],
      fdsDropped: 0,
      controlTruncated: false,
      dataTruncated: false,
    })),
    peerCredentials: vi.fn(() => ({ pid: 1, uid: 0, gid: 0 })),
    closeFd: vi.fn(),
    truncateFd: vi.fn(),
    newSession: vi.fn(),
    replaceStdio: vi.fn(),
  } satisfies Record<keyof DroidwayNative, unknown>;
}

const typeError = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
const rangeError = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });

describe('AshmemRegion', () => {
  it.each([
    ['', rangeError],
    ['a/b', rangeError],
    ['a\0b', rangeError],
    ['x'.repeat(250), rangeError],
    ['é'.repeat(125), rangeError], // 250 UTF-8 bytes in 125 characters
    [42, typeError],
  ])('refuses the name %j before the binding sees it', (name, error) => {
    const binding = fakeBinding();
    expect(() =>
      AshmemRegion.create(name as string, 4096, { binding: binding as DroidwayNative }),
    ).toThrow(error);
    expect(binding.ashmemCreate).not.toHaveBeenCalled();
  });

  it.each([
    [0, rangeError],
    [-1, rangeError],
    [1.5, rangeError],
    [2 ** 40 + 1, rangeError],
    [Number.NaN, rangeError],
    [Infinity, rangeError],
    ['4096', typeError],
  ])('refuses the size %j before the binding sees it', (size, error) => {
    const binding = fakeBinding();
    expect(() =>
      AshmemRegion.create('ok', size as number, { binding: binding as DroidwayNative }),
    ).toThrow(error);
    expect(binding.ashmemCreate).not.toHaveBeenCalled();
  });

  it('refuses an unknown backend', () => {
    const binding = fakeBinding();
    expect(() =>
      AshmemRegion.create('ok', 1, {
        backend: 'shm' as 'memfd',
        binding: binding as DroidwayNative,
      }),
    ).toThrow(rangeError);
  });

  it('accepts the limits: 249 bytes of name, 1 byte and 1 TiB of size', () => {
    const binding = fakeBinding();
    AshmemRegion.create('é'.repeat(124) + 'x', 1, { binding: binding as DroidwayNative });
    AshmemRegion.create('big', 2 ** 40, { backend: 'memfd', binding: binding as DroidwayNative });
    expect(binding.ashmemCreate.mock.calls).toEqual([
      ['é'.repeat(124) + 'x', 1, 'auto'],
      ['big', 2 ** 40, 'memfd'],
    ]);
  });

  it('maps the whole region by default and checks offset and length against its size', () => {
    const binding = fakeBinding();
    const region = AshmemRegion.create('map', 8192, { binding: binding as DroidwayNative });
    region.map({ writable: true });
    region.map({ writable: false, offset: 4096 });
    expect(binding.mapFd.mock.calls).toEqual([
      [42, { writable: true, offset: 0, length: 8192 }],
      [42, { writable: false, offset: 4096, length: 4096 }],
    ]);
    expect(() => region.map({ writable: 1 as unknown as boolean })).toThrow(typeError);
    expect(() => region.map({ writable: false, offset: 8192 })).toThrow(rangeError);
    expect(() => region.map({ writable: false, offset: 4096, length: 4097 })).toThrow(rangeError);
    expect(() => region.map(null as unknown as { writable: boolean })).toThrow(typeError);
  });

  it('closes its fd exactly once and refuses to hand it out afterwards', () => {
    const binding = fakeBinding();
    const region = AshmemRegion.create('close', 4096, { binding: binding as DroidwayNative });
    expect(region.fd).toBe(42);
    region.close();
    region.close();
    expect(binding.closeFd.mock.calls).toEqual([[42]]);
    expect(region.closed).toBe(true);
    expect(() => region.fd).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => region.setReadOnly()).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(binding.ashmemSetReadOnly).not.toHaveBeenCalled();
  });
});

describe('fd functions', () => {
  it.each([
    ['a string', '3', typeError],
    ['a negative number', -1, rangeError],
    ['a fraction', 2.5, rangeError],
    ['a number past INT_MAX', 2 ** 31, rangeError],
  ])('refuse %s as an fd', (_, fd, error) => {
    const binding = fakeBinding();
    const deps = { binding: binding as DroidwayNative };
    const bad = fd as number;
    expect(() => inspectFd(bad, deps)).toThrow(error);
    expect(() => closeFd(bad, deps)).toThrow(error);
    expect(() => peerCredentials(bad, deps)).toThrow(error);
    expect(() => truncateFd(bad, 0, deps)).toThrow(error);
    expect(() => mapFd(bad, { writable: false, length: 1, ...deps })).toThrow(error);
    expect(binding.inspectFd).not.toHaveBeenCalled();
    expect(binding.closeFd).not.toHaveBeenCalled();
    expect(binding.peerCredentials).not.toHaveBeenCalled();
    expect(binding.truncateFd).not.toHaveBeenCalled();
    expect(binding.mapFd).not.toHaveBeenCalled();
  });

  it('check mapping lengths and truncate sizes', () => {
    const binding = fakeBinding();
    const deps = { binding: binding as DroidwayNative };
    expect(() => mapFd(3, { writable: false, length: 0, ...deps })).toThrow(rangeError);
    expect(() => mapFd(3, { writable: false, length: 2 ** 32 + 1, ...deps })).toThrow(rangeError);
    expect(() => mapFd(3, { writable: false, offset: -4096, length: 1, ...deps })).toThrow(
      rangeError,
    );
    expect(() => truncateFd(3, -1, deps)).toThrow(rangeError);
    mapFd(3, { writable: true, length: 10, ...deps });
    expect(binding.mapFd).toHaveBeenCalledWith(3, { writable: true, offset: 0, length: 10 });
  });

  it('socketPair accepts only stream and seqpacket', () => {
    const binding = fakeBinding();
    expect(() => socketPair('dgram' as 'stream', { binding: binding as DroidwayNative })).toThrow(
      rangeError,
    );
    expect(socketPair(undefined, { binding: binding as DroidwayNative })).toEqual([5, 6]);
    expect(binding.socketPair).toHaveBeenCalledWith('stream');
  });
});

describe('sendMessage', () => {
  const cases: [string, unknown[], unknown][] = [
    ['data that is a string', [3, 'text'], typeError],
    ['empty data', [3, new Uint8Array(0)], rangeError],
    ['data over 64 KiB', [3, new Uint8Array(64 * 1024 + 1)], rangeError],
    ['fds that are not an array', [3, new Uint8Array(1), 4], typeError],
    ['254 fds', [3, new Uint8Array(1), Array<number>(254).fill(4)], rangeError],
    ['a negative fd', [3, new Uint8Array(1), [4, -1]], rangeError],
    ['a non-integer fd', [3, new Uint8Array(1), [4.5]], rangeError],
    ['a negative timeout', [3, new Uint8Array(1), [], { timeoutMs: -1 }], rangeError],
    ['a timeout past 2^31-1 ms', [3, new Uint8Array(1), [], { timeoutMs: 2 ** 31 }], rangeError],
    ['a bad socket fd', [-3, new Uint8Array(1)], rangeError],
  ];
  it.each(cases)('rejects %s without calling the binding', async (_, args, error) => {
    const binding = fakeBinding();
    const [socketFd, data, fds, options] = args as [
      number,
      Uint8Array,
      number[] | undefined,
      object | undefined,
    ];
    await expect(
      sendMessage(socketFd, data, fds, { ...options, binding: binding as DroidwayNative }),
    ).rejects.toEqual(error);
    expect(binding.sendMessage).not.toHaveBeenCalled();
  });

  it('passes 64 KiB with 253 fds and the default timeout through', async () => {
    const binding = fakeBinding();
    const data = new Uint8Array(64 * 1024);
    const fds = Array.from({ length: 253 }, (_, i) => i);
    await sendMessage(7, data, fds, { binding: binding as DroidwayNative });
    expect(binding.sendMessage).toHaveBeenCalledWith(7, data, fds, 5000);
  });
});

describe('recvMessage', () => {
  const cases: [string, object, unknown][] = [
    ['maxBytes 0', { maxBytes: 0, maxFds: 0 }, rangeError],
    ['maxBytes over 64 KiB', { maxBytes: 65537, maxFds: 0 }, rangeError],
    ['missing maxBytes', { maxFds: 0 }, typeError],
    ['maxFds 254', { maxBytes: 1, maxFds: 254 }, rangeError],
    ['a negative maxFds', { maxBytes: 1, maxFds: -1 }, rangeError],
    ['a fractional timeout', { maxBytes: 1, maxFds: 0, timeoutMs: 0.5 }, rangeError],
  ];
  it.each(cases)('rejects %s without calling the binding', async (_, options, error) => {
    const binding = fakeBinding();
    await expect(
      recvMessage(3, {
        ...(options as { maxBytes: number; maxFds: number }),
        binding: binding as DroidwayNative,
      }),
    ).rejects.toEqual(error);
    expect(binding.recvMessage).not.toHaveBeenCalled();
  });

  it('passes the limits through', async () => {
    const binding = fakeBinding();
    await recvMessage(3, {
      maxBytes: 65536,
      maxFds: 253,
      timeoutMs: 0,
      binding: binding as DroidwayNative,
    });
    expect(binding.recvMessage).toHaveBeenCalledWith(3, 65536, 253, 0);
  });
});

describe('loadNative', () => {
  const saved = process.env.DROIDWAY_NATIVE_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.DROIDWAY_NATIVE_PATH;
    else process.env.DROIDWAY_NATIVE_PATH = saved;
  });

  it('finds the repository root from the sources', () => {
    expect(nativeModulePath({})).toBe(
      join(findProjectRoot(), 'native', 'build', 'Release', 'droidway_native.node'),
    );
  });

  it('says to run npm run build:native when the module is missing', () => {
    process.env.DROIDWAY_NATIVE_PATH = '/nonexistent/droidway_native.node';
    expect(() => loadNative()).toThrow(NativeUnavailableError);
    expect(() => loadNative()).toThrow(
      expect.objectContaining({ code: 'ENATIVE', path: '/nonexistent/droidway_native.node' }),
    );
    expect(() => loadNative()).toThrow(/npm run build:native/);
  });

  it('reports a file that is not a loadable module, with the loader error as cause', () => {
    const dir = mkdtempSync(join(tmpdir(), 'droidway-native-'));
    try {
      const path = join(dir, 'broken.node');
      writeFileSync(path, 'not an ELF object');
      process.env.DROIDWAY_NATIVE_PATH = path;
      let caught: unknown;
      try {
        loadNative();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(NativeUnavailableError);
      expect(caught).toMatchObject({ code: 'ENATIVE', path, cause: expect.any(Error) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
