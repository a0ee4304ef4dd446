/**
 * One registry round trip with a Wayland compositor, in plain Node: connect to its socket, send
 * `wl_display.get_registry(2)` and `wl_display.sync(3)`, collect `wl_registry.global` events
 * until `wl_callback.done` for object 3 arrives, then close. Bounded in time and in bytes
 * received; the compositor's bytes go through the checked parser in `wayland-wire.ts`.
 */
import { createConnection } from 'node:net';
import {
  decodeDisplayError,
  decodeRegistryGlobal,
  decodeSingleUint,
  encodeRequest,
  splitMessages,
  WAYLAND_PROTOCOL_ERROR_CODE,
  type WaylandGlobal,
} from './wayland-wire.js';

export type { WaylandGlobal } from './wayland-wire.js';

const DISPLAY_ID = 1;
const REGISTRY_ID = 2;
const CALLBACK_ID = 3;
const WL_DISPLAY_SYNC = 0;
const WL_DISPLAY_GET_REGISTRY = 1;
const WL_DISPLAY_ERROR = 0;
const WL_DISPLAY_DELETE_ID = 1;
const WL_REGISTRY_GLOBAL = 0;
const WL_REGISTRY_GLOBAL_REMOVE = 1;
const WL_CALLBACK_DONE = 0;

/** Error codes of a failed round trip, besides the socket's own (`ENOENT`, `ECONNREFUSED` …). */
export const WAYLAND_ERROR_CODES = {
  /** No `wl_callback.done` within the time limit. */
  timeout: 'ETIMEDOUT',
  /** The compositor closed the connection before `wl_callback.done`. */
  closed: 'EWAYLAND_CLOSED',
  /** The compositor sent `wl_display.error`. */
  displayError: 'EWAYLAND_DISPLAY_ERROR',
  /** The compositor sent more than `maxBytes`. */
  tooMuch: 'EWAYLAND_TOO_LARGE',
} as const;

export interface RoundTripOptions {
  /** Time limit for connect plus round trip; default 3000 ms. */
  timeoutMs?: number;
  /** Most bytes accepted from the compositor; default 256 KiB. */
  maxBytes?: number;
}

function codedError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/**
 * Connects to the Wayland socket at `socketPath` and returns the globals the compositor
 * advertises, in the order received (minus any it removed before the round trip ended).
 * Rejects with an `Error` whose `code` is the socket error (`ENOENT`, `ECONNREFUSED`, `EACCES`
 * …), one of `WAYLAND_ERROR_CODES`, or `'EWAYLAND_PROTOCOL'` for malformed data. The socket is
 * closed whatever the outcome.
 */
export function fetchWaylandGlobals(
  socketPath: string,
  options: RoundTripOptions = {},
): Promise<WaylandGlobal[]> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const maxBytes = options.maxBytes ?? 256 * 1024;
  return new Promise((resolve, reject) => {
    const globals = new Map<number, WaylandGlobal>();
    let pending: Buffer = Buffer.alloc(0);
    let received = 0;
    let settled = false;
    const socket = createConnection({ path: socketPath });

    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error === null) resolve([...globals.values()]);
      else reject(error);
    };
    const timer = setTimeout(
      () =>
        finish(
          codedError(
            WAYLAND_ERROR_CODES.timeout,
            `no reply from the compositor within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );

    socket.on('connect', () => {
      socket.write(
        Buffer.concat([
          encodeRequest(DISPLAY_ID, WL_DISPLAY_GET_REGISTRY, [REGISTRY_ID]),
          encodeRequest(DISPLAY_ID, WL_DISPLAY_SYNC, [CALLBACK_ID]),
        ]),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > maxBytes) {
        finish(
          codedError(
            WAYLAND_ERROR_CODES.tooMuch,
            `the compositor sent more than ${maxBytes} bytes`,
          ),
        );
        return;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        const { messages, consumed } = splitMessages(pending);
        pending = pending.subarray(consumed);
        for (const message of messages) {
          const key = `${message.objectId}:${message.opcode}`;
          switch (key) {
            case `${REGISTRY_ID}:${WL_REGISTRY_GLOBAL}`: {
              const global = decodeRegistryGlobal(message);
              globals.set(global.name, global);
              break;
            }
            case `${REGISTRY_ID}:${WL_REGISTRY_GLOBAL_REMOVE}`:
              globals.delete(decodeSingleUint(message, 'name'));
              break;
            case `${DISPLAY_ID}:${WL_DISPLAY_DELETE_ID}`:
              decodeSingleUint(message, 'id');
              break;
            case `${DISPLAY_ID}:${WL_DISPLAY_ERROR}`: {
              const e = decodeDisplayError(message);
              finish(
                codedError(
                  WAYLAND_ERROR_CODES.displayError,
                  `the compositor reported error ${e.code} on object ${e.objectId}: ${e.message.slice(0, 200)}`,
                ),
              );
              return;
            }
            case `${CALLBACK_ID}:${WL_CALLBACK_DONE}`:
              decodeSingleUint(message, 'callback_data');
              finish(null);
              return;
            default:
              throw codedError(
                WAYLAND_PROTOCOL_ERROR_CODE,
                `malformed Wayland message: unexpected event ${message.opcode} for object ${message.objectId}`,
              );
          }
        }
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () =>
      finish(
        codedError(
          WAYLAND_ERROR_CODES.closed,
          pending.length > 0
            ? `the compositor closed the connection in the middle of a message (${pending.length} bytes)`
            : 'the compositor closed the connection before the round trip ended',
        ),
      ),
    );
  });
}
