/**
 * The JSON schema of the isolation probe's report (`droidway-probe/1`, `probe-output.ts`),
 * compiled ahead of time into `electron/generated/probe-output.ts` by `npm run build:validators`.
 * Every section and field is required (a value the probe could not measure is `null`); strings,
 * arrays and integers are bounded; keys the schema does not name are dropped, so they never
 * reach the verifier.
 */
import type { JSONSchemaType } from 'ajv';
import type {
  CapSets,
  DeviceNode,
  EscapeAttempt,
  MaskedPath,
  ProbeNamespace,
  ProbeObservations,
  ReadOnlyPath,
  SyscallAttempt,
} from './probe-output.js';

/** Format tag the probe writes; anything else is refused. */
export const PROBE_FORMAT = 'droidway-probe/1';

/** Longest string accepted anywhere in the output (a path is at most PATH_MAX = 4096). */
export const MAX_PROBE_STRING = 8192;
/** Longest array accepted anywhere (the probe caps its own lists at 4096). */
export const MAX_PROBE_ARRAY = 8192;

/** Namespace names the probe reports (`/proc/<pid>/ns/<name>`). */
export const PROBE_NAMESPACES = [
  'pid',
  'mnt',
  'net',
  'ipc',
  'uts',
  'cgroup',
  'user',
  'time',
] as const;

const SAFE = Number.MAX_SAFE_INTEGER;
// The scalars are shared definitions, each compiled once and called by reference: the report has
// some 150 fields, and inlined checks for each would make a validator of a quarter megabyte.
const definitions = {
  str: { type: 'string', maxLength: MAX_PROBE_STRING },
  nstr: { type: 'string', nullable: true, maxLength: MAX_PROBE_STRING },
  int: { type: 'integer', minimum: -SAFE, maximum: SAFE },
  nint: { type: 'integer', nullable: true, minimum: -SAFE, maximum: SAFE },
  nbool: { type: 'boolean', nullable: true },
  strList: {
    type: 'array',
    maxItems: MAX_PROBE_ARRAY,
    items: { type: 'string', maxLength: MAX_PROBE_STRING },
  },
  nstrList: {
    type: 'array',
    nullable: true,
    maxItems: MAX_PROBE_ARRAY,
    items: { type: 'string', maxLength: MAX_PROBE_STRING },
  },
} as const;
const ref = (name: keyof typeof definitions) => ({ $ref: `#/definitions/${name}` }) as const;
const str = ref('str');
const nstr = ref('nstr');
const int = ref('int');
const nint = ref('nint');
const bool = { type: 'boolean' } as const;
const nbool = ref('nbool');
const strList = ref('strList');
const nstrList = ref('nstrList');

/** An object of exactly `properties`, all required. */
function record<T>(
  properties: JSONSchemaType<T>['properties'],
  required: (keyof T & string)[],
): JSONSchemaType<T> {
  return {
    type: 'object',
    additionalProperties: false,
    required,
    properties,
  } as JSONSchemaType<T>;
}

/** A list of at most `MAX_PROBE_ARRAY` items. */
function list<T>(items: JSONSchemaType<T>): JSONSchemaType<T[]> {
  return { type: 'array', maxItems: MAX_PROBE_ARRAY, items } as JSONSchemaType<T[]>;
}

type Sections = Omit<ProbeObservations, 'format' | 'syscalls' | 'masked_paths' | 'readonly_paths'>;

/** A section: its own fields plus `errors`, every one required. */
function section<K extends keyof Sections>(
  properties: Omit<JSONSchemaType<Sections[K]>['properties'], 'errors'>,
): JSONSchemaType<Sections[K]> {
  const all = { errors: strList, ...properties };
  return record<Sections[K]>(all, Object.keys(all) as (keyof Sections[K] & string)[]);
}

const capSetsProperties = {
  bounding: nstrList,
  effective: nstrList,
  permitted: nstrList,
  inheritable: nstrList,
  ambient: nstrList,
};
const capSets = record<CapSets>(capSetsProperties, [
  'bounding',
  'effective',
  'permitted',
  'inheritable',
  'ambient',
]);

const namespaceIds = record<Record<ProbeNamespace, number | null>>(
  Object.fromEntries(PROBE_NAMESPACES.map((n) => [n, nint])) as JSONSchemaType<
    Record<ProbeNamespace, number | null>
  >['properties'],
  [...PROBE_NAMESPACES],
);

const syscall = record<SyscallAttempt>(
  { name: str, ret: nint, errno: nstr, signal: nstr, error: nstr },
  ['name', 'ret', 'errno', 'signal', 'error'],
);

const pathHead = {
  errors: strList,
  path: str,
  exists: nbool,
  type: nstr,
  rdev: nstr,
};

const maskedPath = record<MaskedPath>(
  {
    ...pathHead,
    read_bytes: nint,
    read_errno: nstr,
    entries: nint,
    write_ok: nbool,
    write_errno: nstr,
  },
  [
    'errors',
    'path',
    'exists',
    'type',
    'rdev',
    'read_bytes',
    'read_errno',
    'entries',
    'write_ok',
    'write_errno',
  ],
);

const readOnlyPath = record<ReadOnlyPath>(
  { ...pathHead, ro_mount: nbool, access_w_errno: nstr, write_ok: nbool, write_errno: nstr },
  [
    'errors',
    'path',
    'exists',
    'type',
    'rdev',
    'ro_mount',
    'access_w_errno',
    'write_ok',
    'write_errno',
  ],
);

const deviceNode = record<DeviceNode>(
  { path: str, type: { type: 'string', enum: ['c', 'b'] }, major: int, minor: int },
  ['path', 'type', 'major', 'minor'],
);

const escapeAttempt = record<EscapeAttempt>(
  { name: str, target: nstr, succeeded: nbool, step: nstr, errno: nstr, error: nstr },
  ['name', 'target', 'succeeded', 'step', 'errno', 'error'],
);

type InitFd = { fd: number; target: string | null; errno: string | null };
const initFd = record<InitFd>({ fd: int, target: nstr, errno: nstr }, ['fd', 'target', 'errno']);

type MemoryCgroup = NonNullable<ProbeObservations['memory_test']['cgroup']>;
const memoryCgroup = record<MemoryCgroup>(
  {
    source: nstr,
    failcnt_before: nint,
    failcnt_after: nint,
    oom_kill_before: nint,
    oom_kill_after: nint,
  },
  ['source', 'failcnt_before', 'failcnt_after', 'oom_kill_before', 'oom_kill_after'],
);

const memoryTest: JSONSchemaType<ProbeObservations['memory_test']> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'errors',
    'requested',
    'limit_bytes',
    'max_bytes',
    'reached_bytes',
    'killed',
    'signal',
    'alloc_errno',
  ],
  properties: {
    errors: strList,
    requested: bool,
    limit_bytes: nint,
    max_bytes: nint,
    reached_bytes: nint,
    killed: nbool,
    signal: nstr,
    alloc_errno: nstr,
    // A requested test always reports its cgroup's counters (the `then` below).
    cgroup: { ...memoryCgroup, nullable: true },
  },
  if: { properties: { requested: { const: true } } },
  then: { required: ['cgroup'], properties: { cgroup: { type: 'object' } } },
};

const sections: { [K in keyof Sections]: JSONSchemaType<Sections[K]> } = {
  pid: section<'pid'>({ self: int, parent: int, init_comm: nstr }),
  host_pid: section<'host_pid'>({ pid: nint, visible: nbool, comm: nstr, start_time: nstr }),
  namespaces: section<'namespaces'>({ self: namespaceIds, init: namespaceIds }),
  capabilities: section<'capabilities'>({
    last_cap: nint,
    ...capSetsProperties,
    init: capSets,
  }),
  status: section<'status'>({
    no_new_privs: nint,
    seccomp: nint,
    prctl_no_new_privs: nint,
    init_no_new_privs: nint,
    init_seccomp: nint,
  }),
  debugfs: section<'debugfs'>({ mounted_at: nstrList, mount_ok: nbool, mount_errno: nstr }),
  mknod: section<'mknod'>({ created: nbool, errno: nstr }),
  devices: section<'devices'>({ nodes: list(deviceNode), truncated: bool }),
  network: section<'network'>({ source: nstr, interfaces: nstrList }),
  host_tcp: section<'host_tcp'>({ port: nint, connected: nbool, errno: nstr }),
  host_abstract: section<'host_abstract'>({ name: nstr, connected: nbool, errno: nstr }),
  host_ipc: section<'host_ipc'>({
    key: nint,
    msg_found: nbool,
    msg_errno: nstr,
    shm_found: nbool,
    shm_errno: nstr,
    sem_found: nbool,
    sem_errno: nstr,
  }),
  hostname: section<'hostname'>({ nodename: nstr, domainname: nstr, machine: nstr }),
  cwd: section<'cwd'>({ self: nstr, self_within_root: nbool, init: nstr, init_within_root: nbool }),
  init_fds: section<'init_fds'>({ fds: { ...list(initFd), nullable: true } }),
  pids_test: section<'pids_test'>({
    requested: bool,
    max: nint,
    forked: nint,
    fork_errno: nstr,
    reaped: nint,
  }),
  memory_test: memoryTest,
  debug: section<'debug'>({ target: int, attempts: list(syscall) }),
  escapes: section<'escapes'>({ requested: bool, attempts: list(escapeAttempt) }),
  fill_test: section<'fill_test'>({
    requested: bool,
    dir: nstr,
    max_bytes: nint,
    written_bytes: nint,
    errno: nstr,
    signal: nstr,
  }),
  console_flood: section<'console_flood'>({ requested: bool, written_bytes: nint, errno: nstr }),
};

/** The whole report. */
export const PROBE_OUTPUT_SCHEMA: JSONSchemaType<ProbeObservations> = {
  definitions,
  ...record<ProbeObservations>(
    {
      format: { type: 'string', const: PROBE_FORMAT },
      ...sections,
      syscalls: list(syscall),
      masked_paths: list(maskedPath),
      readonly_paths: list(readOnlyPath),
    } as JSONSchemaType<ProbeObservations>['properties'],
    [
      'format',
      ...(Object.keys(sections) as (keyof Sections)[]),
      'syscalls',
      'masked_paths',
      'readonly_paths',
    ],
  ),
};
