/**
 * The display bridge's limits as a policy sets them (`bridge.limits`): one row per field. Every
 * other place that names them is derived from this table: the policy document's type, its JSON
 * Schema and the defaults an older document gets (`policy-document.ts`, `policy-validate.ts`),
 * the compiled settings (`policy-compile.ts`), the native module's `BridgeSettings`
 * (`runtime/session-bridge.ts`), the facade's argument checks (`display/bridge.ts`),
 * `policy show` and the policy editor.
 *
 * A row says:
 * - `type`: `'integer'` (with the policy's bounds `min`..`max`) or `'boolean'`;
 * - `native`: where `BridgeSettings` (native/index.d.ts) holds it: `'limits'` (a per-client
 *   `BridgeLimits` field of the same name) or `'settings'` (its top level, under `nativeKey`
 *   when the name differs), and for an integer the bounds the native module itself accepts
 *   (`nativeMin`..`nativeMax`, as `kClientLimitFields` and `Bridge::Start` check them). The
 *   policy's bounds lie within the native ones (`min >= nativeMin`, `max <= nativeMax`; a unit
 *   test checks every row), so a policy that validates never names a value the bridge refuses;
 * - `default`: what a document that lacks the field gets: the `strict` preset's value, or
 *   `{ halfOf }` another row's value halved and rounded up (the native bridge's own rule).
 *   A row without one is required. A field added after the first policies were saved needs a
 *   default, so that saved documents and the preset files stay valid without it;
 * - `show`: its phrase in `policy show` (`{}` stands for the value, a boolean's two `words`), on
 *   the line of its `group`.
 *
 * The types at the end of this file fail `tsc` when the native module has a field that is not
 * here, this table names one the native module lacks, or a row's type is not the native one.
 */
import type { BridgeLimits, BridgeSettings } from '../../../native/index.js';

/** The part of the native settings a row sits in. */
type NativePlace = 'limits' | 'settings';

interface IntegerRow {
  type: 'integer';
  min: number;
  max: number;
  native: NativePlace;
  nativeKey?: string;
  nativeMin: number;
  nativeMax: number;
  default?: number | { halfOf: string };
  show: { group: string; phrase: string };
  /** What the field bounds, for the reader of a policy. */
  doc: string;
}

interface BooleanRow {
  type: 'boolean';
  native: NativePlace;
  nativeKey?: string;
  default?: boolean;
  show: { group: string; phrase: string; words: readonly [yes: string, no: string] };
  doc: string;
}

/** The bridge limits of a policy, in the order of the schema, `policy show` and the editor. */
export const BRIDGE_LIMITS = {
  maxFds: {
    type: 'integer',
    min: 1,
    max: 1024,
    native: 'limits',
    nativeMin: 1,
    nativeMax: 2 ** 16,
    show: { group: 'per client', phrase: '{} fds' },
    doc: 'fds the bridge keeps open for one client: shm pools, dma-buf planes',
  },
  maxPools: {
    type: 'integer',
    min: 1,
    max: 1024,
    native: 'limits',
    nativeMin: 1,
    nativeMax: 2 ** 16,
    show: { group: 'per client', phrase: '{} pools' },
    doc: 'live wl_shm_pools of one client',
  },
  maxBuffers: {
    type: 'integer',
    min: 1,
    max: 4096,
    native: 'limits',
    nativeMin: 1,
    nativeMax: 2 ** 16,
    show: { group: 'per client', phrase: '{} buffers' },
    doc: 'live wl_buffers of one client',
  },
  maxSurfaces: {
    type: 'integer',
    min: 1,
    max: 1024,
    native: 'limits',
    nativeMin: 1,
    nativeMax: 2 ** 16,
    show: { group: 'per client', phrase: '{} surfaces' },
    doc: 'live wl_surfaces of one client',
  },
  maxObjects: {
    type: 'integer',
    min: 16,
    max: 100_000,
    native: 'limits',
    nativeMin: 1,
    nativeMax: 2 ** 20,
    show: { group: 'per client', phrase: '{} objects' },
    doc: 'live relayed objects of one client',
  },
  maxRegionRects: {
    type: 'integer',
    min: 1,
    max: 65_536,
    native: 'limits',
    nativeMin: 1,
    nativeMax: 2 ** 16,
    default: 64,
    show: { group: 'rectangles', phrase: '{} per region' },
    doc: '`wl_region.add`/`subtract` calls on one region; one more ends the client',
  },
  maxDamageRects: {
    type: 'integer',
    min: 1,
    max: 65_536,
    native: 'limits',
    nativeMin: 1,
    nativeMax: 2 ** 16,
    default: 64,
    show: { group: 'rectangles', phrase: '{} damage per commit' },
    doc: 'damage rectangles per surface commit; past it, one whole-surface damage stands for the rest',
  },
  maxClients: {
    type: 'integer',
    min: 1,
    max: 1024,
    native: 'settings',
    nativeMin: 1,
    nativeMax: 1024,
    default: 8,
    show: { group: 'connections', phrase: '{} at once' },
    doc: 'guest connections served at once',
  },
  maxClientsPerUid: {
    type: 'integer',
    min: 1,
    max: 1024,
    native: 'settings',
    nativeMin: 0,
    nativeMax: 1024,
    default: { halfOf: 'maxClients' },
    show: { group: 'connections', phrase: '{} per guest uid' },
    doc: 'guest connections one guest uid may hold at once (at most `maxClients`)',
  },
  firstRequestTimeoutMs: {
    type: 'integer',
    min: 100,
    max: 600_000,
    native: 'settings',
    nativeMin: 1,
    nativeMax: 600_000,
    default: 1000,
    show: { group: 'connections', phrase: 'first request within {} ms' },
    doc: 'a connection that has not completed its first request within this many ms is dropped',
  },
  pollMaxUs: {
    type: 'integer',
    min: 0,
    max: 1000,
    native: 'settings',
    nativeMin: 0,
    nativeMax: 1000,
    default: 200,
    show: { group: 'connections', phrase: 'polls up to {} µs before sleeping' },
    doc: 'while messages come densely, the bridge polls this many µs at most for the next one before it sleeps (it then uses up to a core while a guest streams, and saves the wake-ups); 0: it never polls',
  },
  requireSealedBuffers: {
    type: 'boolean',
    native: 'settings',
    nativeKey: 'requireSealed',
    show: { group: 'per client', phrase: 'sealed buffers {}', words: ['required', 'not required'] },
    doc: 'shm pools must not be shrinkable under the host (the bridge seals or copies them)',
  },
} as const satisfies Record<string, IntegerRow | BooleanRow>;

type Table = typeof BRIDGE_LIMITS;
/** A bridge limit's name in the policy (`bridge.limits.<key>`). */
export type BridgeLimitKey = keyof Table;

/** `bridge.limits` of a policy: every row, a number or a boolean. */
export type BridgeLimitValues = {
  -readonly [K in BridgeLimitKey]: Table[K] extends { type: 'boolean' } ? boolean : number;
};

/** The rows a document may lack (they have a default). */
export type DefaultedBridgeLimit = {
  [K in BridgeLimitKey]: Table[K] extends { default: unknown } ? K : never;
}[BridgeLimitKey];

/** The rows' keys, in table order. */
export const BRIDGE_LIMIT_KEYS = Object.keys(BRIDGE_LIMITS) as BridgeLimitKey[];

/** A row, without its literal type (for code that treats every row alike). */
export function bridgeLimitRow(key: BridgeLimitKey): IntegerRow | BooleanRow {
  return BRIDGE_LIMITS[key];
}

/** The integer rows' keys, in table order (the editor's number fields). */
export const BRIDGE_INTEGER_LIMIT_KEYS = BRIDGE_LIMIT_KEYS.filter(
  (k) => BRIDGE_LIMITS[k].type === 'integer',
);

/** The JSON Schema of `bridge.limits`: the rows' types and bounds, those without a default required. */
export function bridgeLimitsSchema(): {
  type: 'object';
  additionalProperties: false;
  required: BridgeLimitKey[];
  properties: Record<BridgeLimitKey, object>;
} {
  const properties = {} as Record<BridgeLimitKey, object>;
  for (const key of BRIDGE_LIMIT_KEYS) {
    const row = bridgeLimitRow(key);
    properties[key] =
      row.type === 'integer'
        ? { type: 'integer', minimum: row.min, maximum: row.max }
        : { type: 'boolean' };
  }
  return {
    type: 'object',
    additionalProperties: false,
    required: BRIDGE_LIMIT_KEYS.filter((k) => bridgeLimitRow(k).default === undefined),
    properties,
  };
}

/** The constant defaults (a `{ halfOf }` one depends on the document, see `fillBridgeLimits`). */
export const BRIDGE_LIMIT_DEFAULTS = Object.fromEntries(
  BRIDGE_LIMIT_KEYS.flatMap((k) => {
    const d = bridgeLimitRow(k).default;
    return d === undefined || typeof d === 'object' ? [] : [[k, d]];
  }),
) as Partial<BridgeLimitValues>;

/**
 * `written` with the rows it lacks filled in from their defaults (appended in table order), and
 * the keys filled: a row another row's default depends on first, then the rest in table order.
 */
export function fillBridgeLimits(written: Partial<BridgeLimitValues>): {
  limits: BridgeLimitValues;
  filled: BridgeLimitKey[];
} {
  const values = new Map<BridgeLimitKey, number | boolean>();
  const valueOf = (key: string) =>
    written[key as BridgeLimitKey] ?? values.get(key as BridgeLimitKey);
  const dependedOn = new Set<string>();
  for (const key of BRIDGE_LIMIT_KEYS) {
    const d = bridgeLimitRow(key).default;
    if (typeof d === 'object') dependedOn.add(d.halfOf);
  }
  const order = [
    ...BRIDGE_LIMIT_KEYS.filter((k) => dependedOn.has(k)),
    ...BRIDGE_LIMIT_KEYS.filter((k) => !dependedOn.has(k)),
  ];
  for (const key of order) {
    const d = bridgeLimitRow(key).default;
    if (d === undefined || written[key] !== undefined) continue;
    values.set(key, typeof d === 'object' ? Math.ceil(Number(valueOf(d.halfOf)) / 2) : d);
  }
  const limits: Record<string, number | boolean | undefined> = { ...written };
  for (const key of BRIDGE_LIMIT_KEYS) if (values.has(key)) limits[key] = values.get(key);
  return { limits: limits as BridgeLimitValues, filled: [...values.keys()] };
}

/** Where a row's value goes in the native settings: `limits.<key>` or a top-level key. */
export function nativeBridgeKey(key: BridgeLimitKey): { in: NativePlace; key: string } {
  const row = bridgeLimitRow(key);
  return { in: row.native, key: row.nativeKey ?? key };
}

/** The part of the native `BridgeSettings` the rows decide (all but globals and clipboard). */
export type NativeBridgeLimits = Omit<BridgeSettings, 'globals' | 'clipboard'>;

/** The rows' values placed where `BridgeSettings` holds them. */
export function nativeBridgeLimits(values: BridgeLimitValues): NativeBridgeLimits {
  const top: Record<string, unknown> = {};
  const limits: Record<string, unknown> = {};
  for (const key of BRIDGE_LIMIT_KEYS) {
    const place = nativeBridgeKey(key);
    (place.in === 'limits' ? limits : top)[place.key] = values[key];
  }
  return { ...top, limits } as NativeBridgeLimits;
}

/**
 * The lines of `policy show` for `values`, one per group in table order: `group: ` and the
 * integers' phrases joined by `, `, then each boolean's after `; `.
 */
export function bridgeLimitLines(values: BridgeLimitValues): string[] {
  const groups = new Map<string, string[]>();
  const flags = new Map<string, string[]>();
  for (const key of BRIDGE_LIMIT_KEYS) {
    const row = bridgeLimitRow(key);
    const { group, phrase } = row.show;
    if (!groups.has(group)) {
      groups.set(group, []);
      flags.set(group, []);
    }
    if (row.type === 'integer') groups.get(group)!.push(phrase.replace('{}', String(values[key])));
    else flags.get(group)!.push(phrase.replace('{}', row.show.words[values[key] ? 0 : 1]));
  }
  return [...groups].map(([group, numbers]) => {
    const parts = [numbers.join(', '), ...flags.get(group)!].filter((part) => part !== '');
    return `${group}: ${parts.join('; ')}`;
  });
}

// The table and the native module name the same fields, both ways, with the same types. An
// error below names the field: give it its row above, or its declaration in native/index.d.ts.
type NativeKeyOf<K extends BridgeLimitKey> = Table[K] extends { nativeKey: infer N } ? N : K;
type NativeKeysIn<P extends NativePlace> = {
  [K in BridgeLimitKey]: Table[K]['native'] extends P ? NativeKeyOf<K> : never;
}[BridgeLimitKey];
type TopLevelNativeKey = Exclude<keyof BridgeSettings, 'globals' | 'clipboard' | 'limits'>;
type NativeValue<K extends BridgeLimitKey> = Table[K]['native'] extends 'limits'
  ? Required<BridgeLimits>[NativeKeyOf<K> & keyof BridgeLimits]
  : BridgeSettings[NativeKeyOf<K> & TopLevelNativeKey];
type WrongType = {
  [K in BridgeLimitKey]: [BridgeLimitValues[K]] extends [NativeValue<K>]
    ? [NativeValue<K>] extends [BridgeLimitValues[K]]
      ? never
      : K
    : K;
}[BridgeLimitKey];
/** `true` when `A` has nothing `B` lacks; else what it has. */
type NothingBut<A, B> = [Exclude<A, B>] extends [never] ? true : Exclude<A, B>;
type Assert<T extends true> = T;

/** Compiles only while this table and `native/index.d.ts` agree (nothing at run time). */
export type BridgeLimitsMatchNative = [
  Assert<NothingBut<keyof BridgeLimits, NativeKeysIn<'limits'>>>,
  Assert<NothingBut<NativeKeysIn<'limits'>, keyof BridgeLimits>>,
  Assert<NothingBut<TopLevelNativeKey, NativeKeysIn<'settings'>>>,
  Assert<NothingBut<NativeKeysIn<'settings'>, TopLevelNativeKey>>,
  Assert<NothingBut<WrongType, never>>,
];
