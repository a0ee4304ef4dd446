import { afterEach, describe, expect, it } from 'vitest';
import { countOpenFds, loadNative } from '../../electron/core/native/index.js';
import type { BridgeDmabufPlane, DroidwayBridgeNative } from '../../native/index.js';

// The bridge's linux-dmabuf checks, run through the addon's test hook on memfds standing in for
// dma-buf fds (both answer lseek(SEEK_END) with their size). The import itself needs a DRM device
// and a compositor offering linux-dmabuf, which this test does not have.
const native = loadNative() as unknown as ReturnType<typeof loadNative> & DroidwayBridgeNative;

const fourcc = (code: string) =>
  code.charCodeAt(0) |
  (code.charCodeAt(1) << 8) |
  (code.charCodeAt(2) << 16) |
  (code.charCodeAt(3) << 24);
const XRGB8888 = fourcc('XR24');
const NV12 = fourcc('NV12');
const LINEAR = 0n;
const TILED = 0x0100000000000001n; // I915_FORMAT_MOD_X_TILED
const HOST: [number, bigint][] = [
  [XRGB8888, LINEAR],
  [XRGB8888, TILED],
  [NV12, LINEAR],
];
// zwp_linux_buffer_params_v1 errors.
const PLANE_IDX = 1;
const PLANE_SET = 2;
const INCOMPLETE = 3;
const INVALID_FORMAT = 4;
const INVALID_DIMENSIONS = 5;
const OUT_OF_BOUNDS = 6;

const opened: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) native.closeFd(fd);
});

function memfd(size: number): number {
  const { fd } = native.ashmemCreate('droidway-dmabuf-test', size, 'memfd');
  opened.push(fd);
  return fd;
}

function plane(fd: number, index: number, offset: number, stride: number, modifier = LINEAR) {
  return { fd, index, offset, stride, modifier } satisfies BridgeDmabufPlane;
}

const check = (planes: BridgeDmabufPlane[], width: number, height: number, format = XRGB8888) =>
  native.bridgeCheckDmabuf(planes, width, height, format, HOST);

describe('linux-dmabuf params checks', () => {
  it('accepts a buffer that fits its fd, single- and multi-planar', () => {
    const fd = memfd(64 * 4 * 32);
    expect(check([plane(fd, 0, 0, 256)], 64, 32)).toEqual({ ok: true });
    // NV12 64×32: Y plane 64×32 at 0, interleaved UV plane 64×16 right after it, one fd.
    const nv12 = memfd(64 * 32 + 64 * 16);
    expect(check([plane(nv12, 0, 0, 64), plane(nv12, 1, 64 * 32, 64)], 64, 32, NV12)).toEqual({
      ok: true,
    });
    // Planes may be added in any order.
    expect(check([plane(nv12, 1, 64 * 32, 64), plane(nv12, 0, 0, 64)], 64, 32, NV12).ok).toBe(true);
  });

  it('refuses bad plane indices, counts and sets', () => {
    const fd = memfd(4096);
    expect(check([plane(fd, 4, 0, 64)], 16, 16)).toMatchObject({
      ok: false,
      step: 'add',
      error: PLANE_IDX,
      reason: 'dmabuf-plane-index',
    });
    expect(check([plane(fd, 0, 0, 64), plane(fd, 0, 0, 64)], 16, 16)).toMatchObject({
      step: 'add',
      error: PLANE_SET,
      reason: 'dmabuf-plane-set',
    });
    expect(check([], 16, 16)).toMatchObject({ step: 'create', error: INCOMPLETE });
    // Planes 0 and 2 without 1: not contiguous.
    expect(check([plane(fd, 0, 0, 64), plane(fd, 2, 0, 64)], 16, 16)).toMatchObject({
      step: 'create',
      error: INCOMPLETE,
      reason: 'dmabuf-incomplete',
    });
    expect(check([plane(fd, 1, 0, 64)], 16, 16)).toMatchObject({ error: INCOMPLETE });
    const five = [0, 1, 2, 3].map((i) => plane(fd, i, 0, 64));
    expect(check([...five, plane(fd, 3, 0, 64)], 16, 16)).toMatchObject({ error: PLANE_SET });
  });

  it('refuses modifiers that differ across planes or the host does not list', () => {
    const fd = memfd(64 * 32 * 2);
    expect(
      check([plane(fd, 0, 0, 64, LINEAR), plane(fd, 1, 64 * 32, 64, TILED)], 64, 32, NV12),
    ).toMatchObject({ step: 'add', error: INVALID_FORMAT, reason: 'dmabuf-modifier-mismatch' });
    expect(check([plane(fd, 0, 0, 256, TILED)], 16, 16)).toEqual({ ok: true });
    // NV12 is only imported linear; an unknown fourcc not at all.
    expect(
      check([plane(fd, 0, 0, 64, TILED), plane(fd, 1, 2048, 64, TILED)], 64, 32, NV12),
    ).toMatchObject({ step: 'create', error: INVALID_FORMAT, reason: 'dmabuf-format' });
    expect(check([plane(fd, 0, 0, 64)], 16, 16, fourcc('ZZZZ'))).toMatchObject({
      reason: 'dmabuf-format',
    });
  });

  it('checks offsets and strides in 64 bits against the real fd size', () => {
    const size = 64 * 4 * 32;
    const fd = memfd(size);
    // One row too many.
    expect(check([plane(fd, 0, 0, 256)], 64, 33)).toMatchObject({
      step: 'create',
      error: OUT_OF_BOUNDS,
      reason: 'dmabuf-out-of-bounds',
    });
    expect(check([plane(fd, 0, 4, 256)], 64, 32)).toMatchObject({ reason: 'dmabuf-out-of-bounds' });
    // stride × height wraps to 0 in 32 bits (2^30 × 4), not in 64.
    expect(check([plane(fd, 0, 0, 0x40000000)], 1, 4)).toMatchObject({
      reason: 'dmabuf-out-of-bounds',
    });
    // offset near 2^32: offset + stride wraps in 32 bits.
    expect(check([plane(fd, 0, 0xffffff00, 0x200)], 1, 1)).toMatchObject({
      reason: 'dmabuf-out-of-bounds',
    });
    expect(check([plane(fd, 0, 0, 0)], 1, 1)).toMatchObject({ reason: 'dmabuf-out-of-bounds' });
    // The chroma plane of NV12 has half the rows: a UV plane sized for all 32 would not fit.
    const nv12 = memfd(64 * 32 + 64 * 16);
    expect(
      check([plane(nv12, 0, 0, 64), plane(nv12, 1, 64 * 32, 128)], 64, 32, NV12),
    ).toMatchObject({ reason: 'dmabuf-out-of-bounds' });
  });

  it('refuses non-positive dimensions and fds without a size', () => {
    const fd = memfd(4096);
    expect(check([plane(fd, 0, 0, 64)], 0, 16)).toMatchObject({
      error: INVALID_DIMENSIONS,
      reason: 'dmabuf-dimensions',
    });
    expect(check([plane(fd, 0, 0, 64)], 16, -1)).toMatchObject({ error: INVALID_DIMENSIONS });
    const [a, b] = native.socketPair('stream');
    opened.push(a, b);
    expect(check([plane(a, 0, 0, 64)], 16, 16)).toMatchObject({
      step: 'add',
      error: OUT_OF_BOUNDS,
      reason: 'dmabuf-fd-size',
    });
  });

  it('rejects malformed hook arguments and leaks no fd', () => {
    const before = countOpenFds();
    const fd = memfd(4096);
    const bad: unknown[][] = [
      [[], 1, 1, 1],
      [[{ fd, index: 0, offset: 0, stride: 64, modifier: 0 }], 1, 1, 1, []],
      [[{ fd, index: -1, offset: 0, stride: 64, modifier: 0n }], 1, 1, 1, []],
      [[plane(fd, 0, 0, 64)], 1, 1, 1, [[1]]],
      [[plane(fd, 0, 0, 64)], 1, 1, 1, [[1, -1n]]],
      [[plane(fd, 0, 0, 64)], 1.5, 1, 1, []],
      ['planes', 1, 1, 1, []],
    ];
    for (const args of bad) {
      expect(() => (native.bridgeCheckDmabuf as (...a: unknown[]) => unknown)(...args)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^ERR_/) }),
      );
    }
    native.closeFd(opened.pop()!);
    expect(countOpenFds()).toBe(before);
  });
});
