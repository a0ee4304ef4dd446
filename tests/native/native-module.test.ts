// The .node itself, called without the facade: its own argument checks, the Mapping lifetime and
// the error shape every caller relies on.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  AshmemRegion,
  countOpenFds,
  loadNative,
  nativeModulePath,
} from '../../electron/core/native/index.js';

const native = loadNative();

describe('the native module', () => {
  it('was built against the pinned Node-API version', () => {
    expect(native.napiVersion).toBe(9);
  });

  it('checks argument types and ranges itself (TypeError / RangeError with a code)', () => {
    const call = native as unknown as Record<string, (...args: unknown[]) => unknown>;
    const typeError = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
    const rangeError = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
    expect(() => call.closeFd!('3')).toThrow(expect.objectContaining(typeError));
    expect(() => call.closeFd!()).toThrow(expect.objectContaining(typeError));
    expect(() => call.closeFd!(-1)).toThrow(expect.objectContaining(rangeError));
    expect(() => call.closeFd!(1.5)).toThrow(expect.objectContaining(rangeError));
    expect(() => call.closeFd!(2 ** 31)).toThrow(expect.objectContaining(rangeError));
    expect(() => call.ashmemCreate!('a/b', 4096, 'memfd')).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.ashmemCreate!('a\0b', 4096, 'memfd')).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.ashmemCreate!('x'.repeat(250), 4096, 'memfd')).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.ashmemCreate!('ok', 0, 'memfd')).toThrow(expect.objectContaining(rangeError));
    expect(() => call.ashmemCreate!('ok', 2 ** 40 + 1, 'memfd')).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.ashmemCreate!('ok', 4096, 'shm')).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.socketPair!('dgram')).toThrow(expect.objectContaining(rangeError));
    expect(() => call.mapFd!(0, { writable: 'yes', offset: 0, length: 1 })).toThrow(
      expect.objectContaining(typeError),
    );
    expect(() => call.mapFd!(0, { writable: false, offset: 1, length: 1 })).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.sendMessage!(0, 'text', [], 10)).toThrow(expect.objectContaining(typeError));
    expect(() => call.sendMessage!(0, new Uint8Array(0), [], 10)).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.sendMessage!(0, new Uint8Array(1), Array(254).fill(0), 10)).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.sendMessage!(0, new Uint8Array(1), [0, -2], 10)).toThrow(
      expect.objectContaining(rangeError),
    );
    expect(() => call.recvMessage!(0, 65537, 0, 10)).toThrow(expect.objectContaining(rangeError));
    expect(() => call.recvMessage!(0, 1, 254, 10)).toThrow(expect.objectContaining(rangeError));
    expect(() => call.recvMessage!(0, 1, 0, -1)).toThrow(expect.objectContaining(rangeError));
  });

  it('uses /dev/ashmem when asked, or fails with ENOENT where it is missing, leaking nothing', () => {
    if (native.ashmemDeviceAvailable())
      return expect(native.ashmemCreate('dev', 4096, 'ashmem').backend).toBe('ashmem');
    const before = countOpenFds();
    expect(() => native.ashmemCreate('dev', 4096, 'ashmem')).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'open' }),
    );
    expect(countOpenFds()).toBe(before);
  });

  it('detaches the ArrayBuffer on unmap(), idempotently, and refuses the buffer afterwards', () => {
    const region = AshmemRegion.create('unmap-me', 8192);
    try {
      const mapping = region.map({ writable: true, offset: 4096 });
      expect(mapping).toMatchObject({ length: 4096, writable: true, mapped: true });
      const buffer = mapping.buffer;
      expect(buffer.byteLength).toBe(4096);
      expect(mapping.buffer).toBe(buffer);
      mapping.unmap();
      mapping.unmap();
      expect(mapping.mapped).toBe(false);
      expect(buffer.byteLength).toBe(0); // detached: the bytes are no longer reachable
      expect(() => mapping.buffer).toThrow(expect.objectContaining({ code: 'ERR_UNMAPPED' }));
    } finally {
      region.close();
    }
  });

  it('unmaps on garbage collection, but not while the ArrayBuffer is still reachable', () => {
    const child = fileURLToPath(new URL('./mapping-gc-child.mjs', import.meta.url));
    const output = execFileSync(process.execPath, ['--expose-gc', child, nativeModulePath()], {
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toEqual({
      beforeGc: 201,
      afterGc: 1, // only the mapping whose ArrayBuffer is still referenced
      keptBufferIntact: true,
      afterDroppingBuffer: 0,
    });
  });

  it('refuses a mapping that runs past the end of the region (would SIGBUS)', () => {
    const region = AshmemRegion.create('short', 4096);
    try {
      expect(() => native.mapFd(region.fd, { writable: false, offset: 0, length: 8192 })).toThrow(
        expect.objectContaining({ code: 'EINVAL', syscall: 'mmap' }),
      );
    } finally {
      region.close();
    }
  });

  it('cannot be made to construct a Mapping from JS', () => {
    const region = AshmemRegion.create('forge', 4096);
    try {
      const mapping = region.map({ writable: false });
      const Ctor = mapping.constructor as new (...args: unknown[]) => unknown;
      expect(() => new Ctor()).toThrow(TypeError);
      expect(() => new Ctor({})).toThrow(TypeError);
      mapping.unmap();
    } finally {
      region.close();
    }
  });

  it('gives OS errors the documented shape', () => {
    let caught: unknown;
    try {
      native.closeFd(2 ** 31 - 1);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({
      code: 'EBADF',
      errno: -9,
      syscall: 'close',
      message: 'close fd 2147483647: Bad file descriptor (EBADF)',
    });
  });
});
