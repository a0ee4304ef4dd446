/**
 * The isolation policy document (version 1): its TypeScript shape and its JSON Schema.
 *
 * A policy says everything a session's container may do: which namespaces it gets, the
 * capabilities it keeps, its seccomp filter, cgroup limits, devices, masked and read-only paths,
 * shared folders, network, LSM confinement, hostname, and the display bridge's allow-list and
 * per-client limits. `validatePolicy` (policy-validate.ts) checks a document against the schema
 * and the rules the schema cannot express; `compilePolicy` (policy-compile.ts) turns a validated
 * policy into an LXC configuration, a seccomp profile, bridge settings and probe expectations.
 */
import {
  BRIDGE_LIMIT_DEFAULTS,
  bridgeLimitsSchema,
  type BridgeLimitValues,
} from './bridge-limits.js';
import type { DeviceClassName } from './devices.js';

/** The only document version this code reads. */
export const POLICY_VERSION = 1;

/** What a seccomp rule or the default does: `allow`, `kill` (the thread), or fail with `errno N`. */
export type SeccompAction = 'allow' | 'kill' | `errno ${number}`;

/** Comparison operators LXC's seccomp v2 profile accepts in argument filters. */
export const SECCOMP_ARG_OPS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;

export type SeccompArgOp = (typeof SECCOMP_ARG_OPS)[number];

/**
 * An argument filter in LXC's order, `[index, value, op]` or `[index, value, 'SCMP_CMP_MASKED_EQ',
 * mask]`: the rule applies when argument `index` compared with `value` holds (for MASKED_EQ:
 * `(arg & mask) == value`). Values are decimal integers up to 2^53-1.
 */
export type SeccompArgFilter =
  [number, number, SeccompArgOp] | [number, number, 'SCMP_CMP_MASKED_EQ', number];

export interface SeccompRule {
  syscall: string;
  action: SeccompAction;
  /** All filters must hold for the rule to apply (AND); absent or empty = every call. */
  args?: SeccompArgFilter[];
  /** Why the rule exists, for people reading the policy. */
  comment?: string;
}

export interface MaskedPath {
  /** Absolute guest path. */
  path: string;
  /** A file is covered by an empty read-only file, a directory by an empty read-only tmpfs. */
  kind: 'file' | 'dir';
}

export interface SharedFolder {
  /** Absolute host path of a directory owned by the user. */
  host: string;
  /** Absolute guest path where it appears. */
  guest: string;
  mode: 'ro' | 'rw';
}

export interface PolicyLimits {
  /** Memory limit in bytes. */
  memoryMax?: number;
  /** Swap the guest may use on top of `memoryMax`, in bytes (needs `memoryMax`). */
  swapMax?: number;
  /** CPU time per period in microseconds (needs `cpuPeriod`). */
  cpuQuota?: number;
  /** CPU period in microseconds (needs `cpuQuota`). */
  cpuPeriod?: number;
  /** Relative CPU weight, cgroup v2 scale 1..10000 (100 = default). */
  cpuWeight?: number;
  /** Maximum number of tasks (processes and threads). */
  pidsMax?: number;
  /** Relative block-I/O weight, cgroup v2 scale 1..10000 (100 = default). */
  ioWeight?: number;
}

/**
 * Size limits of everything the guest can write that the host stores. Every writable layer is
 * bounded: a full layer fails the guest's write with ENOSPC, never the host's disk.
 */
export interface PolicyStorage {
  /** The guest's writable root layer (a per-session tmpfs the rootfs is copied into). */
  maxBytes: number;
  /** The guest's `/tmp` (a per-session tmpfs). */
  tmpMaxBytes: number;
  /** Persistent guest data (`/data`): a fixed-size loop-backed ext4 image in the instance's folder. */
  dataMaxBytes: number;
  /** The guest console's log on the host (init's stdout and stderr); rotated once at half. */
  consoleMaxBytes: number;
}

/** The clipboard between host and guest (`wl_data_device_manager`, relayed by the bridge). */
export interface ClipboardPolicy {
  /**
   * `off`: the guest sees no data device manager. `host-to-guest`: the guest may paste what the
   * host copied, while its window has keyboard focus. `both`: the host may paste what the guest
   * copied, too. Drag-and-drop is never relayed.
   */
  mode: 'off' | 'host-to-guest' | 'both';
  /** MIME types that may cross, exact strings; every other type is never offered. */
  mimeTypes: string[];
  /** Bytes of one transfer; the rest is cut. */
  maxBytes: number;
}

export interface BridgePolicy {
  /** Wayland interface names the guest may bind; every other global is hidden. */
  globals: string[];
  clipboard: ClipboardPolicy;
  /** What each limit bounds, its bounds and its default: `BRIDGE_LIMITS` (bridge-limits.ts). */
  limits: BridgeLimitValues;
}

/**
 * What a document saved before these bridge fields existed gets for the ones it lacks (the
 * validator fills them in; every other field stays required, and a field that is present is
 * checked as always). The limits are the `strict` preset's, not `android`'s: a saved document
 * was approved without them, so it gets the tighter bound, and a guest that needs more says so
 * in its document. The clipboard is `off` (safer than either preset's `host-to-guest`): such a
 * document was written when no clipboard crossed the bridge, and filling it in must not open a
 * data flow its author never saw; the types and cap are the presets', for whoever turns it on.
 * `maxClientsPerUid` is filled as the native bridge's own default, half of `maxClients` rounded
 * up (4 of strict's 8), so a document that sets only `maxClients` stays consistent. The limits'
 * defaults are the `default`s of `BRIDGE_LIMITS`.
 */
export const BRIDGE_FIELD_DEFAULTS = {
  clipboard: {
    mode: 'off',
    mimeTypes: ['text/plain;charset=utf-8', 'text/plain', 'UTF8_STRING', 'STRING', 'TEXT'],
    maxBytes: 16 * 1024 * 1024,
  },
  limits: BRIDGE_LIMIT_DEFAULTS,
} as const satisfies {
  clipboard: ClipboardPolicy;
  limits: Partial<BridgePolicy['limits']>;
};

/** A policy document as written (before validation nothing of this is trusted). */
export interface PolicyDocument {
  version: 1;
  /** Short name, `[a-z0-9-]`, e.g. `'strict'`. */
  name: string;
  /** What the policy allows and what it costs, in a few sentences. */
  description: string;
  hostname: string;
  /** `true` = a private namespace; `false` = shared with the host. */
  namespaces: {
    pid: boolean;
    mount: boolean;
    ipc: boolean;
    uts: boolean;
    net: boolean;
    cgroup: boolean;
    /**
     * A user namespace: guest ids 0… map to the instance's own subordinate host range (the
     * runtime allocates it; the document never names host ids), so guest root is never host
     * root. `false` (a privileged, host-equivalent container, Waydroid's model) needs
     * `allowHostRoot: true`.
     */
    user: boolean;
  };
  /** Must be true for `namespaces.user: false`: running the guest as host root is an explicit choice. */
  allowHostRoot?: boolean;
  /** Capabilities kept in the bounding set; every other is dropped. */
  capabilities: string[];
  noNewPrivs: boolean;
  seccomp: { defaultAction: SeccompAction; rules: SeccompRule[] };
  limits: PolicyLimits;
  storage: PolicyStorage;
  /** What LXC mounts itself: `proc:mixed` keeps /proc/sys read-only, `sys:ro` all of /sys. */
  mountAuto: {
    proc: 'mixed' | 'rw';
    sys: 'ro' | 'mixed' | 'rw';
    cgroup: 'none' | 'ro' | 'mixed' | 'rw';
  };
  devices: DeviceClassName[];
  maskedPaths: MaskedPath[];
  readOnlyPaths: string[];
  sharedFolders: SharedFolder[];
  network: 'none' | 'nat';
  lsm: {
    apparmor: { profile: string; mode: 'enforce' | 'complain' | 'unconfined' };
    /** Must be true for `mode: 'unconfined'`: running without an LSM profile is an explicit choice. */
    allowUnconfined: boolean;
  };
  bridge: BridgePolicy;
}

declare const validatedBrand: unique symbol;

/** A policy that passed `validatePolicy`: the only input `compilePolicy` takes. */
export type ValidatedPolicy = PolicyDocument & { readonly [validatedBrand]: true };

/** Upper bounds used by the schema; exported so the UI can show them. */
export const POLICY_BOUNDS = {
  memoryMin: 16 * 1024 * 1024,
  memoryMax: 1024 * 1024 * 1024 * 1024,
  swapMax: 1024 * 1024 * 1024 * 1024,
  cpuPeriodMin: 1000,
  cpuPeriodMax: 1_000_000,
  cpuQuotaMin: 1000,
  cpuQuotaMax: 1_000_000_000,
  weightMin: 1,
  weightMax: 10_000,
  pidsMin: 16,
  pidsMax: 4_194_304,
  idMax: 4_294_967_294,
  storageMin: 1024 * 1024,
  storageMax: 1024 * 1024 * 1024 * 1024,
  consoleMin: 64 * 1024,
  consoleMax: 1024 * 1024 * 1024,
} as const;

// Guest paths: absolute, segments of a conservative character set (no whitespace, no control
// characters, nothing LXC's fstab-style mount lines would interpret).
const GUEST_PATH = '^(/[A-Za-z0-9._@+,:-]+)+$';
// Host paths of shared folders may contain spaces (escaped when compiled), never control characters.
const HOST_PATH = '^/[^\\u0000-\\u001f\\u007f]*$';
const SECCOMP_ACTION = '^(allow|kill|errno [1-9][0-9]{0,3})$';

const argFilter = {
  type: 'array',
  minItems: 3,
  maxItems: 4,
  items: false,
  prefixItems: [
    { type: 'integer', minimum: 0, maximum: 5 },
    { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    { enum: [...SECCOMP_ARG_OPS] },
    { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  ],
} as const;

/** JSON Schema (draft 2020-12) of a version-1 policy document. */
export const POLICY_SCHEMA = {
  $id: 'https://droidway.invalid/schemas/policy-v1.json',
  $defs: {
    storageBytes: {
      type: 'integer',
      minimum: POLICY_BOUNDS.storageMin,
      maximum: POLICY_BOUNDS.storageMax,
    },
  },
  type: 'object',
  additionalProperties: false,
  required: [
    'version',
    'name',
    'description',
    'hostname',
    'namespaces',
    'capabilities',
    'noNewPrivs',
    'seccomp',
    'limits',
    'storage',
    'mountAuto',
    'devices',
    'maskedPaths',
    'readOnlyPaths',
    'sharedFolders',
    'network',
    'lsm',
    'bridge',
  ],
  properties: {
    version: { const: POLICY_VERSION },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    description: { type: 'string', minLength: 1, maxLength: 4000 },
    hostname: {
      type: 'string',
      // One RFC 1123 label: what sethostname() and every resolver accept.
      pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
    },
    namespaces: {
      type: 'object',
      additionalProperties: false,
      required: ['pid', 'mount', 'ipc', 'uts', 'net', 'cgroup', 'user'],
      properties: {
        pid: { type: 'boolean' },
        mount: { type: 'boolean' },
        ipc: { type: 'boolean' },
        uts: { type: 'boolean' },
        net: { type: 'boolean' },
        cgroup: { type: 'boolean' },
        user: { type: 'boolean' },
      },
    },
    allowHostRoot: { type: 'boolean' },
    capabilities: {
      type: 'array',
      maxItems: 64,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z_]{1,32}$' },
    },
    noNewPrivs: { type: 'boolean' },
    seccomp: {
      type: 'object',
      additionalProperties: false,
      required: ['defaultAction', 'rules'],
      properties: {
        defaultAction: { type: 'string', pattern: SECCOMP_ACTION },
        rules: {
          type: 'array',
          maxItems: 1024,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['syscall', 'action'],
            properties: {
              syscall: { type: 'string', pattern: '^[a-z_][a-z0-9_]{0,63}$' },
              action: { type: 'string', pattern: SECCOMP_ACTION },
              args: { type: 'array', maxItems: 6, items: argFilter },
              comment: { type: 'string', maxLength: 500 },
            },
          },
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        memoryMax: {
          type: 'integer',
          minimum: POLICY_BOUNDS.memoryMin,
          maximum: POLICY_BOUNDS.memoryMax,
        },
        swapMax: { type: 'integer', minimum: 0, maximum: POLICY_BOUNDS.swapMax },
        cpuQuota: {
          type: 'integer',
          minimum: POLICY_BOUNDS.cpuQuotaMin,
          maximum: POLICY_BOUNDS.cpuQuotaMax,
        },
        cpuPeriod: {
          type: 'integer',
          minimum: POLICY_BOUNDS.cpuPeriodMin,
          maximum: POLICY_BOUNDS.cpuPeriodMax,
        },
        cpuWeight: {
          type: 'integer',
          minimum: POLICY_BOUNDS.weightMin,
          maximum: POLICY_BOUNDS.weightMax,
        },
        pidsMax: {
          type: 'integer',
          minimum: POLICY_BOUNDS.pidsMin,
          maximum: POLICY_BOUNDS.pidsMax,
        },
        ioWeight: {
          type: 'integer',
          minimum: POLICY_BOUNDS.weightMin,
          maximum: POLICY_BOUNDS.weightMax,
        },
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      required: ['maxBytes', 'tmpMaxBytes', 'dataMaxBytes', 'consoleMaxBytes'],
      properties: {
        maxBytes: { $ref: '#/$defs/storageBytes' },
        tmpMaxBytes: { $ref: '#/$defs/storageBytes' },
        dataMaxBytes: { $ref: '#/$defs/storageBytes' },
        consoleMaxBytes: {
          type: 'integer',
          minimum: POLICY_BOUNDS.consoleMin,
          maximum: POLICY_BOUNDS.consoleMax,
        },
      },
    },
    mountAuto: {
      type: 'object',
      additionalProperties: false,
      required: ['proc', 'sys', 'cgroup'],
      properties: {
        proc: { enum: ['mixed', 'rw'] },
        sys: { enum: ['ro', 'mixed', 'rw'] },
        cgroup: { enum: ['none', 'ro', 'mixed', 'rw'] },
      },
    },
    devices: {
      type: 'array',
      maxItems: 32,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$' },
    },
    maskedPaths: {
      type: 'array',
      maxItems: 256,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'kind'],
        properties: {
          path: { type: 'string', maxLength: 1024, pattern: GUEST_PATH },
          kind: { enum: ['file', 'dir'] },
        },
      },
    },
    readOnlyPaths: {
      type: 'array',
      maxItems: 256,
      uniqueItems: true,
      items: { type: 'string', maxLength: 1024, pattern: GUEST_PATH },
    },
    sharedFolders: {
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['host', 'guest', 'mode'],
        properties: {
          host: { type: 'string', minLength: 1, maxLength: 1024, pattern: HOST_PATH },
          guest: { type: 'string', maxLength: 1024, pattern: GUEST_PATH },
          mode: { enum: ['ro', 'rw'] },
        },
      },
    },
    network: { enum: ['none', 'nat'] },
    lsm: {
      type: 'object',
      additionalProperties: false,
      required: ['apparmor', 'allowUnconfined'],
      properties: {
        apparmor: {
          type: 'object',
          additionalProperties: false,
          required: ['profile', 'mode'],
          properties: {
            profile: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$' },
            mode: { enum: ['enforce', 'complain', 'unconfined'] },
          },
        },
        allowUnconfined: { type: 'boolean' },
      },
    },
    bridge: {
      type: 'object',
      additionalProperties: false,
      // clipboard: optional for documents saved before it existed (BRIDGE_FIELD_DEFAULTS).
      required: ['globals', 'limits'],
      properties: {
        globals: {
          type: 'array',
          maxItems: 64,
          uniqueItems: true,
          items: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' },
        },
        clipboard: {
          type: 'object',
          additionalProperties: false,
          required: ['mode', 'mimeTypes', 'maxBytes'],
          properties: {
            mode: { enum: ['off', 'host-to-guest', 'both'] },
            mimeTypes: {
              type: 'array',
              maxItems: 32,
              uniqueItems: true,
              // The format is checked by the semantic rules, with a message that says it.
              items: { type: 'string', maxLength: 1024 },
            },
            maxBytes: { type: 'integer', minimum: 1, maximum: 1_073_741_824 },
          },
        },
        // Rows without a default are required: BRIDGE_LIMITS (bridge-limits.ts).
        limits: bridgeLimitsSchema(),
      },
    },
  },
} as const;
