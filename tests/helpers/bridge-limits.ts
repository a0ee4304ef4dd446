/**
 * Values of every bridge limit (`BRIDGE_LIMITS`) for tests that follow each field from the
 * policy to the native bridge: each integer a different value, so that two fields swapped on
 * the way cannot go unnoticed.
 */
import {
  BRIDGE_LIMIT_KEYS,
  bridgeLimitRow,
  nativeBridgeKey,
  type BridgeLimitValues,
} from '../../electron/core/policy/bridge-limits.js';

/**
 * Every row set: integers counting down from their maximum (distinct, valid for the policy and
 * the native module, and `maxClientsPerUid` below `maxClients`), booleans `false` (the presets
 * all say `true`).
 */
export function distinctBridgeLimits(): BridgeLimitValues {
  const values: Record<string, number | boolean> = {};
  BRIDGE_LIMIT_KEYS.forEach((key, i) => {
    const row = bridgeLimitRow(key);
    values[key] = row.type === 'integer' ? Math.min(row.max, row.nativeMax) - i : false;
  });
  return values as BridgeLimitValues;
}

/** Where the native settings (or a bridge's effective configuration) hold the row `key`. */
export function nativeValueOf(
  settings: { limits: object } & object,
  key: (typeof BRIDGE_LIMIT_KEYS)[number],
): unknown {
  const place = nativeBridgeKey(key);
  const from = (place.in === 'limits' ? settings.limits : settings) as Record<string, unknown>;
  return from[place.key];
}

/** The native keys of the rows in `place`, sorted. */
export function nativeKeysIn(place: 'limits' | 'settings'): string[] {
  return BRIDGE_LIMIT_KEYS.map(nativeBridgeKey)
    .filter((p) => p.in === place)
    .map((p) => p.key)
    .sort();
}
