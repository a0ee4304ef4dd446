/**
 * The JSON schemas of the control socket's messages (`control-protocol.ts`), compiled ahead of
 * time into `electron/generated/` by `npm run build:validators`.
 */
import type { JSONSchemaType } from 'ajv';
import type { BridgeClientStats, BridgeStats } from '../../../native/index.js';

/** Limits of `attach-exec`. */
export const ATTACH_LIMITS = {
  maxArgs: 256,
  maxArgLength: 4096,
  maxEnv: 64,
  maxEnvValueLength: 4096,
  /** Decoded stdin bytes. */
  maxStdinBytes: 512 * 1024,
  maxTimeoutMs: 10 * 60 * 1000,
} as const;

/** Most clients a `bridge-stats` answer may list (the bridge keeps 256 gone ones, plus live). */
export const MAX_BRIDGE_STATS_CLIENTS = 2048;

const counter = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
/** Reason → count (`fdsRejected`, `violations`): at most 256 reasons of 1 to 128 characters. */
const reasons = {
  type: 'object',
  maxProperties: 256,
  propertyNames: { minLength: 1, maxLength: 128 },
  required: [],
  additionalProperties: counter,
} as const;

const bridgeClient: JSONSchemaType<BridgeClientStats> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'clientId',
    'pid',
    'uid',
    'connected',
    'disconnectReason',
    'commits',
    'buffersForwarded',
    'bytesCopied',
    'damageRectsDropped',
    'objects',
    'pools',
    'buffers',
    'surfaces',
    'fdsRejected',
    'violations',
  ],
  properties: {
    clientId: counter,
    pid: counter,
    uid: counter,
    connected: { type: 'boolean' },
    // Present but maybe null: a reference, as JSONSchemaType allows `nullable` on optional
    // members only.
    disconnectReason: { $ref: '#/definitions/disconnectReason' },
    commits: counter,
    buffersForwarded: {
      type: 'object',
      additionalProperties: false,
      required: ['shm', 'dmabuf'],
      properties: { shm: counter, dmabuf: counter },
    },
    bytesCopied: counter,
    damageRectsDropped: counter,
    objects: counter,
    pools: counter,
    buffers: counter,
    surfaces: counter,
    fdsRejected: reasons,
    violations: reasons,
  },
};

/**
 * A `bridge-stats` answer, as the client reads it: counters are non-negative safe integers,
 * reason maps bounded; keys it does not name (a newer bridge's counters) are dropped.
 */
export const BRIDGE_STATS_SCHEMA: JSONSchemaType<BridgeStats> = {
  definitions: { disconnectReason: { type: 'string', nullable: true, maxLength: 512 } },
  type: 'object',
  additionalProperties: false,
  required: ['running', 'clientsTotal', 'poll', 'clients'],
  properties: {
    running: { type: 'boolean' },
    clientsTotal: counter,
    poll: {
      type: 'object',
      additionalProperties: false,
      required: ['ns', 'workNs', 'hits', 'misses'],
      properties: { ns: counter, workNs: counter, hits: counter, misses: counter },
    },
    clients: { type: 'array', maxItems: MAX_BRIDGE_STATS_CLIENTS, items: bridgeClient },
  },
};
