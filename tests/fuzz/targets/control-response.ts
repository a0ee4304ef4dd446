/**
 * Fuzz target: the control client's reading of an answer (from the session host, which reads
 * guest state) and of a `bridge-stats` value inside it.
 */
import { parseBridgeStatsValue } from '../../../electron/core/runtime/bridge-stats-answer.js';
import { parseControlResponse } from '../../../electron/core/runtime/control-protocol.js';
import type { FuzzTarget } from '../engine.js';
import { isRuntimeError, JSON_TOKENS, jsonSeeds } from './common.js';

const client = {
  clientId: 1, pid: 42, uid: 0, connected: true, disconnectReason: null, commits: 10,
  buffersForwarded: { shm: 9, dmabuf: 0 }, bytesCopied: 0, damageRectsDropped: 0, objects: 12, pools: 1,
  buffers: 3, surfaces: 3, fdsRejected: {}, violations: {},
}; // prettier-ignore

export const target: FuzzTarget = {
  name: 'control-response',
  seeds: () =>
    jsonSeeds([
      { id: 3, ok: true, value: { state: 'running' } },
      { id: null, ok: false, error: { code: 'CONTROL_BAD_REQUEST', message: 'no' } },
      { id: 1, ok: true, value: { running: true, clientsTotal: 2, clients: [client, { ...client, clientId: 2, connected: false, disconnectReason: 'violation:unsealed', fdsRejected: { unsealed: 1 }, violations: { unsealed: 1 } }] } },
    ]), // prettier-ignore
  run: (input) => {
    const answer = parseControlResponse(input.toString('utf8'));
    if (answer.ok) parseBridgeStatsValue(answer.value);
  },
  typed: isRuntimeError,
  dictionary: [...JSON_TOKENS, '"clients"', '"clientsTotal"', '"running"', '"fdsRejected"', '"violations"', '"buffersForwarded"'], // prettier-ignore
  maxLength: 8 * 1024,
};
