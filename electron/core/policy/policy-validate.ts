/**
 * Validation of policy documents: the JSON Schema (`POLICY_SCHEMA`, compiled ahead of time by
 * `npm run build:validators`: strict, all errors) first, then the rules
 * a schema cannot express (known syscall and capability names, rules that contradict each other,
 * limits that need each other, paths that would escape or shadow the guest's system folders).
 * Pure: no file system access. Shared folders are checked against the host by
 * `checkSharedFolders` (shared-folders.ts) before a session starts.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validatePolicyDocument } from '../../generated/policy.js';
import { atPointer } from '../schema-errors.js';
import { LINUX_CAPABILITIES } from './capabilities.js';
import { DEVICE_CLASSES, DEVICE_CLASS_NAMES, type DeviceClassName } from './devices.js';
import { ERRNO_NAMES } from './errno-names.js';
import { POLICY_INVALID, PolicyError, type PolicyIssue } from './policy-errors.js';
import { fillBridgeLimits, type DefaultedBridgeLimit } from './bridge-limits.js';
import {
  BRIDGE_FIELD_DEFAULTS,
  type PolicyDocument,
  type SeccompAction,
  type SeccompRule,
  type ValidatedPolicy,
} from './policy-document.js';
import { SYSCALLS_UNKNOWN_TO_LIBSECCOMP, X86_64_SYSCALLS } from './syscalls-x86-64.js';

/** Largest policy file `parsePolicyText` reads (a policy is a few kilobytes). */
export const MAX_POLICY_TEXT_LENGTH = 1024 * 1024;

/**
 * Outcome of `validatePolicy`: the policy, branded as validated, or every issue found.
 * `defaulted`: the JSON pointers of the fields the document lacked and got from
 * `BRIDGE_FIELD_DEFAULTS` (a document saved before they existed); empty for a complete one.
 */
export type PolicyValidation =
  { ok: true; policy: ValidatedPolicy; defaulted: string[] } | { ok: false; issues: PolicyIssue[] };

/**
 * Wayland globals a guest must never see: they read or inject input and pixels across the whole
 * host desktop, or take over outputs and the session.
 */
export const FORBIDDEN_WAYLAND_GLOBALS: ReadonlyMap<string, string> = new Map([
  ['zwlr_screencopy_manager_v1', 'captures the whole host screen'],
  ['ext_image_copy_capture_manager_v1', 'captures the whole host screen'],
  ['zwlr_export_dmabuf_manager_v1', 'captures the whole host screen'],
  ['ext_output_image_capture_source_manager_v1', 'captures the whole host screen'],
  ['zwlr_data_control_manager_v1', 'reads and replaces the host clipboard at any time'],
  ['ext_data_control_manager_v1', 'reads and replaces the host clipboard at any time'],
  ['zwp_virtual_keyboard_manager_v1', 'types into any host window'],
  ['zwlr_virtual_pointer_manager_v1', 'moves and clicks the host pointer'],
  ['zwp_input_method_manager_v2', 'sees and injects text typed in any host window'],
  ['ext_session_lock_manager_v1', 'locks the host session'],
  ['zwlr_layer_shell_v1', 'draws over the host desktop, panels and lock screen'],
  ['zwlr_output_manager_v1', 'reconfigures host monitors'],
  ['zwlr_output_power_manager_v1', 'turns host monitors off'],
  ['zwlr_gamma_control_manager_v1', 'changes host monitor gamma'],
  ['zwlr_foreign_toplevel_manager_v1', 'lists and controls every host window'],
  ['ext_foreign_toplevel_list_v1', 'lists every host window'],
  ['zwp_keyboard_shortcuts_inhibit_manager_v1', 'captures host-wide keyboard shortcuts'],
]);

const SYSCALL_SET = new Set(X86_64_SYSCALLS);
const UNKNOWN_TO_LIBSECCOMP = new Set(SYSCALLS_UNKNOWN_TO_LIBSECCOMP);
const CAPABILITY_SET = new Set(LINUX_CAPABILITIES);

// Paths the guest's kernel interfaces and device nodes live under: a shared folder or a
// read-only bind there would shadow what LXC mounts, so the policy says it another way.
const KERNEL_FS_PREFIXES = ['/proc', '/sys', '/dev'];
/** /proc entries that are the same in every PID namespace, so the host's can be bound read-only over the guest's. */
export const GLOBAL_PROC_READ_ONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
];

// Human descriptions of the schema's patterns, keyed by the pattern itself.
const PATTERN_HINTS: ReadonlyMap<string, string> = new Map([
  [
    '^[a-z0-9][a-z0-9-]{0,62}$',
    'must be 1 to 63 characters of a-z, 0-9 and -, starting with a letter or digit',
  ],
  [
    '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
    'must be a hostname label: 1 to 63 characters of a-z, 0-9 and -, not starting or ending with -',
  ],
  ['^[a-z_]{1,32}$', 'must be a capability name in lower case without cap_, e.g. net_bind_service'],
  [
    '^(allow|kill|errno [1-9][0-9]{0,3})$',
    "must be 'allow', 'kill' or 'errno N' (N from 1 to 4095)",
  ],
  ['^[a-z_][a-z0-9_]{0,63}$', 'must be a system call name in lower case, e.g. keyctl'],
  ['^[a-z][a-z0-9-]{0,31}$', 'must be a device class name in lower case, e.g. fuse'],
  [
    '^(/[A-Za-z0-9._@+,:-]+)+$',
    'must be an absolute guest path of letters, digits and . _ @ + , : - (no spaces, newlines or trailing /)',
  ],
  [
    '^/[^\\u0000-\\u001f\\u007f]*$',
    'must be an absolute host path without control characters (newline, tab…)',
  ],
  [
    '^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$',
    'must be an AppArmor profile name of letters, digits and . _ / -',
  ],
  ['^[a-z][a-z0-9_]{0,63}$', 'must be a Wayland interface name, e.g. wl_compositor'],
]);

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fractional number';
  return withArticle(typeof value);
}

function issueFromAjv(error: ErrorObject, doc: unknown): PolicyIssue {
  const path = error.instancePath;
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: `${path}/${String(p.additionalProperty)}`, message: 'unknown field' };
    case 'required':
      return { path: `${path}/${String(p.missingProperty)}`, message: 'is required' };
    case 'type':
      return {
        path,
        message: `must be ${withArticle(String(p.type))}, got ${describeType(atPointer(doc, path))}`,
      };
    case 'minimum':
      return { path, message: `must be at least ${String(p.limit)}` };
    case 'maximum':
      return { path, message: `must be at most ${String(p.limit)}` };
    case 'minLength':
      return { path, message: `must not be empty` };
    case 'maxLength':
      return { path, message: `must be at most ${String(p.limit)} characters` };
    case 'minItems':
      return { path, message: `must have at least ${String(p.limit)} element(s)` };
    case 'maxItems':
    case 'items':
      return { path, message: `must have at most ${String(p.limit)} element(s)` };
    case 'uniqueItems':
      return { path: `${path}/${String(p.i)}`, message: `duplicates element ${String(p.j)}` };
    case 'enum':
      return {
        path,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'pattern':
      return { path, message: PATTERN_HINTS.get(String(p.pattern)) ?? `has an invalid format` };
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/** Parses a seccomp action string already matched by the schema's pattern. */
export function parseSeccompAction(
  action: SeccompAction,
): { kind: 'allow' | 'kill' } | { kind: 'errno'; errno: number } {
  if (action === 'allow' || action === 'kill') return { kind: action };
  return { kind: 'errno', errno: Number(action.slice('errno '.length)) };
}

function isSubpath(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

function hasDotSegment(path: string): boolean {
  return path.split('/').some((s) => s === '.' || s === '..');
}

function ruleKey(rule: SeccompRule): string {
  return JSON.stringify([rule.syscall, rule.args ?? []]);
}

function checkSeccomp(doc: PolicyDocument, issues: PolicyIssue[]): void {
  const checkAction = (action: SeccompAction, path: string): void => {
    const parsed = parseSeccompAction(action);
    if (parsed.kind === 'errno' && !ERRNO_NAMES.has(parsed.errno)) {
      issues.push({
        path,
        message: `errno ${parsed.errno} is not a Linux error number (1 to 133)`,
      });
    }
  };
  checkAction(doc.seccomp.defaultAction, '/seccomp/defaultAction');

  const unconditional = new Map<string, number>();
  const seen = new Map<string, number>();
  doc.seccomp.rules.forEach((rule, i) => {
    const base = `/seccomp/rules/${i}`;
    if (!SYSCALL_SET.has(rule.syscall)) {
      issues.push({
        path: `${base}/syscall`,
        message: `unknown x86_64 system call '${rule.syscall}'`,
      });
    } else if (UNKNOWN_TO_LIBSECCOMP.has(rule.syscall)) {
      issues.push({
        path: `${base}/syscall`,
        message: `'${rule.syscall}' is too new for this host's libseccomp: LXC would skip the rule`,
      });
    }
    checkAction(rule.action, `${base}/action`);
    if (rule.action === doc.seccomp.defaultAction) {
      issues.push({
        path: `${base}/action`,
        message: `is the default action (${rule.action}): the rule would have no effect`,
      });
    }
    (rule.args ?? []).forEach((filter, j) => {
      const fpath = `${base}/args/${j}`;
      if (filter[2] === 'SCMP_CMP_MASKED_EQ') {
        if (filter.length !== 4) {
          issues.push({
            path: fpath,
            message: 'SCMP_CMP_MASKED_EQ needs a mask: [index, value, op, mask]',
          });
        } else if (BigInt(filter[1]) & ~BigInt(filter[3])) {
          issues.push({
            path: fpath,
            message: 'value has bits outside the mask: the filter can never match',
          });
        }
      } else if (filter.length !== 3) {
        issues.push({ path: fpath, message: `only SCMP_CMP_MASKED_EQ takes a mask` });
      }
    });
    const key = ruleKey(rule);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      issues.push({ path: base, message: `repeats rule ${earlier} for ${rule.syscall}` });
    }
    seen.set(key, i);
    if ((rule.args ?? []).length === 0) unconditional.set(rule.syscall, i);
  });
  // An unconditional rule shadows every conditional rule for the same syscall.
  doc.seccomp.rules.forEach((rule, i) => {
    const full = unconditional.get(rule.syscall);
    if (full !== undefined && full !== i && (rule.args ?? []).length > 0) {
      issues.push({
        path: `/seccomp/rules/${i}`,
        message: `${rule.syscall} already has an unconditional rule (${full}): this one would never apply`,
      });
    }
  });
}

function checkNamespaces(doc: PolicyDocument, issues: PolicyIssue[]): void {
  const ns = doc.namespaces;
  if (!ns.pid)
    issues.push({
      path: '/namespaces/pid',
      message: 'must be true: the guest init must be PID 1 and must not see host processes',
    });
  if (!ns.mount)
    issues.push({
      path: '/namespaces/mount',
      message: 'must be true: a system container needs its own mount table',
    });
  if (!ns.uts)
    issues.push({
      path: '/namespaces/uts',
      message: 'must be true: setting the guest hostname would rename the host',
    });
  if (!ns.net)
    issues.push({
      path: '/namespaces/net',
      message: "must be true: the host's network would bypass the network policy",
    });
  if (!ns.user && doc.allowHostRoot !== true)
    issues.push({
      path: '/namespaces/user',
      message:
        'must be true: without a user namespace guest root is host root (host-equivalent); set allowHostRoot: true to choose that explicitly',
    });
  if (ns.user && !ns.cgroup)
    issues.push({
      path: '/namespaces/cgroup',
      message:
        "must be true with a user namespace: the guest would see the host's cgroup paths and could not be kept in its own",
    });
}

function checkLimits(doc: PolicyDocument, issues: PolicyIssue[]): void {
  const l = doc.limits;
  if (l.swapMax !== undefined && l.memoryMax === undefined) {
    issues.push({
      path: '/limits/swapMax',
      message: 'needs memoryMax: swap is limited on top of the memory limit',
    });
  }
  if ((l.cpuQuota === undefined) !== (l.cpuPeriod === undefined)) {
    issues.push({
      path: l.cpuQuota === undefined ? '/limits/cpuPeriod' : '/limits/cpuQuota',
      message: 'cpuQuota and cpuPeriod go together',
    });
  }
  if (l.cpuQuota !== undefined && l.cpuPeriod !== undefined && l.cpuQuota * 100 < l.cpuPeriod) {
    issues.push({
      path: '/limits/cpuQuota',
      message: 'is less than 1% of a CPU: the guest could not boot',
    });
  }
}

function checkDevices(doc: PolicyDocument, issues: PolicyIssue[]): void {
  const known = new Set<string>(DEVICE_CLASS_NAMES);
  doc.devices.forEach((name, i) => {
    if (!known.has(name)) {
      issues.push({
        path: `/devices/${i}`,
        message: `unknown device class '${name}' (known: ${DEVICE_CLASS_NAMES.join(', ')})`,
      });
    }
  });
  for (const cls of DEVICE_CLASSES.values()) {
    if (cls.required && !doc.devices.includes(cls.name as DeviceClassName)) {
      issues.push({ path: '/devices', message: `must include '${cls.name}': ${cls.explanation}` });
    }
  }
}

function checkPaths(doc: PolicyDocument, issues: PolicyIssue[]): void {
  const masked = new Map<string, number>();
  doc.maskedPaths.forEach((m, i) => {
    const path = `/maskedPaths/${i}/path`;
    if (hasDotSegment(m.path)) issues.push({ path, message: 'must not contain . or .. segments' });
    const earlier = masked.get(m.path);
    if (earlier !== undefined) issues.push({ path, message: `repeats masked path ${earlier}` });
    masked.set(m.path, i);
  });
  doc.readOnlyPaths.forEach((p, i) => {
    const path = `/readOnlyPaths/${i}`;
    if (hasDotSegment(p)) {
      issues.push({ path, message: 'must not contain . or .. segments' });
    } else if (p === '/proc/sys' || p === '/proc/sysrq-trigger') {
      issues.push({
        path,
        message: "is read-only through mountAuto.proc = 'mixed'; remove it here",
      });
    } else if (isSubpath(p, '/sys')) {
      issues.push({
        path,
        message: "/sys is made read-only through mountAuto.sys = 'ro'; remove it here",
      });
    } else if (
      KERNEL_FS_PREFIXES.some((k) => isSubpath(p, k)) &&
      !GLOBAL_PROC_READ_ONLY_PATHS.includes(p)
    ) {
      issues.push({
        path,
        message: `only ${GLOBAL_PROC_READ_ONLY_PATHS.join(', ')} can be made read-only under /proc, /sys and /dev`,
      });
    }
  });
  const guests = new Map<string, number>();
  doc.sharedFolders.forEach((f, i) => {
    const base = `/sharedFolders/${i}`;
    if (f.host === '/') {
      issues.push({
        path: `${base}/host`,
        message: "must not be '/': that would share the whole host file system",
      });
    } else if (hasDotSegment(f.host)) {
      issues.push({ path: `${base}/host`, message: 'must not contain . or .. segments' });
    } else if (f.host.includes('//') || f.host.endsWith('/')) {
      issues.push({
        path: `${base}/host`,
        message: "must be normalized (no '//', no trailing '/')",
      });
    }
    if (hasDotSegment(f.guest)) {
      issues.push({ path: `${base}/guest`, message: 'must not contain . or .. segments' });
    } else if (KERNEL_FS_PREFIXES.some((k) => isSubpath(f.guest, k))) {
      issues.push({ path: `${base}/guest`, message: 'must not be under /proc, /sys or /dev' });
    }
    const earlier = guests.get(f.guest);
    if (earlier !== undefined)
      issues.push({
        path: `${base}/guest`,
        message: `repeats the guest path of shared folder ${earlier}`,
      });
    guests.set(f.guest, i);
    for (const [mpath, mi] of masked) {
      if (isSubpath(mpath, f.guest) || isSubpath(f.guest, mpath)) {
        issues.push({ path: `${base}/guest`, message: `overlaps masked path ${mi} (${mpath})` });
      }
    }
  });
}

function checkLsm(doc: PolicyDocument, issues: PolicyIssue[]): void {
  const { apparmor, allowUnconfined } = doc.lsm;
  if (apparmor.mode === 'unconfined' && !allowUnconfined) {
    issues.push({
      path: '/lsm/apparmor/mode',
      message:
        "'unconfined' runs the guest without an AppArmor profile; set lsm.allowUnconfined to true to opt in",
    });
  }
  if (apparmor.profile === 'unconfined' && apparmor.mode !== 'unconfined') {
    issues.push({
      path: '/lsm/apparmor/profile',
      message: "'unconfined' is not a profile: use mode 'unconfined'",
    });
  }
}

/** A MIME type string the bridge accepts: printable ASCII without spaces, 1 to 255 bytes. */
const CLIPBOARD_MIME = /^[\x21-\x7e]{1,255}$/;

function checkBridge(doc: PolicyDocument, issues: PolicyIssue[]): void {
  doc.bridge.clipboard.mimeTypes.forEach((type, i) => {
    if (!CLIPBOARD_MIME.test(type))
      issues.push({
        path: `/bridge/clipboard/mimeTypes/${i}`,
        message: `${JSON.stringify(type.slice(0, 64))} is not a MIME type: printable ASCII without spaces, 1 to 255 bytes`,
      });
  });
  doc.bridge.globals.forEach((g, i) => {
    if (g === 'wl_data_device_manager')
      issues.push({
        path: `/bridge/globals/${i}`,
        message: 'the clipboard is set by /bridge/clipboard/mode, not listed as a global',
      });
    const why = FORBIDDEN_WAYLAND_GLOBALS.get(g);
    if (why !== undefined)
      issues.push({
        path: `/bridge/globals/${i}`,
        message: `${g} is never offered to a guest: it ${why}`,
      });
  });
  const limits = doc.bridge.limits;
  if (limits.maxClientsPerUid > limits.maxClients) {
    issues.push({
      path: '/bridge/limits/maxClientsPerUid',
      message: `must be at most maxClients (${limits.maxClients}): one uid cannot hold more connections than the bridge serves`,
    });
  }
}

function checkCapabilities(doc: PolicyDocument, issues: PolicyIssue[]): void {
  doc.capabilities.forEach((c, i) => {
    if (!CAPABILITY_SET.has(c))
      issues.push({ path: `/capabilities/${i}`, message: `unknown capability '${c}'` });
  });
}

type BridgeLimits = PolicyDocument['bridge']['limits'];

/** A document with the schema's shape: the bridge fields with a default may lack. */
type WrittenPolicyDocument = Omit<PolicyDocument, 'bridge'> & {
  bridge: Omit<PolicyDocument['bridge'], 'clipboard' | 'limits'> & {
    clipboard?: PolicyDocument['bridge']['clipboard'];
    limits: Omit<BridgeLimits, DefaultedBridgeLimit> &
      Partial<Pick<BridgeLimits, DefaultedBridgeLimit>>;
  };
};

/** A copy of `doc` with the bridge fields it lacks filled in, and their JSON pointers. */
function withBridgeDefaults(doc: WrittenPolicyDocument): {
  policy: PolicyDocument;
  defaulted: string[];
} {
  const { limits, filled } = fillBridgeLimits(doc.bridge.limits);
  const defaulted = filled.map((key) => `/bridge/limits/${key}`);
  let clipboard = doc.bridge.clipboard;
  if (clipboard === undefined) {
    defaulted.push('/bridge/clipboard');
    const d = BRIDGE_FIELD_DEFAULTS.clipboard;
    clipboard = { mode: d.mode, mimeTypes: [...d.mimeTypes], maxBytes: d.maxBytes };
  }
  return { policy: { ...doc, bridge: { ...doc.bridge, clipboard, limits } }, defaulted };
}

/**
 * Checks `doc` (parsed JSON, untrusted) against the schema and the semantic rules. Returns the
 * policy branded as validated, or every issue found (schema issues first; semantic rules run only
 * on a document that has the schema's shape).
 */
export function validatePolicy(doc: unknown): PolicyValidation {
  const validate = validatePolicyDocument as ValidateFunction<WrittenPolicyDocument>;
  if (!validate(doc)) {
    return { ok: false, issues: (validate.errors ?? []).map((e) => issueFromAjv(e, doc)) };
  }
  const { policy, defaulted } = withBridgeDefaults(doc as WrittenPolicyDocument);
  const issues: PolicyIssue[] = [];
  checkNamespaces(policy, issues);
  checkCapabilities(policy, issues);
  checkSeccomp(policy, issues);
  checkLimits(policy, issues);
  checkDevices(policy, issues);
  checkPaths(policy, issues);
  checkLsm(policy, issues);
  checkBridge(policy, issues);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, policy: policy as ValidatedPolicy, defaulted };
}

/** Like `validatePolicy`, but throws a `PolicyError` (code `POLICY_INVALID`) listing the issues. */
export function assertValidPolicy(doc: unknown): ValidatedPolicy {
  const result = validatePolicy(doc);
  if (!result.ok) throw new PolicyError(POLICY_INVALID, result.issues);
  return result.policy;
}

/**
 * Parses policy text (a file's contents) and validates it. Text over `MAX_POLICY_TEXT_LENGTH` or
 * that is not JSON gives one issue at path `''`.
 */
export function parsePolicyText(text: string): PolicyValidation {
  if (text.length > MAX_POLICY_TEXT_LENGTH) {
    return {
      ok: false,
      issues: [{ path: '', message: `is larger than ${MAX_POLICY_TEXT_LENGTH} bytes` }],
    };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return {
      ok: false,
      issues: [{ path: '', message: `is not valid JSON: ${(e as Error).message}` }],
    };
  }
  return validatePolicy(doc);
}
