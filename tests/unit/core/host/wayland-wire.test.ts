import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  ArgReader,
  decodeDisplayError,
  decodeRegistryGlobal,
  decodeSingleUint,
  encodeMessage,
  encodeRequest,
  splitMessages,
  WL_MAX_MESSAGE_SIZE,
} from '../../../../electron/core/host/wayland-wire.js';

const PROTOCOL = { code: 'EWAYLAND_PROTOCOL' };

const LE = endianness() === 'LE';

/** A raw header (host byte order) with any size field, to build messages the encoder never would. */
function header(objectId: number, size: number, opcode: number): Buffer {
  const out = Buffer.alloc(8);
  const view = new DataView(out.buffer, out.byteOffset, 8);
  view.setUint32(0, objectId, LE);
  view.setUint32(4, ((size << 16) | opcode) >>> 0, LE);
  return out;
}

/** A 32-bit word in host byte order. */
function word(value: number): Buffer {
  const out = Buffer.alloc(4);
  new DataView(out.buffer, out.byteOffset, 4).setUint32(0, value >>> 0, LE);
  return out;
}

describe('encodeRequest', () => {
  it('encodes wl_display.get_registry(new_id 2) as 12 bytes', () => {
    expect(encodeRequest(1, 1, [2])).toEqual(
      Buffer.concat([word(1), word((12 << 16) | 1), word(2)]),
    );
  });
});

describe('splitMessages', () => {
  it('splits consecutive messages and keeps an incomplete tail for later', () => {
    const first = encodeMessage(2, 0, [1, 'wl_shm', 1]);
    const second = encodeMessage(3, 0, [7]);
    const stream = Buffer.concat([first, second.subarray(0, 5)]);
    const { messages, consumed } = splitMessages(stream);
    expect(messages).toHaveLength(1);
    expect(consumed).toBe(first.length);
    expect(decodeRegistryGlobal(messages[0]!)).toEqual({
      name: 1,
      interface: 'wl_shm',
      version: 1,
    });
  });

  it('waits for the rest of a truncated message instead of reading past the end', () => {
    const message = encodeMessage(2, 0, [1, 'xdg_wm_base', 5]);
    for (let cut = 0; cut < message.length; cut++) {
      expect(splitMessages(message.subarray(0, cut))).toEqual({ messages: [], consumed: 0 });
    }
  });

  it.each([
    ['size < 8', header(2, 4, 0), /size 4 is smaller than the 8-byte header/],
    ['size 0', header(2, 0, 0), /size 0 is smaller/],
    ['size not a multiple of 4', header(2, 10, 0), /size 10 is not a multiple of 4/],
    ['a huge size', header(2, 0xfffc, 0), /size 65532 exceeds 4096/],
    ['object id 0', header(0, 8, 0), /object id 0/],
  ])('rejects %s', (_name, bytes, message) => {
    expect(() => splitMessages(bytes)).toThrow(
      expect.objectContaining({ ...PROTOCOL, message: expect.stringMatching(message) }),
    );
  });

  it('accepts a message of exactly the maximum size', () => {
    const bytes = Buffer.concat([
      header(2, WL_MAX_MESSAGE_SIZE, 0),
      Buffer.alloc(WL_MAX_MESSAGE_SIZE - 8),
    ]);
    expect(splitMessages(bytes).messages[0]?.body.length).toBe(WL_MAX_MESSAGE_SIZE - 8);
  });
});

function bodyOf(bytes: Buffer): Uint8Array {
  return bytes.subarray(8);
}

describe('ArgReader and the event decoders', () => {
  it('decodes wl_display.error', () => {
    const [message] = splitMessages(encodeMessage(1, 0, [5, 2, 'invalid method'])).messages;
    expect(decodeDisplayError(message!)).toEqual({
      objectId: 5,
      code: 2,
      message: 'invalid method',
    });
  });

  it('decodes a single uint and rejects trailing bytes', () => {
    const [good] = splitMessages(encodeMessage(3, 0, [42])).messages;
    expect(decodeSingleUint(good!, 'callback_data')).toBe(42);
    const [long] = splitMessages(encodeMessage(3, 0, [42, 43])).messages;
    expect(() => decodeSingleUint(long!, 'callback_data')).toThrow(
      /4 bytes left after the last argument/,
    );
  });

  it('reads signed ints', () => {
    expect(new ArgReader(bodyOf(encodeMessage(1, 0, [0xffffffff]))).int('x')).toBe(-1);
  });

  it('rejects a uint past the end of the message', () => {
    expect(() => new ArgReader(new Uint8Array(2)).uint('name')).toThrow(
      /argument name runs past the end/,
    );
  });

  it('rejects a string whose length runs past the end', () => {
    const body = Buffer.alloc(8);
    body.set(word(100), 0);
    expect(() => new ArgReader(body).string('interface')).toThrow(
      expect.objectContaining({
        ...PROTOCOL,
        message: expect.stringMatching(/length 100 runs past the end/),
      }),
    );
  });

  it('rejects a string length near 2^32 without overflowing', () => {
    const body = Buffer.alloc(8);
    body.set(word(0xffffffff), 0);
    expect(() => new ArgReader(body).string('interface')).toThrow(/runs past the end/);
  });

  it('rejects a string without its NUL', () => {
    const body = Buffer.alloc(12);
    body.set(word(4), 0);
    body.write('abcd', 4);
    expect(() => new ArgReader(body).string('interface')).toThrow(/not NUL-terminated/);
  });

  it('rejects a string with a NUL before its end', () => {
    const body = Buffer.alloc(12);
    body.set(word(4), 0);
    body.write('a\0c\0', 4, 'latin1');
    expect(() => new ArgReader(body).string('interface')).toThrow(/contains a NUL before its end/);
  });

  it('rejects a string that is not UTF-8', () => {
    const body = Buffer.alloc(8);
    body.set(word(3), 0);
    body.set([0xff, 0xfe, 0], 4);
    expect(() => new ArgReader(body).string('interface')).toThrow(/not valid UTF-8/);
  });

  it('rejects a null string unless nullable', () => {
    const body = Buffer.alloc(4);
    expect(() => new ArgReader(body).string('interface')).toThrow(/null string/);
    expect(new ArgReader(body).string('interface', true)).toBeNull();
  });

  it('rejects a global whose interface is not an identifier', () => {
    const [message] = splitMessages(encodeMessage(2, 0, [1, 'wl shm; rm -rf', 1])).messages;
    expect(() => decodeRegistryGlobal(message!)).toThrow(/not an identifier/);
  });

  it('rejects a global missing its version', () => {
    const [message] = splitMessages(encodeMessage(2, 0, [1, 'wl_shm'])).messages;
    expect(() => decodeRegistryGlobal(message!)).toThrow(/argument version runs past the end/);
  });
});
