/**
 * The isolation probe's output (`native/probe/droidway-probe.c`, format `droidway-probe/1`) and
 * its parser. The probe runs inside the guest, whose code controls the probe's environment, so
 * its stdout is untrusted: it is size-capped, parsed, and checked field by field before the
 * verifier looks at a single value. Field names mirror the wire format (snake_case).
 *
 * Every section always exists; a value the probe could not measure is `null` and the section's
 * `errors` says why. The checks are the JSON schema in `probe-output-schema.ts`, compiled ahead of
 * time.
 */
import type { ValidateFunction } from 'ajv';
import { validateProbeOutput } from '../../generated/probe-output.js';
import { describeSchemaError, kindOf } from '../schema-errors.js';
import { PROBE_FORMAT, PROBE_NAMESPACES } from './probe-output-schema.js';

export { PROBE_FORMAT, PROBE_NAMESPACES };

/** Largest probe stdout accepted (bytes). The real output is a few tens of KiB. */
export const MAX_PROBE_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Thrown for output that is not what the probe writes; `code` is `'PROBE_BAD_OUTPUT'`. */
export class ProbeOutputError extends Error {
  readonly code = 'PROBE_BAD_OUTPUT';
  constructor(message: string) {
    super(`isolation probe output rejected: ${message}`);
    this.name = 'ProbeOutputError';
  }
}

export type ProbeNamespace = (typeof PROBE_NAMESPACES)[number];

interface Section {
  errors: string[];
}

export interface CapSets {
  bounding: string[] | null;
  effective: string[] | null;
  permitted: string[] | null;
  inheritable: string[] | null;
  ambient: string[] | null;
}

export interface SyscallAttempt {
  name: string;
  /** Raw return value; null when the child was killed or could not run. */
  ret: number | null;
  /** errno name when `ret` < 0. */
  errno: string | null;
  /** `'SIGSYS'`, `'SIGKILL'`… when the child ended by a signal. */
  signal: string | null;
  /** Why there is no result (unknown syscall, fork failure). */
  error: string | null;
}

interface PathHead extends Section {
  path: string;
  exists: boolean | null;
  type: string | null;
  /** `major:minor` for device nodes. */
  rdev: string | null;
}

export interface MaskedPath extends PathHead {
  read_bytes: number | null;
  read_errno: string | null;
  entries: number | null;
  write_ok: boolean | null;
  write_errno: string | null;
}

export interface ReadOnlyPath extends PathHead {
  ro_mount: boolean | null;
  access_w_errno: string | null;
  write_ok: boolean | null;
  write_errno: string | null;
}

export interface DeviceNode {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
}

/** One attempt at a container escape (`--escapes`): how far it got. */
export interface EscapeAttempt {
  /** Attack class, e.g. `'remount-ro-bind'`, `'procfs-knob'`, `'cgroup-memory'`. */
  name: string;
  /** What it aimed at (a folder, a fresh mount point, a limit file). */
  target: string | null;
  /** The attack reached its goal; null when the attempt could not run. */
  succeeded: boolean | null;
  /** The step that was refused (`'mount'`, `'open'`, …), when it did not succeed. */
  step: string | null;
  errno: string | null;
  /** Why there is no result (the attempt was killed, could not fork). */
  error: string | null;
}

/** Everything the probe observed. */
export interface ProbeObservations {
  format: typeof PROBE_FORMAT;
  pid: Section & { self: number; parent: number; init_comm: string | null };
  host_pid: Section & {
    pid: number | null;
    visible: boolean | null;
    comm: string | null;
    start_time: string | null;
  };
  namespaces: Section & {
    self: Record<ProbeNamespace, number | null>;
    init: Record<ProbeNamespace, number | null>;
  };
  capabilities: Section & CapSets & { last_cap: number | null; init: CapSets };
  status: Section & {
    no_new_privs: number | null;
    seccomp: number | null;
    prctl_no_new_privs: number | null;
    init_no_new_privs: number | null;
    init_seccomp: number | null;
  };
  syscalls: SyscallAttempt[];
  masked_paths: MaskedPath[];
  readonly_paths: ReadOnlyPath[];
  debugfs: Section & {
    mounted_at: string[] | null;
    mount_ok: boolean | null;
    mount_errno: string | null;
  };
  mknod: Section & { created: boolean | null; errno: string | null };
  devices: Section & { nodes: DeviceNode[]; truncated: boolean };
  network: Section & { source: string | null; interfaces: string[] | null };
  host_tcp: Section & { port: number | null; connected: boolean | null; errno: string | null };
  host_abstract: Section & { name: string | null; connected: boolean | null; errno: string | null };
  host_ipc: Section & {
    key: number | null;
    msg_found: boolean | null;
    msg_errno: string | null;
    shm_found: boolean | null;
    shm_errno: string | null;
    sem_found: boolean | null;
    sem_errno: string | null;
  };
  hostname: Section & {
    nodename: string | null;
    domainname: string | null;
    machine: string | null;
  };
  cwd: Section & {
    self: string | null;
    self_within_root: boolean | null;
    init: string | null;
    init_within_root: boolean | null;
  };
  init_fds: Section & {
    fds: Array<{ fd: number; target: string | null; errno: string | null }> | null;
  };
  pids_test: Section & {
    requested: boolean;
    max: number | null;
    forked: number | null;
    fork_errno: string | null;
    reaped: number | null;
  };
  memory_test: Section & {
    requested: boolean;
    limit_bytes: number | null;
    max_bytes: number | null;
    reached_bytes: number | null;
    killed: boolean | null;
    signal: string | null;
    alloc_errno: string | null;
    /** Absent when the test was not requested. */
    cgroup?: {
      source: string | null;
      failcnt_before: number | null;
      failcnt_after: number | null;
      oom_kill_before: number | null;
      oom_kill_after: number | null;
    };
  };
  /** Attempts to debug another process (the guest's init), each as the syscall result. */
  debug: Section & { target: number; attempts: SyscallAttempt[] };
  /** Escape attempts; empty unless `requested`. */
  escapes: Section & { requested: boolean; attempts: EscapeAttempt[] };
  /** Zeros written into a new file of `dir` until a write failed or `max_bytes` were written. */
  fill_test: Section & {
    requested: boolean;
    dir: string | null;
    max_bytes: number | null;
    written_bytes: number | null;
    errno: string | null;
    signal: string | null;
  };
  /** Bytes written to init's stdout (the host's console log). */
  console_flood: Section & {
    requested: boolean;
    written_bytes: number | null;
    errno: string | null;
  };
}

const validate = validateProbeOutput as ValidateFunction<ProbeObservations>;

/**
 * Parses and checks the probe's stdout. Throws `ProbeOutputError` (code `'PROBE_BAD_OUTPUT'`)
 * naming the first offending field for anything that is too large, not JSON, of another format,
 * or missing a field or holding a value of the wrong type. Keys the schema does not name are
 * dropped from the result.
 */
export function parseProbeOutput(stdout: string): ProbeObservations {
  if (typeof stdout !== 'string')
    throw new ProbeOutputError(`expected text, got ${kindOf(stdout)}`);
  const bytes = Buffer.byteLength(stdout, 'utf8');
  if (bytes > MAX_PROBE_OUTPUT_BYTES) {
    throw new ProbeOutputError(`${bytes} bytes exceeds the ${MAX_PROBE_OUTPUT_BYTES}-byte limit`);
  }
  if (stdout.trim() === '') throw new ProbeOutputError('the probe printed nothing');
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch (e) {
    throw new ProbeOutputError(`not JSON (${(e as Error).message})`);
  }
  if (!validate(doc)) {
    const { path, reason } = describeSchemaError(validate.errors![0]!, doc);
    throw new ProbeOutputError(`${path === '' ? '$' : `$.${path}`} ${reason}`);
  }
  // Only a requested memory test's cgroup counters mean anything.
  if (!doc.memory_test.requested) delete doc.memory_test.cgroup;
  return doc;
}
