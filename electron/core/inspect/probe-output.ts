/**
 * The isolation probe's output (`native/probe/droidway-probe.c`, format `droidway-probe/1`) and
 * its parser. The probe runs inside the guest, whose code controls the probe's environment, so
 * its stdout is untrusted: it is size-capped, parsed, and checked field by field before the
 * verifier looks at a single value. Field names mirror the wire format (snake_case).
 *
 * Every section always exists; a value the probe could not measure is `null` and the section's
 * `errors` says why.
 */

/** Format tag the probe writes; anything else is refused. */
export const PROBE_FORMAT = 'droidway-probe/1';

/** Largest probe stdout accepted (bytes). The real output is a few tens of KiB. */
export const MAX_PROBE_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Longest string accepted anywhere in the output (a path is at most PATH_MAX = 4096). */
const MAX_STRING = 8192;
/** Longest array accepted anywhere (the probe caps its own lists at 4096). */
const MAX_ARRAY = 8192;

/** Thrown for output that is not what the probe writes; `code` is `'PROBE_BAD_OUTPUT'`. */
export class ProbeOutputError extends Error {
  readonly code = 'PROBE_BAD_OUTPUT';
  constructor(message: string) {
    super(`isolation probe output rejected: ${message}`);
    this.name = 'ProbeOutputError';
  }
}

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

// ---------------------------------------------------------------------------------------------
// A small checker: each reader takes the value and its path in the document and either returns
// the typed value or throws naming the path. The document is rebuilt from checked values only,
// so unknown keys never reach the verifier.

type Obj = Record<string, unknown>;

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function fail(path: string, what: string, v: unknown): never {
  throw new ProbeOutputError(`${path} must be ${what}, got ${kind(v)}`);
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object', v);
  return v as Obj;
}

function field(o: Obj, key: string, path: string): unknown {
  if (!Object.hasOwn(o, key)) throw new ProbeOutputError(`${path}.${key} is missing`);
  return o[key];
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'a string', v);
  if (v.length > MAX_STRING) throw new ProbeOutputError(`${path} is longer than ${MAX_STRING}`);
  return v;
}

function int(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(path, 'an integer', v);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'a boolean', v);
  return v;
}

function nullable<T>(
  read: (v: unknown, path: string) => T,
): (v: unknown, path: string) => T | null {
  return (v, path) => (v === null ? null : read(v, path));
}

function arr<T>(read: (v: unknown, path: string) => T): (v: unknown, path: string) => T[] {
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, 'an array', v);
    if (v.length > MAX_ARRAY)
      throw new ProbeOutputError(`${path} has more than ${MAX_ARRAY} items`);
    return v.map((item, i) => read(item, `${path}[${i}]`));
  };
}

const nstr = nullable(str);
const nint = nullable(int);
const nbool = nullable(bool);
const strList = arr(str);
const nstrList = nullable(strList);

/** Reads the listed keys of `o` with `read`, into a fresh object. */
function pick<T>(
  o: Obj,
  path: string,
  keys: readonly string[],
  read: (v: unknown, p: string) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of keys) out[key] = read(field(o, key, path), `${path}.${key}`);
  return out;
}

function section(doc: Obj, key: string): { o: Obj; path: string; errors: string[] } {
  const o = obj(field(doc, key, '$'), key);
  return { o, path: key, errors: strList(field(o, 'errors', key), `${key}.errors`) };
}

function capSets(o: Obj, path: string): CapSets {
  return pick(
    o,
    path,
    ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'],
    nstrList,
  ) as unknown as CapSets;
}

function pathHead(o: Obj, path: string) {
  return {
    errors: strList(field(o, 'errors', path), `${path}.errors`),
    path: str(field(o, 'path', path), `${path}.path`),
    ...pick(o, path, ['exists'], nbool),
    ...pick(o, path, ['type', 'rdev'], nstr),
  } as PathHead;
}

/**
 * Parses and checks the probe's stdout. Throws `ProbeOutputError` (code `'PROBE_BAD_OUTPUT'`)
 * naming the first offending field for anything that is too large, not JSON, of another format,
 * or missing a field or holding a value of the wrong type.
 */
export function parseProbeOutput(stdout: string): ProbeObservations {
  if (typeof stdout !== 'string') throw new ProbeOutputError(`expected text, got ${kind(stdout)}`);
  const bytes = Buffer.byteLength(stdout, 'utf8');
  if (bytes > MAX_PROBE_OUTPUT_BYTES) {
    throw new ProbeOutputError(`${bytes} bytes exceeds the ${MAX_PROBE_OUTPUT_BYTES}-byte limit`);
  }
  if (stdout.trim() === '') throw new ProbeOutputError('the probe printed nothing');
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch (e) {
    throw new ProbeOutputError(`not JSON (${(e as Error).message})`);
  }
  const doc = obj(raw, '$');
  const format = field(doc, 'format', '$');
  if (format !== PROBE_FORMAT) {
    throw new ProbeOutputError(
      `format must be "${PROBE_FORMAT}", got ${typeof format === 'string' ? JSON.stringify(format.slice(0, 64)) : kind(format)}`,
    );
  }

  const pid = section(doc, 'pid');
  const hostPid = section(doc, 'host_pid');
  const ns = section(doc, 'namespaces');
  const caps = section(doc, 'capabilities');
  const status = section(doc, 'status');
  const debugfs = section(doc, 'debugfs');
  const mknod = section(doc, 'mknod');
  const devices = section(doc, 'devices');
  const network = section(doc, 'network');
  const tcp = section(doc, 'host_tcp');
  const abs = section(doc, 'host_abstract');
  const ipc = section(doc, 'host_ipc');
  const host = section(doc, 'hostname');
  const cwd = section(doc, 'cwd');
  const fds = section(doc, 'init_fds');
  const pids = section(doc, 'pids_test');
  const mem = section(doc, 'memory_test');
  const debug = section(doc, 'debug');
  const escapes = section(doc, 'escapes');
  const fill = section(doc, 'fill_test');
  const flood = section(doc, 'console_flood');

  const nsOf = (key: 'self' | 'init') => {
    const p = `namespaces.${key}`;
    return pick(obj(field(ns.o, key, ns.path), p), p, PROBE_NAMESPACES, nint) as Record<
      ProbeNamespace,
      number | null
    >;
  };

  const memRequested = bool(field(mem.o, 'requested', 'memory_test'), 'memory_test.requested');
  let cgroup: ProbeObservations['memory_test']['cgroup'];
  if (memRequested) {
    const c = obj(field(mem.o, 'cgroup', 'memory_test'), 'memory_test.cgroup');
    cgroup = {
      source: nstr(field(c, 'source', 'memory_test.cgroup'), 'memory_test.cgroup.source'),
      ...(pick(
        c,
        'memory_test.cgroup',
        ['failcnt_before', 'failcnt_after', 'oom_kill_before', 'oom_kill_after'],
        nint,
      ) as {
        failcnt_before: number | null;
        failcnt_after: number | null;
        oom_kill_before: number | null;
        oom_kill_after: number | null;
      }),
    };
  }

  const readSyscall = (v: unknown, p: string): SyscallAttempt => {
    const o = obj(v, p);
    return {
      name: str(field(o, 'name', p), `${p}.name`),
      ret: nint(field(o, 'ret', p), `${p}.ret`),
      errno: nstr(field(o, 'errno', p), `${p}.errno`),
      signal: nstr(field(o, 'signal', p), `${p}.signal`),
      error: nstr(field(o, 'error', p), `${p}.error`),
    };
  };
  const readMasked = (v: unknown, p: string): MaskedPath => {
    const o = obj(v, p);
    return {
      ...pathHead(o, p),
      ...pick(o, p, ['read_bytes', 'entries'], nint),
      ...pick(o, p, ['read_errno', 'write_errno'], nstr),
      ...pick(o, p, ['write_ok'], nbool),
    } as MaskedPath;
  };
  const readReadOnly = (v: unknown, p: string): ReadOnlyPath => {
    const o = obj(v, p);
    return {
      ...pathHead(o, p),
      ...pick(o, p, ['ro_mount', 'write_ok'], nbool),
      ...pick(o, p, ['access_w_errno', 'write_errno'], nstr),
    } as ReadOnlyPath;
  };
  const readDevice = (v: unknown, p: string): DeviceNode => {
    const o = obj(v, p);
    const type = field(o, 'type', p);
    if (type !== 'c' && type !== 'b') fail(`${p}.type`, '"c" or "b"', type);
    return {
      path: str(field(o, 'path', p), `${p}.path`),
      type,
      major: int(field(o, 'major', p), `${p}.major`),
      minor: int(field(o, 'minor', p), `${p}.minor`),
    };
  };
  const readEscape = (v: unknown, p: string): EscapeAttempt => {
    const o = obj(v, p);
    return {
      name: str(field(o, 'name', p), `${p}.name`),
      target: nstr(field(o, 'target', p), `${p}.target`),
      succeeded: nbool(field(o, 'succeeded', p), `${p}.succeeded`),
      step: nstr(field(o, 'step', p), `${p}.step`),
      errno: nstr(field(o, 'errno', p), `${p}.errno`),
      error: nstr(field(o, 'error', p), `${p}.error`),
    };
  };
  const readFd = (v: unknown, p: string) => {
    const o = obj(v, p);
    return {
      fd: int(field(o, 'fd', p), `${p}.fd`),
      target: nstr(field(o, 'target', p), `${p}.target`),
      errno: nstr(field(o, 'errno', p), `${p}.errno`),
    };
  };

  return {
    format: PROBE_FORMAT,
    pid: {
      errors: pid.errors,
      self: int(field(pid.o, 'self', 'pid'), 'pid.self'),
      parent: int(field(pid.o, 'parent', 'pid'), 'pid.parent'),
      init_comm: nstr(field(pid.o, 'init_comm', 'pid'), 'pid.init_comm'),
    },
    host_pid: {
      errors: hostPid.errors,
      pid: nint(field(hostPid.o, 'pid', 'host_pid'), 'host_pid.pid'),
      visible: nbool(field(hostPid.o, 'visible', 'host_pid'), 'host_pid.visible'),
      comm: nstr(field(hostPid.o, 'comm', 'host_pid'), 'host_pid.comm'),
      start_time: nstr(field(hostPid.o, 'start_time', 'host_pid'), 'host_pid.start_time'),
    },
    namespaces: { errors: ns.errors, self: nsOf('self'), init: nsOf('init') },
    capabilities: {
      errors: caps.errors,
      last_cap: nint(field(caps.o, 'last_cap', 'capabilities'), 'capabilities.last_cap'),
      ...capSets(caps.o, 'capabilities'),
      init: capSets(
        obj(field(caps.o, 'init', 'capabilities'), 'capabilities.init'),
        'capabilities.init',
      ),
    },
    status: {
      errors: status.errors,
      ...(pick(
        status.o,
        'status',
        ['no_new_privs', 'seccomp', 'prctl_no_new_privs', 'init_no_new_privs', 'init_seccomp'],
        nint,
      ) as Omit<ProbeObservations['status'], 'errors'>),
    },
    syscalls: arr(readSyscall)(field(doc, 'syscalls', '$'), 'syscalls'),
    masked_paths: arr(readMasked)(field(doc, 'masked_paths', '$'), 'masked_paths'),
    readonly_paths: arr(readReadOnly)(field(doc, 'readonly_paths', '$'), 'readonly_paths'),
    debugfs: {
      errors: debugfs.errors,
      mounted_at: nstrList(field(debugfs.o, 'mounted_at', 'debugfs'), 'debugfs.mounted_at'),
      mount_ok: nbool(field(debugfs.o, 'mount_ok', 'debugfs'), 'debugfs.mount_ok'),
      mount_errno: nstr(field(debugfs.o, 'mount_errno', 'debugfs'), 'debugfs.mount_errno'),
    },
    mknod: {
      errors: mknod.errors,
      created: nbool(field(mknod.o, 'created', 'mknod'), 'mknod.created'),
      errno: nstr(field(mknod.o, 'errno', 'mknod'), 'mknod.errno'),
    },
    devices: {
      errors: devices.errors,
      nodes: arr(readDevice)(field(devices.o, 'nodes', 'devices'), 'devices.nodes'),
      truncated: bool(field(devices.o, 'truncated', 'devices'), 'devices.truncated'),
    },
    network: {
      errors: network.errors,
      source: nstr(field(network.o, 'source', 'network'), 'network.source'),
      interfaces: nstrList(field(network.o, 'interfaces', 'network'), 'network.interfaces'),
    },
    host_tcp: {
      errors: tcp.errors,
      port: nint(field(tcp.o, 'port', 'host_tcp'), 'host_tcp.port'),
      connected: nbool(field(tcp.o, 'connected', 'host_tcp'), 'host_tcp.connected'),
      errno: nstr(field(tcp.o, 'errno', 'host_tcp'), 'host_tcp.errno'),
    },
    host_abstract: {
      errors: abs.errors,
      name: nstr(field(abs.o, 'name', 'host_abstract'), 'host_abstract.name'),
      connected: nbool(field(abs.o, 'connected', 'host_abstract'), 'host_abstract.connected'),
      errno: nstr(field(abs.o, 'errno', 'host_abstract'), 'host_abstract.errno'),
    },
    host_ipc: {
      errors: ipc.errors,
      key: nint(field(ipc.o, 'key', 'host_ipc'), 'host_ipc.key'),
      ...(pick(ipc.o, 'host_ipc', ['msg_found', 'shm_found', 'sem_found'], nbool) as {
        msg_found: boolean | null;
        shm_found: boolean | null;
        sem_found: boolean | null;
      }),
      ...(pick(ipc.o, 'host_ipc', ['msg_errno', 'shm_errno', 'sem_errno'], nstr) as {
        msg_errno: string | null;
        shm_errno: string | null;
        sem_errno: string | null;
      }),
    },
    hostname: {
      errors: host.errors,
      ...(pick(host.o, 'hostname', ['nodename', 'domainname', 'machine'], nstr) as {
        nodename: string | null;
        domainname: string | null;
        machine: string | null;
      }),
    },
    cwd: {
      errors: cwd.errors,
      self: nstr(field(cwd.o, 'self', 'cwd'), 'cwd.self'),
      self_within_root: nbool(field(cwd.o, 'self_within_root', 'cwd'), 'cwd.self_within_root'),
      init: nstr(field(cwd.o, 'init', 'cwd'), 'cwd.init'),
      init_within_root: nbool(field(cwd.o, 'init_within_root', 'cwd'), 'cwd.init_within_root'),
    },
    init_fds: {
      errors: fds.errors,
      fds: nullable(arr(readFd))(field(fds.o, 'fds', 'init_fds'), 'init_fds.fds'),
    },
    pids_test: {
      errors: pids.errors,
      requested: bool(field(pids.o, 'requested', 'pids_test'), 'pids_test.requested'),
      max: nint(field(pids.o, 'max', 'pids_test'), 'pids_test.max'),
      forked: nint(field(pids.o, 'forked', 'pids_test'), 'pids_test.forked'),
      fork_errno: nstr(field(pids.o, 'fork_errno', 'pids_test'), 'pids_test.fork_errno'),
      reaped: nint(field(pids.o, 'reaped', 'pids_test'), 'pids_test.reaped'),
    },
    memory_test: {
      errors: mem.errors,
      requested: memRequested,
      ...(pick(mem.o, 'memory_test', ['limit_bytes', 'max_bytes', 'reached_bytes'], nint) as {
        limit_bytes: number | null;
        max_bytes: number | null;
        reached_bytes: number | null;
      }),
      killed: nbool(field(mem.o, 'killed', 'memory_test'), 'memory_test.killed'),
      signal: nstr(field(mem.o, 'signal', 'memory_test'), 'memory_test.signal'),
      alloc_errno: nstr(field(mem.o, 'alloc_errno', 'memory_test'), 'memory_test.alloc_errno'),
      ...(cgroup ? { cgroup } : {}),
    },
    debug: {
      errors: debug.errors,
      target: int(field(debug.o, 'target', 'debug'), 'debug.target'),
      attempts: arr(readSyscall)(field(debug.o, 'attempts', 'debug'), 'debug.attempts'),
    },
    escapes: {
      errors: escapes.errors,
      requested: bool(field(escapes.o, 'requested', 'escapes'), 'escapes.requested'),
      attempts: arr(readEscape)(field(escapes.o, 'attempts', 'escapes'), 'escapes.attempts'),
    },
    fill_test: {
      errors: fill.errors,
      requested: bool(field(fill.o, 'requested', 'fill_test'), 'fill_test.requested'),
      dir: nstr(field(fill.o, 'dir', 'fill_test'), 'fill_test.dir'),
      ...(pick(fill.o, 'fill_test', ['max_bytes', 'written_bytes'], nint) as {
        max_bytes: number | null;
        written_bytes: number | null;
      }),
      ...(pick(fill.o, 'fill_test', ['errno', 'signal'], nstr) as {
        errno: string | null;
        signal: string | null;
      }),
    },
    console_flood: {
      errors: flood.errors,
      requested: bool(field(flood.o, 'requested', 'console_flood'), 'console_flood.requested'),
      written_bytes: nint(
        field(flood.o, 'written_bytes', 'console_flood'),
        'console_flood.written_bytes',
      ),
      errno: nstr(field(flood.o, 'errno', 'console_flood'), 'console_flood.errno'),
    },
  };
}
