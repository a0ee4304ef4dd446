/**
 * How the APK reader process and its client talk: over the reader's stdin (requests) and stdout
 * (replies), each message one frame, a 4-byte little-endian length then the value serialized with
 * `v8.serialize` (Buffers included). Node's IPC channel would do the same, but setting it up
 * loads `child_process` and `net` in the reader, several milliseconds of every
 * `droidway apk info`. A frame over the receiver's cap is refused before it is buffered: the
 * reader parses hostile APKs, and what it sends back must not make its parent buffer without
 * bound.
 */
import { deserialize, serialize } from 'node:v8';

const HEADER_BYTES = 4;

/** One message as a frame. */
export function encodeFrame(value: unknown): Buffer {
  const body = serialize(value);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

/** Cuts a byte stream into messages. */
export class FrameReader {
  // Bytes not yet part of a whole frame, as they came (joined once a frame is whole, so a large
  // frame arriving in many chunks is copied once, not once per chunk).
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxBytes the largest frame body accepted */
  constructor(private readonly maxBytes: number) {}

  /**
   * Takes the next bytes of the stream (copied: the caller may reuse `chunk`) and returns the
   * messages they complete, in order.
   * @throws Error when a frame announces more than `maxBytes`, or does not deserialize
   */
  push(chunk: Uint8Array): unknown[] {
    this.chunks.push(Buffer.from(chunk));
    this.buffered += chunk.length;
    const values: unknown[] = [];
    while (this.buffered >= HEADER_BYTES) {
      if (this.chunks[0]!.length < HEADER_BYTES) this.join();
      const length = this.chunks[0]!.readUInt32LE(0);
      if (length > this.maxBytes)
        throw new Error(`a message of ${length} bytes, more than the ${this.maxBytes} allowed`);
      if (this.buffered < HEADER_BYTES + length) break;
      const pending = this.join();
      values.push(deserialize(pending.subarray(HEADER_BYTES, HEADER_BYTES + length)));
      const rest = pending.subarray(HEADER_BYTES + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return values;
  }

  /** Joins the buffered chunks into one (the first), and returns it. */
  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}
