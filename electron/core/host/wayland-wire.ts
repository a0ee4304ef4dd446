/**
 * The Wayland wire format, as far as a registry round trip needs it: framing (an 8-byte header
 * of object id, then size << 16 | opcode, in host byte order), `uint`/`int`/`string` arguments,
 * and the events of `wl_display`, `wl_registry` and `wl_callback`. The compositor is a peer
 * process: every size, length and padding in its bytes is checked before use, and anything out
 * of bounds is a `ParseError` with code `'EWAYLAND_PROTOCOL'`.
 */
import { endianness } from 'node:os';
import { ParseError } from './parse-error.js';

/** Error code of malformed wire data. */
export const WAYLAND_PROTOCOL_ERROR_CODE = 'EWAYLAND_PROTOCOL';

/** Bytes of a message header. */
export const WL_HEADER_SIZE = 8;
/** Largest message libwayland sends or accepts by default (`WL_MAX_MESSAGE_SIZE`). */
export const WL_MAX_MESSAGE_SIZE = 4096;

const LITTLE_ENDIAN = endianness() === 'LE';

/** One framed message; `body` is the argument bytes after the header. */
export interface WireMessage {
  objectId: number;
  opcode: number;
  body: Uint8Array;
}

function protocolError(what: string): ParseError {
  return new ParseError(WAYLAND_PROTOCOL_ERROR_CODE, `malformed Wayland message: ${what}`);
}

function readU32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    at,
    LITTLE_ENDIAN,
  );
}

/**
 * Takes every complete message off the front of `stream`. Returns them and how many bytes they
 * used; the bytes after `consumed` are the start of a message not yet fully received. Throws a
 * `ParseError` for a header with object id 0, a size below 8, above `WL_MAX_MESSAGE_SIZE` or not
 * a multiple of 4, since no later bytes can make such a stream valid.
 */
export function splitMessages(stream: Uint8Array): { messages: WireMessage[]; consumed: number } {
  const messages: WireMessage[] = [];
  let at = 0;
  while (stream.length - at >= WL_HEADER_SIZE) {
    const objectId = readU32(stream, at);
    const sizeAndOpcode = readU32(stream, at + 4);
    const size = sizeAndOpcode >>> 16;
    const opcode = sizeAndOpcode & 0xffff;
    if (objectId === 0) throw protocolError(`event for object id 0 at byte ${at}`);
    if (size < WL_HEADER_SIZE)
      throw protocolError(`size ${size} is smaller than the 8-byte header`);
    if (size % 4 !== 0) throw protocolError(`size ${size} is not a multiple of 4`);
    if (size > WL_MAX_MESSAGE_SIZE)
      throw protocolError(`size ${size} exceeds ${WL_MAX_MESSAGE_SIZE}`);
    if (stream.length - at < size) break;
    messages.push({ objectId, opcode, body: stream.subarray(at + WL_HEADER_SIZE, at + size) });
    at += size;
  }
  return { messages, consumed: at };
}

/** Reads the arguments of one message in order, checking each against the bytes left. */
export class ArgReader {
  private at = 0;

  /** @param body the argument bytes of one message (`WireMessage.body`) */
  constructor(private readonly body: Uint8Array) {}

  /** A `uint` (or `object`/`new_id`) argument. */
  uint(name: string): number {
    if (this.body.length - this.at < 4)
      throw protocolError(`argument ${name} runs past the end of the message`);
    const value = readU32(this.body, this.at);
    this.at += 4;
    return value;
  }

  /** An `int` argument. */
  int(name: string): number {
    return this.uint(name) | 0;
  }

  /**
   * A `string` argument: a length including the terminating NUL, the bytes, padding to 4.
   * Length 0 is a null string, which only `nullable` arguments may be. The bytes must be UTF-8,
   * end in the one NUL the length counts and contain no other.
   */
  string(name: string, nullable = false): string | null {
    const length = this.uint(`${name} length`);
    if (length === 0) {
      if (nullable) return null;
      throw protocolError(`argument ${name} is a null string`);
    }
    const padded = length + ((4 - (length % 4)) % 4);
    if (padded > this.body.length - this.at) {
      throw protocolError(`string ${name} of length ${length} runs past the end of the message`);
    }
    const bytes = this.body.subarray(this.at, this.at + length);
    if (bytes[length - 1] !== 0) throw protocolError(`string ${name} is not NUL-terminated`);
    if (bytes.indexOf(0) !== length - 1)
      throw protocolError(`string ${name} contains a NUL before its end`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length - 1));
    } catch {
      throw protocolError(`string ${name} is not valid UTF-8`);
    }
    this.at += padded;
    return text;
  }

  /** Checks that every byte of the message was an argument. */
  end(): void {
    if (this.at !== this.body.length) {
      throw protocolError(`${this.body.length - this.at} bytes left after the last argument`);
    }
  }
}

/**
 * Encodes a request whose arguments are all 32-bit (`uint`, `object`, `new_id` of a known
 * interface), e.g. `wl_display.get_registry(2)`.
 */
export function encodeRequest(objectId: number, opcode: number, args: readonly number[]): Buffer {
  const size = WL_HEADER_SIZE + 4 * args.length;
  const out = Buffer.alloc(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, objectId, LITTLE_ENDIAN);
  view.setUint32(4, ((size << 16) | opcode) >>> 0, LITTLE_ENDIAN);
  args.forEach((arg, i) => view.setUint32(WL_HEADER_SIZE + 4 * i, arg >>> 0, LITTLE_ENDIAN));
  return out;
}

/**
 * Encodes an event or request with any mix of `uint` and `string` arguments; used by tests to
 * play a compositor. Strings get their NUL and padding.
 */
export function encodeMessage(
  objectId: number,
  opcode: number,
  args: readonly (number | string)[],
): Buffer {
  const parts: Buffer[] = [];
  for (const arg of args) {
    if (typeof arg === 'number') {
      const word = Buffer.alloc(4);
      new DataView(word.buffer, word.byteOffset, 4).setUint32(0, arg >>> 0, LITTLE_ENDIAN);
      parts.push(word);
    } else {
      const text = Buffer.from(`${arg}\0`, 'utf8');
      const word = Buffer.alloc(4);
      new DataView(word.buffer, word.byteOffset, 4).setUint32(0, text.length, LITTLE_ENDIAN);
      parts.push(word, text, Buffer.alloc((4 - (text.length % 4)) % 4));
    }
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(WL_HEADER_SIZE);
  const view = new DataView(header.buffer, header.byteOffset, WL_HEADER_SIZE);
  view.setUint32(0, objectId, LITTLE_ENDIAN);
  view.setUint32(4, (((WL_HEADER_SIZE + body.length) << 16) | opcode) >>> 0, LITTLE_ENDIAN);
  return Buffer.concat([header, body]);
}

/** A global the compositor advertises (`wl_registry.global`). */
export interface WaylandGlobal {
  name: number;
  interface: string;
  version: number;
}

/** Longest interface name accepted; real ones are under 64 bytes. */
const MAX_INTERFACE_LENGTH = 256;

/** Decodes `wl_registry.global(name uint, interface string, version uint)`. */
export function decodeRegistryGlobal(message: WireMessage): WaylandGlobal {
  const args = new ArgReader(message.body);
  const name = args.uint('name');
  const iface = args.string('interface') as string;
  const version = args.uint('version');
  args.end();
  if (iface.length > MAX_INTERFACE_LENGTH || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(iface)) {
    throw protocolError('interface name is not an identifier');
  }
  return { name, interface: iface, version };
}

/** Decodes `wl_display.error(object_id object, code uint, message string)`. */
export function decodeDisplayError(message: WireMessage): {
  objectId: number;
  code: number;
  message: string;
} {
  const args = new ArgReader(message.body);
  const objectId = args.uint('object_id');
  const code = args.uint('code');
  const text = args.string('message') as string;
  args.end();
  return { objectId, code, message: text };
}

/** Decodes an event with a single `uint` argument (`wl_callback.done`, `wl_display.delete_id`, `wl_registry.global_remove`). */
export function decodeSingleUint(message: WireMessage, name: string): number {
  const args = new ArgReader(message.body);
  const value = args.uint(name);
  args.end();
  return value;
}
