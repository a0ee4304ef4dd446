/**
 * The client side's check of a `bridge-stats` answer, apart from `control-protocol.ts` so that
 * only `droidway bridge stats` (and the app's stats view) loads the compiled validator: the
 * other control requests (`session status`, stop, freeze) never need it.
 */
import type { ValidateFunction } from 'ajv';
import type { BridgeStats } from '../../../native/index.js';
import { validateBridgeStats } from '../../generated/control-protocol.js';
import { describeSchemaError } from '../schema-errors.js';
import { RuntimeError } from './runtime-errors.js';

const validateStats = validateBridgeStats as ValidateFunction<BridgeStats>;

/**
 * Checks a `bridge-stats` answer (client side) against `BRIDGE_STATS_SCHEMA` and returns it
 * typed. Throws `RuntimeError` (`CONTROL_UNAVAILABLE`) naming the first field that is missing or
 * of the wrong type: counters must be non-negative safe integers, reason maps must map short
 * strings to counters. Keys the schema does not name are dropped.
 */
export function parseBridgeStatsValue(value: unknown): BridgeStats {
  if (!validateStats(value)) {
    const { path, reason } = describeSchemaError(validateStats.errors![0]!, value);
    throw new RuntimeError(
      'CONTROL_UNAVAILABLE',
      `malformed bridge-stats answer: ${path === '' ? 'the answer' : path} ${reason}`,
    );
  }
  return value;
}
