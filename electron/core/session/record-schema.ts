/**
 * The JSON schema of a session record (`record.ts`), compiled ahead of time into
 * `electron/generated/session-record.ts` by `npm run build:validators`. The record is read back
 * from disk or from the session host's socket, so it is checked whole before `verify` or the UI
 * trusts a field of it.
 */
import type { JSONSchemaType } from 'ajv';
import type { CompileNote } from '../policy/policy-compile.js';
import type { ProbeExpectations } from '../policy/probe-expectations.js';
import type { SessionRecord } from './record.js';

const MAX_STRING = 4096;
const MAX_LIST = 4096;

const str = { type: 'string', maxLength: MAX_STRING } as const;
const strList = { type: 'array', maxItems: MAX_LIST, items: str } as const;
const count = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const bool = { type: 'boolean' } as const;
/**
 * An id range: where guest id 0 lands on the host and how many ids; the instance's range in the
 * context also names its slot in Droidway's block (`runtime/id-ranges.ts`).
 */
const idRange = {
  type: 'object',
  additionalProperties: false,
  required: ['hostBase', 'count'],
  properties: { slot: count, hostBase: count, count },
} as const;

/**
 * What the policy was compiled with. Its names and paths are checked here; the host facts
 * (`hostDevices`, `unsupportedLimits`…) only for their JSON type, as `compilePolicy` reads them
 * as facts of a host, not as orders.
 */
const context = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'rootfsPath', 'logFile'],
  properties: {
    name: str,
    rootfsPath: str,
    seccompProfilePath: str,
    logFile: str,
    extraMounts: {
      type: 'array',
      maxItems: MAX_LIST,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['source', 'target', 'options'],
        properties: { source: str, target: str, options: str },
      },
    },
    init: strList,
    nodumpWrapper: str,
    cgroupVersion: { type: 'integer', enum: [1, 2] },
    unsupportedLimits: strList,
    apparmorAvailable: bool,
    hostDevices: { type: 'object', required: [] },
    natBridge: str,
    maskFile: str,
    idRange,
    hostCapabilities: strList,
  },
} as const;

// `JSONSchemaType` takes `nullable` for optional members only, so a member that is present but
// may be null is a reference to one of these (as in probe-output-schema.ts).
const definitions = {
  nstr: { type: 'string', nullable: true, maxLength: MAX_STRING },
  ncount: { type: 'integer', nullable: true, minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  nidRange: { ...idRange, nullable: true },
  ncontext: { ...context, nullable: true },
  nstorage: {
    type: 'object',
    nullable: true,
    additionalProperties: false,
    required: ['defaultMaxBytes', 'paths'],
    properties: {
      defaultMaxBytes: count,
      paths: {
        type: 'array',
        maxItems: MAX_LIST,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['path', 'maxBytes'],
          properties: { path: str, maxBytes: count },
        },
      },
    },
  },
} as const;
const ref = (name: keyof typeof definitions) => ({ $ref: `#/definitions/${name}` }) as const;

const expectations: JSONSchemaType<ProbeExpectations> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'hostname',
    'namespaces',
    'capabilities',
    'noNewPrivs',
    'seccomp',
    'deniedSyscalls',
    'maskedPaths',
    'readOnlyPaths',
    'noDebugfs',
    'mknodDenied',
    'allowedDevices',
    'networkInterfaces',
    'hostLoopbackUnreachable',
    'hostAbstractSocketUnreachable',
    'hostIpcInvisible',
    'memoryLimitBytes',
    'pidsLimit',
    'noDebugging',
    'userNamespace',
    'storage',
    'consoleMaxBytes',
  ],
  properties: {
    hostname: str,
    namespaces: {
      type: 'array',
      maxItems: 16,
      items: { type: 'string', enum: ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup', 'user'] },
    },
    capabilities: strList,
    noNewPrivs: bool,
    seccomp: bool,
    deniedSyscalls: {
      type: 'array',
      maxItems: MAX_LIST,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['syscall', 'result'],
        properties: { syscall: str, result: str },
      },
    },
    maskedPaths: strList,
    readOnlyPaths: strList,
    noDebugfs: bool,
    mknodDenied: bool,
    allowedDevices: strList,
    networkInterfaces: strList,
    hostLoopbackUnreachable: bool,
    hostAbstractSocketUnreachable: bool,
    hostIpcInvisible: bool,
    memoryLimitBytes: ref('ncount'),
    pidsLimit: ref('ncount'),
    noDebugging: bool,
    userNamespace: ref('nidRange'),
    storage: ref('nstorage'),
    consoleMaxBytes: ref('ncount'),
    initFdTargets: { ...strList, nullable: true },
  },
};

const note: JSONSchemaType<CompileNote> = {
  type: 'object',
  additionalProperties: false,
  required: ['field', 'message'],
  properties: { field: str, message: str },
};

/**
 * The record `writeSessionRecord` writes. An optional member may be null here (`JSONSchemaType`
 * asks `nullable` of every optional member); `parseSessionRecord` reads null as absent.
 */
export const SESSION_RECORD_SCHEMA: JSONSchemaType<SessionRecord> = {
  definitions,
  type: 'object',
  additionalProperties: false,
  required: [
    'version',
    'instance',
    'image',
    'policyName',
    'startedAt',
    'expectations',
    'notes',
    'probe',
  ],
  properties: {
    version: { type: 'integer', const: 1 },
    instance: str,
    image: str,
    policyName: str,
    startedAt: str,
    expectations,
    notes: { type: 'array', maxItems: MAX_LIST, items: note },
    probe: ref('nstr'),
    context: ref('ncontext'),
  },
};
