import { describe, expect, it, vi } from 'vitest';
import { encodeFrame, FrameReader } from '../../../../electron/core/apk/apk-worker-wire.js';

describe('the APK reader wire', () => {
  it('carries messages with their Buffers, however the stream is cut', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const messages = [
      { id: 1, ok: true, value: { packageName: 'org.example', icon: { png } } },
      { id: 2, ok: false, error: { code: 'APK_ZIP_INVALID', message: 'not a zip' } },
    ];
    const stream = Buffer.concat(messages.map(encodeFrame));
    for (const step of [1, 3, 7, stream.length]) {
      const reader = new FrameReader(1024);
      const got: unknown[] = [];
      for (let at = 0; at < stream.length; at += step)
        got.push(...reader.push(stream.subarray(at, at + step)));
      expect(got).toEqual(messages);
      const icon = (got[0] as { value: { icon: { png: Uint8Array } } }).value.icon.png;
      expect(Buffer.from(icon).equals(png)).toBe(true);
    }
  });

  it('copies what it keeps: the caller may reuse its chunk', () => {
    const frame = encodeFrame({ id: 7 });
    const chunk = Buffer.from(frame);
    const reader = new FrameReader(1024);
    expect(reader.push(chunk.subarray(0, 5))).toEqual([]);
    const rest = Buffer.from(chunk.subarray(5));
    chunk.fill(0xff);
    expect(reader.push(rest)).toEqual([{ id: 7 }]);
  });

  it('refuses a frame over its cap before buffering its body', () => {
    const reader = new FrameReader(16);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(0xffffffff);
    expect(() => reader.push(header)).toThrow(/4294967295 bytes, more than the 16 allowed/);
    expect(() => new FrameReader(16).push(encodeFrame('x'.repeat(64)))).toThrow(/more than/);
  });

  it('joins a large frame arriving in many chunks once, not once per chunk', () => {
    const big = Buffer.alloc(1 << 20, 7);
    const stream = encodeFrame({ id: 3, value: big });
    const reader = new FrameReader(2 << 20);
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      const got: unknown[] = [];
      for (let at = 0; at < stream.length; at += 4096)
        got.push(...reader.push(stream.subarray(at, at + 4096)));
      expect(got).toHaveLength(1);
      expect(Buffer.from((got[0] as { value: Uint8Array }).value).equals(big)).toBe(true);
      // 257 chunks: a copy of all that was buffered per chunk would be quadratic.
      expect(concat.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      concat.mockRestore();
    }
  });

  it('refuses a body that does not deserialize', () => {
    const body = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]);
    const frame = Buffer.concat([Buffer.alloc(4), body]);
    frame.writeUInt32LE(body.length);
    expect(() => new FrameReader(1024).push(frame)).toThrow();
  });
});
