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
 * Every row set: integers counting down from their maximum (valid for the policy and the native
 * module, and `maxClientsPerUid` below `maxClients`), booleans `false` (the presets all say
 * `true`). Throws when two integers would be equal (a new row whose maximum meets another's),
 * so that the tests using it keep catching a swap.
 */
export function distinctBridgeLimits(): BridgeLimitValues {
  const values: Record<string, number | boolean> = {};
  const seen = new Map<number, string>();
  BRIDGE_LIMIT_KEYS.forEach((key, i) => {
    const row = bridgeLimitRow(key);
    if (row.type === 'boolean') {
      values[key] = false;
      return;
    }
    const value = Math.min(row.max, row.nativeMax) - i;
    if (value < Math.max(row.min, row.nativeMin) || seen.has(value)) {
      throw new Error(
        `no distinct value for ${key}: ${value} (${seen.get(value) ?? 'out of range'})`,
      );
    }
    seen.set(value, key);
    values[key] = value;
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
