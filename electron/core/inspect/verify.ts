/**
 * `policy verify`: runs the isolation probe inside the running container and compares what it
 * saw with what the compiled policy promises (`ProbeExpectations`). Each promise becomes one
 * report row — id, title, expected, seen, pass — and the report passes only when every row does.
 * A check whose value the probe could not measure fails: a verify that cannot see is no proof.
 */
import type { ProbeExpectations } from '../policy/probe-expectations.js';
import { DEFAULT_INIT_FD_TARGETS } from '../policy/probe-expectations.js';
import type { HostView, IdMapLine } from './host-view.js';
import {
  parseProbeOutput,
  type CapSets,
  type ProbeNamespace,
  type ProbeObservations,
} from './probe-output.js';

/** What the verifier knows about the host side, for the comparisons that need it. */
export interface HostFacts {
  /** Namespace inodes of a host process (`/proc/self/ns/<name>` of the verifier). */
  namespaces: Partial<Record<ProbeNamespace, number>>;
  /** A host process that must be invisible in the container; comm and start time tell it from
   * a container process that happens to have the same number. */
  process: { pid: number; comm: string; startTime: string } | null;
  /** Port of a TCP server listening on the host's 127.0.0.1. */
  tcpPort: number | null;
  /** Name (without the leading NUL) of an abstract Unix socket listening on the host. */
  abstractSocket: string | null;
  /** Key of a SysV message queue existing on the host (never 0 = IPC_PRIVATE). */
  ipcKey: number | null;
  /**
   * The container seen from the host (`collectHostView` of its init), for the `host.*` rows;
   * absent or null when the verifier could not look (those rows then fail as not measured).
   */
  view?: HostView | null;
}

/** What a probe run returned; `runProbe` gets the probe's argv (without the program path). */
export interface ProbeRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** Runs the probe in the container (through `lxc-attach` in the real runtime). */
export type RunProbe = (argv: string[]) => Promise<ProbeRun>;

/** One check of the report. */
export interface VerifyRow {
  /** Stable id, e.g. `'caps.bounding'`, `'syscall.mount'`, `'masked./proc/kcore'`. */
  id: string;
  /** What is checked, for a person. */
  title: string;
  /** What the policy promises. */
  expected: string;
  /** What the probe saw (raw values). */
  seen: string;
  pass: boolean;
}

/** The verification report; `pass` is true when every row passes. */
export interface VerifyReport {
  pass: boolean;
  /**
   * The guest's root is the host's root (no user namespace, or an identity map): whatever
   * escapes this container owns the host. Such a report never passes its `host.*` rows.
   */
  hostEquivalent: boolean;
  rows: VerifyRow[];
  /** The probe's checked observations, for `--json` and for debugging a failed row. */
  observations: ProbeObservations;
}

/** Options of `verifyIsolation`. */
export interface VerifyOptions {
  /** Abort waiting for the probe after this long (ms); default 180 s (the memory test's
   * allocation under a limit can take a while). The runner must kill the probe itself. */
  timeoutMs?: number;
  /** Writable directory inside the container for the mknod/debugfs attempts; default `/tmp`
   * (the probe falls back to `/dev` and `/run`). */
  scratchDir?: string;
}

/** Error with a stable `code`: `'PROBE_FAILED'`, `'PROBE_TIMEOUT'`, `'VERIFY_BAD_EXPECTATIONS'`. */
export class VerifyError extends Error {
  constructor(
    readonly code: 'PROBE_FAILED' | 'PROBE_TIMEOUT' | 'VERIFY_BAD_EXPECTATIONS',
    message: string,
  ) {
    super(message);
    this.name = 'VerifyError';
  }
}

/** Bytes past a storage limit the fill test may write before concluding it is not enforced. */
export const FILL_TEST_MARGIN = 16 * 2 ** 20;

/**
 * The guest's root layer and how much the fill test writes into it (limit plus margin), or null
 * when the policy sets no storage limit.
 */
export function fillTarget(
  expectations: ProbeExpectations,
): { dir: string; limit: number; maxBytes: number } | null {
  const storage = expectations.storage ?? null;
  if (storage === null) return null;
  const limit = storage.paths.find((p) => p.path === '/')?.maxBytes ?? storage.defaultMaxBytes;
  if (!Number.isSafeInteger(limit) || limit < 2 ** 20 || limit > 2 ** 40)
    throw new VerifyError('VERIFY_BAD_EXPECTATIONS', `storage limit out of range: ${limit}`);
  return { dir: '/', limit, maxBytes: limit + FILL_TEST_MARGIN };
}

/** What the console flood writes: twice the cap, so an unenforced cap shows. */
function floodBytes(cap: number): number {
  if (!Number.isSafeInteger(cap) || cap < 1 || cap > 2 ** 29)
    throw new VerifyError('VERIFY_BAD_EXPECTATIONS', `consoleMaxBytes out of range: ${cap}`);
  return 2 * cap;
}

/** How many forks past the pids limit the probe may try before concluding it is not enforced. */
export const PIDS_TEST_MARGIN = 32;

/** A syscall name, optionally with the argument filter the probe knows, e.g. `unshare(CLONE_NEWUSER)`. */
const SYSCALL_NAME = /^[a-z0-9_]{1,64}(\(CLONE_NEWUSER\))?$/;
const ERRNO_NAME = /^E[A-Z0-9]{1,31}$/;
const MAX_LIST = 256;

function checkPath(p: unknown, what: string): string {
  if (typeof p !== 'string' || !p.startsWith('/') || p.length > 4095 || p.includes('\0')) {
    throw new VerifyError('VERIFY_BAD_EXPECTATIONS', `${what}: not an absolute path: ${String(p)}`);
  }
  return p;
}

function checkList<T>(list: T[], what: string): T[] {
  if (!Array.isArray(list) || list.length > MAX_LIST) {
    throw new VerifyError('VERIFY_BAD_EXPECTATIONS', `${what}: not a list of at most ${MAX_LIST}`);
  }
  return list;
}

/**
 * The probe's argv for `expectations` and the host fixtures in `host`. Throws `VerifyError`
 * (`'VERIFY_BAD_EXPECTATIONS'`) for values the probe would refuse (relative paths, odd syscall
 * names, limits out of range).
 */
export function probeArgv(
  expectations: ProbeExpectations,
  host: HostFacts,
  options: VerifyOptions = {},
): string[] {
  const argv: string[] = [];
  if (host.process) argv.push('--host-pid', String(host.process.pid));
  if (host.tcpPort !== null) argv.push('--host-tcp-port', String(host.tcpPort));
  if (host.abstractSocket !== null) argv.push('--host-abstract', host.abstractSocket);
  if (host.ipcKey !== null && host.ipcKey !== 0) argv.push('--host-ipc-key', String(host.ipcKey));
  for (const s of checkList(expectations.deniedSyscalls, 'deniedSyscalls')) {
    if (!SYSCALL_NAME.test(s.syscall)) {
      throw new VerifyError('VERIFY_BAD_EXPECTATIONS', `deniedSyscalls: bad name ${s.syscall}`);
    }
    if (s.result !== 'kill' && !ERRNO_NAME.test(s.result)) {
      throw new VerifyError(
        'VERIFY_BAD_EXPECTATIONS',
        `deniedSyscalls.${s.syscall}: bad result ${s.result}`,
      );
    }
    argv.push('--syscall', s.syscall);
  }
  for (const p of checkList(expectations.maskedPaths, 'maskedPaths')) {
    argv.push('--masked', checkPath(p, 'maskedPaths'));
  }
  for (const p of checkList(expectations.readOnlyPaths, 'readOnlyPaths')) {
    argv.push('--readonly', checkPath(p, 'readOnlyPaths'));
  }
  if (expectations.memoryLimitBytes !== null) {
    const m = expectations.memoryLimitBytes;
    if (!Number.isSafeInteger(m) || m < 2 ** 20 || m > 2 ** 36) {
      throw new VerifyError('VERIFY_BAD_EXPECTATIONS', `memoryLimitBytes out of range: ${m}`);
    }
    argv.push('--memory-test', String(m));
  }
  if (expectations.pidsLimit !== null) {
    const p = expectations.pidsLimit;
    if (!Number.isSafeInteger(p) || p < 1 || p + PIDS_TEST_MARGIN > 100_000) {
      throw new VerifyError('VERIFY_BAD_EXPECTATIONS', `pidsLimit out of range: ${p}`);
    }
    argv.push('--pids-test', String(p + PIDS_TEST_MARGIN));
  }
  if (options.scratchDir !== undefined)
    argv.push('--scratch', checkPath(options.scratchDir, 'scratchDir'));
  // Every report tries the known ways out: they are expected to fail under every policy.
  argv.push('--escapes');
  const fill = fillTarget(expectations);
  if (fill !== null) argv.push('--fill-dir', fill.dir, '--fill-max', String(fill.maxBytes));
  if (expectations.consoleMaxBytes != null)
    argv.push('--console-flood', String(floodBytes(expectations.consoleMaxBytes)));
  return argv;
}

// ---------------------------------------------------------------------------------------------
// Comparison.

const NOT_MEASURED = 'not measured';

function show(v: unknown): string {
  if (v === null || v === undefined) return NOT_MEASURED;
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.join(', ');
  return String(v);
}

function withErrors(seen: string, errors: string[]): string {
  return errors.length === 0 ? seen : `${seen} [${errors.join('; ')}]`;
}

/** `*` matches any run of characters other than `/`; everything else is literal. */
export function globMatch(pattern: string, value: string): boolean {
  const re = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${re}$`).test(value);
}

function setDiff(expected: string[], seen: string[]): { extra: string[]; missing: string[] } {
  const e = new Set(expected);
  const s = new Set(seen);
  return { extra: seen.filter((x) => !e.has(x)), missing: expected.filter((x) => !s.has(x)) };
}

function capRow(id: string, title: string, expected: string[], seen: string[] | null): VerifyRow {
  const exp = [...expected].sort();
  if (seen === null) return { id, title, expected: show(exp), seen: NOT_MEASURED, pass: false };
  const { extra, missing } = setDiff(exp, seen);
  let text = show([...seen].sort());
  if (extra.length) text += ` (extra: ${extra.join(', ')})`;
  if (missing.length) text += ` (missing: ${missing.join(', ')})`;
  return {
    id,
    title,
    expected: show(exp),
    seen: text,
    pass: extra.length === 0 && missing.length === 0,
  };
}

function emptyCapsRow(
  id: string,
  title: string,
  self: CapSets,
  init: CapSets,
  set: 'ambient' | 'inheritable',
): VerifyRow {
  const a = self[set];
  const b = init[set];
  return {
    id,
    title,
    expected: '(none) for the probe and init',
    seen: `probe: ${show(a)}; init: ${show(b)}`,
    pass: a !== null && b !== null && a.length === 0 && b.length === 0,
  };
}

function syscallSeen(a: ProbeObservations['syscalls'][number] | undefined): string {
  if (!a) return 'not attempted';
  if (a.signal) return a.signal;
  if (a.error) return `error: ${a.error}`;
  if (a.ret !== null && a.ret >= 0) return `allowed (returned ${a.ret})`;
  return a.errno ?? NOT_MEASURED;
}

function mib(bytes: number | null): string {
  return bytes === null ? NOT_MEASURED : `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}

/**
 * Compares checked observations with the expectations and the host facts; one row per promise.
 * Pure: no I/O. Rows for promises the policy does not make (e.g. `noNewPrivs: false`) pass and
 * say "not required", so the report shows the whole picture.
 */
export function compareObservations(
  expectations: ProbeExpectations,
  obs: ProbeObservations,
  host: HostFacts,
): VerifyReport {
  const rows: VerifyRow[] = [];
  const add = (row: VerifyRow) => rows.push(row);

  const view = host.view ?? null;
  // PID namespace: PID 1 is the container's own init, and a host process is not visible.
  // A non-dumpable init (no debugging) hides its namespaces from the guest; the host sees them.
  if (expectations.namespaces.includes('pid')) {
    const selfNs = obs.namespaces.self.pid;
    const initNs = obs.namespaces.init.pid ?? view?.initNamespaces.pid ?? null;
    add({
      id: 'pid.init',
      title: 'PID 1 is the container init, in the container pid namespace',
      expected: 'init in the probe pid namespace, not the host one',
      seen: withErrors(
        `probe pid ${obs.pid.self}, PID 1 "${obs.pid.init_comm ?? NOT_MEASURED}", pid ns of PID 1 ${show(initNs)}, of probe ${show(selfNs)}`,
        obs.pid.errors,
      ),
      pass:
        selfNs !== null &&
        initNs === selfNs &&
        host.namespaces.pid !== undefined &&
        selfNs !== host.namespaces.pid &&
        obs.pid.self !== 1,
    });
  }
  {
    const h = obs.host_pid;
    let seen: string;
    let pass: boolean;
    if (!host.process) {
      seen = 'no host process given';
      pass = false;
    } else if (h.pid !== host.process.pid || h.visible === null) {
      seen = withErrors(NOT_MEASURED, h.errors);
      pass = false;
    } else if (!h.visible) {
      seen = `/proc/${h.pid} absent`;
      pass = true;
    } else {
      const same = h.comm === host.process.comm && h.start_time === host.process.startTime;
      seen = `/proc/${h.pid} exists: "${show(h.comm)}" started ${show(h.start_time)}${same ? ' (the host process)' : ' (another process)'}`;
      pass = !same;
    }
    add({
      id: 'pid.host-invisible',
      title: 'host processes are invisible',
      expected: `host pid ${host.process?.pid ?? '?'} not visible`,
      seen,
      pass,
    });
  }

  for (const name of expectations.namespaces) {
    const seen = obs.namespaces.self[name];
    const hostIno = host.namespaces[name];
    add({
      id: `ns.${name}`,
      title: `own ${name} namespace`,
      expected: `inode ≠ host ${hostIno ?? '(unknown)'}`,
      seen: seen === null ? withErrors(NOT_MEASURED, obs.namespaces.errors) : String(seen),
      pass: seen !== null && hostIno !== undefined && seen !== hostIno,
    });
  }

  const caps = obs.capabilities;
  const exp = expectations.capabilities;
  add(capRow('caps.bounding', 'capability bounding set (probe)', exp, caps.bounding));
  add(capRow('caps.effective', 'effective capabilities (probe)', exp, caps.effective));
  add(capRow('caps.permitted', 'permitted capabilities (probe)', exp, caps.permitted));
  add(capRow('caps.init.bounding', 'capability bounding set (init)', exp, caps.init.bounding));
  add(capRow('caps.init.effective', 'effective capabilities (init)', exp, caps.init.effective));
  add(capRow('caps.init.permitted', 'permitted capabilities (init)', exp, caps.init.permitted));
  add(emptyCapsRow('caps.ambient', 'ambient capabilities', caps, caps.init, 'ambient'));
  add(emptyCapsRow('caps.inheritable', 'inheritable capabilities', caps, caps.init, 'inheritable'));

  const st = obs.status;
  add({
    id: 'status.no-new-privs',
    title: 'no_new_privs',
    expected: expectations.noNewPrivs ? 'NoNewPrivs: 1' : 'not required',
    seen: withErrors(
      `NoNewPrivs: ${show(st.no_new_privs)} (prctl: ${show(st.prctl_no_new_privs)})`,
      st.errors,
    ),
    pass: !expectations.noNewPrivs || (st.no_new_privs === 1 && st.prctl_no_new_privs === 1),
  });
  add({
    id: 'status.seccomp',
    title: 'seccomp filter mode',
    expected: expectations.seccomp ? 'Seccomp: 2' : 'not required',
    seen: withErrors(`Seccomp: ${show(st.seccomp)}`, st.errors),
    pass: !expectations.seccomp || st.seccomp === 2,
  });

  for (const s of expectations.deniedSyscalls) {
    const a = obs.syscalls.find((x) => x.name === s.syscall);
    const expectKill = s.result === 'kill';
    add({
      id: `syscall.${s.syscall}`,
      title: `${s.syscall} denied`,
      expected: expectKill ? 'killed (SIGSYS)' : s.result,
      seen: syscallSeen(a),
      pass:
        a !== undefined &&
        a.error === null &&
        (expectKill
          ? a.signal === 'SIGSYS'
          : a.signal === null && a.ret !== null && a.ret < 0 && a.errno === s.result),
    });
  }

  for (const p of expectations.maskedPaths) {
    const m = obs.masked_paths.find((x) => x.path === p);
    let seen = NOT_MEASURED;
    let pass = false;
    if (m && m.exists === false) {
      seen = 'absent';
      pass = true;
    } else if (m && m.exists) {
      const devNull = m.type === 'chr' && m.rdev === '1:3';
      if (m.type === 'dir') {
        seen = `directory, ${show(m.entries)} entries`;
        pass = m.entries === 0;
      } else {
        const read = m.read_errno ? `read ${m.read_errno}` : `read ${show(m.read_bytes)} bytes`;
        const write = devNull
          ? 'writes discarded (/dev/null)'
          : m.write_ok === null
            ? 'write not tried'
            : m.write_ok
              ? 'writable'
              : `write ${m.write_errno}`;
        seen = `${m.type}${m.rdev ? ` ${m.rdev}` : ''}, ${read}, ${write}`;
        const readsEmpty = m.read_errno !== null || m.read_bytes === 0;
        pass = readsEmpty && (devNull || m.write_ok === false);
      }
    }
    add({
      id: `masked.${p}`,
      title: `${p} masked`,
      expected: 'absent, or reads empty and refuses writes',
      seen: m ? withErrors(seen, m.errors) : 'not probed',
      pass,
    });
  }

  const refused = new Set(['EROFS', 'EACCES', 'EPERM']);
  for (const p of expectations.readOnlyPaths) {
    const r = obs.readonly_paths.find((x) => x.path === p);
    let seen = NOT_MEASURED;
    let pass = false;
    if (r && r.exists === false) {
      seen = 'absent';
      pass = true;
    } else if (r && r.exists) {
      const parts = [
        `${r.type}`,
        r.ro_mount === null
          ? 'mount flags unknown'
          : r.ro_mount
            ? 'read-only mount'
            : 'read-write mount',
        `access(W_OK) ${r.access_w_errno ?? 'allowed'}`,
      ];
      if (r.write_ok !== null)
        parts.push(r.write_ok ? 'opened for writing' : `open for write ${r.write_errno}`);
      seen = parts.join(', ');
      const openRefused = r.write_ok === false && refused.has(r.write_errno ?? '');
      const accessRefused = r.access_w_errno !== null && refused.has(r.access_w_errno);
      pass = r.write_ok !== true && (r.ro_mount === true || openRefused || accessRefused);
    }
    add({
      id: `readonly.${p}`,
      title: `${p} read-only`,
      expected: 'writes refused (EROFS/EACCES/EPERM)',
      seen: r ? withErrors(seen, r.errors) : 'not probed',
      pass,
    });
  }

  const d = obs.debugfs;
  add({
    id: 'debugfs',
    title: 'no debugfs',
    expected: expectations.noDebugfs ? 'not mounted, mount refused' : 'not required',
    seen: withErrors(
      `mounted at: ${show(d.mounted_at)}; mount ${d.mount_ok === null ? NOT_MEASURED : d.mount_ok ? 'succeeded' : d.mount_errno}`,
      d.errors,
    ),
    pass:
      !expectations.noDebugfs ||
      (d.mounted_at !== null && d.mounted_at.length === 0 && d.mount_ok === false),
  });

  const mk = obs.mknod;
  add({
    id: 'mknod',
    title: 'mknod of a character device refused',
    expected: expectations.mknodDenied ? 'refused' : 'not required',
    seen: withErrors(
      mk.created === null ? NOT_MEASURED : mk.created ? 'created' : `refused: ${mk.errno}`,
      mk.errors,
    ),
    pass: !expectations.mknodDenied || mk.created === false,
  });

  {
    const allowed = expectations.allowedDevices.map((a) =>
      a.startsWith('/dev/') ? a : `/dev/${a}`,
    );
    const extra = obs.devices.nodes.filter((n) => !allowed.some((a) => globMatch(a, n.path)));
    const list = (nodes: typeof extra) =>
      nodes.map((n) => `${n.path} (${n.type} ${n.major}:${n.minor})`);
    add({
      id: 'devices',
      title: 'only allowed device nodes in /dev',
      expected: show(allowed),
      seen: withErrors(
        extra.length
          ? `unexpected: ${list(extra).join(', ')}`
          : `${obs.devices.nodes.length} nodes, all allowed${obs.devices.truncated ? ' (list truncated)' : ''}`,
        obs.devices.errors,
      ),
      pass: extra.length === 0 && !obs.devices.truncated,
    });
  }

  {
    const ifs = obs.network.interfaces;
    const extra = ifs ? ifs.filter((i) => !expectations.networkInterfaces.includes(i)) : [];
    add({
      id: 'net.interfaces',
      title: 'only planned network interfaces',
      expected: show(expectations.networkInterfaces),
      seen: withErrors(
        ifs === null
          ? NOT_MEASURED
          : `${show(ifs)}${extra.length ? ` (unexpected: ${extra.join(', ')})` : ''}`,
        obs.network.errors,
      ),
      pass: ifs !== null && extra.length === 0,
    });
  }

  const reach = (
    id: string,
    title: string,
    required: boolean,
    given: boolean,
    r: { connected: boolean | null; errno: string | null; errors: string[] },
  ): VerifyRow => ({
    id,
    title,
    expected: required ? 'unreachable' : 'not required',
    seen: !given
      ? 'no host fixture given'
      : withErrors(
          r.connected === null ? NOT_MEASURED : r.connected ? 'connected' : `refused: ${r.errno}`,
          r.errors,
        ),
    pass: !required || (given && r.connected === false),
  });
  add(
    reach(
      'net.host-loopback',
      `host 127.0.0.1:${host.tcpPort ?? '?'} unreachable`,
      expectations.hostLoopbackUnreachable,
      host.tcpPort !== null && obs.host_tcp.port === host.tcpPort,
      obs.host_tcp,
    ),
  );
  add(
    reach(
      'net.host-abstract',
      'host abstract Unix socket unreachable',
      expectations.hostAbstractSocketUnreachable,
      host.abstractSocket !== null && obs.host_abstract.name === host.abstractSocket,
      obs.host_abstract,
    ),
  );

  {
    const i = obs.host_ipc;
    const given = host.ipcKey !== null && i.key === host.ipcKey;
    const found = [i.msg_found, i.shm_found, i.sem_found];
    add({
      id: 'ipc.host-invisible',
      title: 'host SysV IPC invisible',
      expected: expectations.hostIpcInvisible ? 'key not found (ENOENT)' : 'not required',
      seen: !given
        ? 'no host fixture given'
        : withErrors(
            `msg: ${i.msg_found ? 'found' : show(i.msg_errno)}, shm: ${i.shm_found ? 'found' : show(i.shm_errno)}, sem: ${i.sem_found ? 'found' : show(i.sem_errno)}`,
            i.errors,
          ),
      pass: !expectations.hostIpcInvisible || (given && found.every((f) => f === false)),
    });
  }

  add({
    id: 'uts.hostname',
    title: 'hostname',
    expected: expectations.hostname,
    seen: withErrors(show(obs.hostname.nodename), obs.hostname.errors),
    pass: obs.hostname.nodename === expectations.hostname,
  });

  {
    const m = obs.memory_test;
    const limit = expectations.memoryLimitBytes;
    const counters = m.cgroup;
    const oom =
      counters && counters.oom_kill_before !== null && counters.oom_kill_after !== null
        ? `, cgroup oom_kill ${counters.oom_kill_before}→${counters.oom_kill_after}`
        : '';
    const fails =
      counters && counters.failcnt_before !== null && counters.failcnt_after !== null
        ? `, failcnt ${counters.failcnt_before}→${counters.failcnt_after}`
        : '';
    let seen: string;
    if (!m.requested) seen = 'not tested';
    else if (m.killed === null) seen = withErrors(NOT_MEASURED, m.errors);
    else if (m.killed) seen = `child SIGKILLed after ${mib(m.reached_bytes)}${oom}${fails}`;
    else
      seen = `child not killed: ${m.signal ?? (m.alloc_errno ? `allocation failed ${m.alloc_errno}` : 'exited')} after ${mib(m.reached_bytes)}${oom}${fails}`;
    add({
      id: 'memory.limit',
      title: 'memory limit enforced by an OOM kill',
      expected:
        limit === null ? 'no limit' : `OOM kill before ${mib(2 * limit)} (limit ${mib(limit)})`,
      seen,
      pass:
        limit === null ||
        (m.requested &&
          m.limit_bytes === limit &&
          m.killed === true &&
          m.reached_bytes !== null &&
          m.reached_bytes < 2 * limit),
    });
  }

  {
    const p = obs.pids_test;
    const limit = expectations.pidsLimit;
    let seen: string;
    if (!p.requested) seen = 'not tested';
    else if (p.forked === null) seen = withErrors(NOT_MEASURED, p.errors);
    else
      seen = `${p.forked} forks then ${p.fork_errno ?? `stopped at the test maximum ${p.max}`}; reaped ${show(p.reaped)}`;
    add({
      id: 'pids.limit',
      title: 'pids limit stops a fork bomb',
      expected: limit === null ? 'no limit' : `fork fails with EAGAIN before ${limit} processes`,
      seen,
      pass:
        limit === null ||
        (p.requested &&
          p.forked !== null &&
          p.forked < limit &&
          p.fork_errno === 'EAGAIN' &&
          p.reaped === p.forked),
    });
  }

  {
    const patterns = expectations.initFdTargets ?? DEFAULT_INIT_FD_TARGETS;
    // A non-dumpable init's fd links cannot be read from inside (EACCES); the host can.
    const guestFds = obs.init_fds.fds;
    const fromHost =
      view?.initFds != null && (guestFds === null || guestFds.some((f) => f.target === null));
    const fds = fromHost ? (view?.initFds?.map((f) => ({ ...f, errno: null })) ?? null) : guestFds;
    const bad = (fds ?? []).filter(
      (f) => f.target === null || !patterns.some((pat) => globMatch(pat, f.target as string)),
    );
    add({
      id: 'init.fds',
      title: 'open fds of init are only the expected ones',
      expected: show(patterns),
      seen:
        fds === null
          ? withErrors(NOT_MEASURED, obs.init_fds.errors)
          : bad.length
            ? `unexpected: ${bad.map((f) => `${f.fd} → ${f.target ?? f.errno}`).join(', ')}`
            : `${fds.length} fds, all expected${fromHost ? ' (host view)' : ''}`,
      pass: fds !== null && bad.length === 0,
    });
  }

  {
    const c = obs.cwd;
    const hostCwd = c.init_within_root === null ? (view?.initCwd ?? null) : null;
    const init = hostCwd?.path ?? c.init;
    const initWithin = hostCwd?.withinRoot ?? c.init_within_root;
    add({
      id: 'cwd.inside-rootfs',
      title: 'cwd of init and of the probe inside the rootfs',
      expected: 'both under the container root',
      seen: withErrors(
        `init: ${show(init)} (${initWithin === null ? NOT_MEASURED : initWithin ? 'inside' : 'OUTSIDE'}${hostCwd ? ', host view' : ''}); probe: ${show(c.self)} (${c.self_within_root === null ? NOT_MEASURED : c.self_within_root ? 'inside' : 'OUTSIDE'})`,
        hostCwd ? [] : c.errors,
      ),
      pass: initWithin === true && c.self_within_root === true,
    });
  }

  rows.push(...debugRows(expectations, obs));
  rows.push(...escapeRows(obs, host));
  rows.push(fillRow(expectations, obs));
  rows.push(consoleRow(expectations, obs, view));
  const hostRows = hostViewRows(expectations, view);
  rows.push(...hostRows.rows);

  return {
    pass: rows.every((r) => r.pass),
    hostEquivalent: hostRows.hostEquivalent,
    rows,
    observations: obs,
  };
}

/** The ways of debugging another process the probe tries against the guest's init. */
export const DEBUG_ATTEMPTS = [
  'proc_mem',
  'process_vm_readv',
  'process_vm_writev',
  'pidfd_getfd',
  'kcmp',
] as const;

const DEBUG_TITLES: Record<(typeof DEBUG_ATTEMPTS)[number], string> = {
  proc_mem: '/proc/1/mem of init cannot be opened',
  process_vm_readv: "process_vm_readv of init's memory refused",
  process_vm_writev: "process_vm_writev into init's memory refused",
  pidfd_getfd: "pidfd_getfd cannot take init's fds",
  kcmp: 'kcmp cannot compare with init',
};

function debugRows(expectations: ProbeExpectations, obs: ProbeObservations): VerifyRow[] {
  return DEBUG_ATTEMPTS.map((name) => {
    const a = obs.debug.attempts.find((x) => x.name === name);
    let seen = syscallSeen(a);
    // process_vm_* name address 0: EFAULT means the kernel let the access through.
    if (a?.errno === 'EFAULT') seen = 'allowed (EFAULT at address 0: access granted)';
    return {
      id: `debug.${name}`,
      title: DEBUG_TITLES[name],
      expected: expectations.noDebugging
        ? 'refused (EPERM/EACCES)'
        : 'not required (this policy allows debugging)',
      seen: withErrors(seen, obs.debug.errors),
      pass:
        !expectations.noDebugging ||
        (a !== undefined &&
          a.error === null &&
          a.signal === null &&
          a.ret !== null &&
          a.ret < 0 &&
          (a.errno === 'EPERM' || a.errno === 'EACCES')),
    };
  });
}

/** The escape classes of the probe's `--escapes`, with what each row checks. */
export const ESCAPE_CLASSES: ReadonlyArray<{ name: string; title: string }> = [
  { name: 'remount-ro-bind', title: 'a read-only host bind cannot be remounted read-write' },
  { name: 'procfs-knob', title: 'a fresh procfs gives no writable core_pattern' },
  { name: 'sysfs-knob', title: 'a fresh sysfs gives no writable /sys/power/state' },
  { name: 'tracefs-knob', title: 'a fresh tracefs gives no writable tracing_on' },
  { name: 'binfmt-misc', title: 'no binfmt_misc rule reaches the host' },
  { name: 'fanotify-fs-mark', title: 'no fanotify mark on a host file system' },
  { name: 'cgroup-memory', title: 'the memory limit cannot be changed from inside' },
  { name: 'cgroup-pids', title: 'the pids limit cannot be changed from inside' },
  { name: 'cgroup-devices', title: 'the device allow-list cannot be changed from inside' },
  { name: 'cgroup2', title: 'no cgroup2 limit file is writable from inside' },
];

function escapeSeen(a: ProbeObservations['escapes']['attempts'][number]): string {
  const target = a.target ?? '?';
  if (a.succeeded === null) return `${target}: ${a.error ?? NOT_MEASURED}`;
  if (a.succeeded) return `${target}: SUCCEEDED`;
  return `${target}: ${a.step ?? 'refused'} ${a.errno ?? 'refused'}`;
}

function escapeRows(obs: ProbeObservations, host: HostFacts): VerifyRow[] {
  const e = obs.escapes;
  const ownUserNs =
    obs.namespaces.self.user !== null &&
    host.namespaces.user !== undefined &&
    obs.namespaces.self.user !== host.namespaces.user;
  return ESCAPE_CLASSES.map(({ name, title }) => {
    const attempts = e.attempts.filter((a) => a.name === name);
    let pass = e.requested && attempts.length > 0 && attempts.every((a) => a.succeeded === false);
    let seen = e.requested
      ? attempts.length === 0
        ? 'not attempted'
        : attempts.map(escapeSeen).join('; ')
      : 'escape attempts not run';
    // Since Linux 6.7 binfmt_misc has one instance per user namespace: a rule accepted inside a
    // user namespace of its own lives in the guest's instance, which the host never consults.
    if (name === 'binfmt-misc' && !pass && e.requested && attempts.length > 0) {
      const accepted = attempts.every((a) => a.succeeded !== null);
      if (accepted && ownUserNs) {
        pass = true;
        seen +=
          " (in the guest's own user namespace: its own binfmt_misc instance, not the host's)";
      } else if (accepted) {
        seen += " (in the host's user namespace: the HOST would run it)";
      }
    }
    return {
      id: `escape.${name}`,
      title,
      expected: 'refused',
      seen: withErrors(seen, e.errors),
      pass,
    };
  });
}

function fillRow(expectations: ProbeExpectations, obs: ProbeObservations): VerifyRow {
  const f = obs.fill_test;
  const target = fillTarget(expectations);
  const id = 'storage.fill';
  const title = "filling the guest's root layer stops at its limit";
  if (target === null)
    return {
      id,
      title,
      expected: 'a storage limit (this policy sets none)',
      seen: 'not tested: the host disk is the only limit',
      pass: false,
    };
  let seen: string;
  if (!f.requested || f.dir !== target.dir) seen = 'not tested';
  else if (f.written_bytes === null) seen = withErrors(f.signal ?? NOT_MEASURED, f.errors);
  else
    seen = `${mib(f.written_bytes)} written, then ${f.errno ?? (f.signal ? f.signal : `stopped at the test maximum ${mib(f.max_bytes)}`)}`;
  return {
    id,
    title,
    expected: `ENOSPC/EDQUOT before ${mib(target.maxBytes)} (limit ${mib(target.limit)})`,
    seen,
    pass:
      f.requested &&
      f.dir === target.dir &&
      f.max_bytes === target.maxBytes &&
      f.written_bytes !== null &&
      f.written_bytes <= target.limit &&
      (f.errno === 'ENOSPC' || f.errno === 'EDQUOT' || f.errno === 'EFBIG'),
  };
}

function consoleRow(
  expectations: ProbeExpectations,
  obs: ProbeObservations,
  view: HostView | null,
): VerifyRow {
  const c = obs.console_flood;
  const cap = expectations.consoleMaxBytes ?? null;
  const id = 'console.bounded';
  const title = "flooding the console stays within its log's cap on the host";
  // Only a runtime that keeps no console log at all (init's output to /dev/null) names no cap.
  if (cap === null)
    return { id, title, expected: 'not required (no console log)', seen: 'not tested', pass: true };
  const size = view?.consoleBytes ?? null;
  const wrote =
    c.written_bytes === null
      ? withErrors(NOT_MEASURED, c.errors)
      : c.written_bytes === 0 && c.errno
        ? `init's output unreachable (${c.errno})`
        : `${mib(c.written_bytes)} written${c.errno ? ` then ${c.errno}` : ''}`;
  return {
    id,
    title,
    expected: `console log on the host at most ${mib(cap)}`,
    seen: `${wrote}; log on the host ${size === null ? NOT_MEASURED : mib(size)}`,
    pass: c.requested && c.written_bytes !== null && size !== null && size <= cap,
  };
}

/** Options whose absence on a writable host-backed mount lets a guest plant a setuid file or a device node. */
const HOST_MOUNT_FLAGS = ['nosuid', 'nodev'];

function mapsInto(map: IdMapLine[] | null, range: { hostBase: number; count: number }): boolean {
  return (
    map !== null &&
    map.length > 0 &&
    map.every(
      (l) => l.outside >= range.hostBase && l.outside + l.count <= range.hostBase + range.count,
    )
  );
}

function showMap(map: IdMapLine[] | null): string {
  if (map === null) return NOT_MEASURED;
  return map.map((l) => `${l.inside}→${l.outside}×${l.count}`).join(' ') || '(empty)';
}

/** Whether `ids` (host ids of the guest) include `id`. */
function guestOwns(id: number, range: { hostBase: number; count: number } | null): boolean {
  return range === null ? id === 0 : id >= range.hostBase && id < range.hostBase + range.count;
}

function hostViewRows(
  expectations: ProbeExpectations,
  view: HostView | null,
): { rows: VerifyRow[]; hostEquivalent: boolean } {
  const rows: VerifyRow[] = [];
  const range = expectations.userNamespace ?? null;
  const identity =
    view?.uidMap?.some((l) => l.inside === 0 && l.outside === 0) === true ||
    view?.gidMap?.some((l) => l.inside === 0 && l.outside === 0) === true;
  const hostEquivalent = range === null || identity;
  const unseen = (id: string, title: string, expected: string): VerifyRow => ({
    id,
    title,
    expected,
    seen: withErrors(`${NOT_MEASURED} (no host view of init)`, view?.errors ?? []),
    pass: false,
  });

  {
    const id = 'host.idmap';
    const title = "guest ids map to the instance's own host range";
    const expected =
      range === null
        ? 'a user namespace (this policy has none: host-equivalent)'
        : `uid and gid 0… → ${range.hostBase}…${range.hostBase + range.count - 1}`;
    if (view === null) rows.push(unseen(id, title, expected));
    else
      rows.push({
        id,
        title,
        expected,
        seen: withErrors(
          `uid_map ${showMap(view.uidMap)}; gid_map ${showMap(view.gidMap)}${identity ? ' (identity: guest root is host root)' : ''}`,
          view.uidMap === null || view.gidMap === null ? view.errors : [],
        ),
        pass:
          range !== null &&
          !identity &&
          mapsInto(view.uidMap, range) &&
          mapsInto(view.gidMap, range),
      });
  }

  const mounts = view?.writableHostMounts ?? null;
  {
    const id = 'host.mounts-nosuid';
    const title = 'every writable host-backed mount is nosuid,nodev';
    const expected = `${HOST_MOUNT_FLAGS.join(',')} on each (host's mountinfo of init)`;
    if (mounts === null) rows.push(unseen(id, title, expected));
    else {
      const bad = mounts.filter((m) => HOST_MOUNT_FLAGS.some((f) => !m.mountOptions.includes(f)));
      rows.push({
        id,
        title,
        expected,
        seen: bad.length
          ? `missing on: ${bad.map((m) => `${m.guestPath} (${m.mountOptions.join(',')})`).join('; ')}`
          : `${mounts.length} writable host-backed mounts, all nosuid,nodev`,
        pass: bad.length === 0,
      });
    }
  }

  {
    const id = 'host.storage';
    const title = 'every writable host-backed file system is size-limited';
    const storage = expectations.storage ?? null;
    const limitOf = (p: string): number | null =>
      storage === null
        ? null
        : (storage.paths.find((x) => x.path === p)?.maxBytes ?? storage.defaultMaxBytes);
    const expected =
      storage === null
        ? 'a storage limit (this policy sets none)'
        : `at most ${[...storage.paths.map((x) => `${x.path} ${mib(x.maxBytes)}`), `others ${mib(storage.defaultMaxBytes)}`].join(', ')}`;
    if (mounts === null) rows.push(unseen(id, title, expected));
    else {
      const bad = mounts.filter((m) => {
        const limit = limitOf(m.guestPath);
        return limit === null || m.sizeBytes === null || m.sizeBytes > limit;
      });
      rows.push({
        id,
        title,
        expected,
        seen: bad.length
          ? `too large or unknown: ${bad.map((m) => `${m.guestPath} ${mib(m.sizeBytes)}`).join('; ')}`
          : mounts.length === 0
            ? 'no writable host-backed mounts'
            : mounts.map((m) => `${m.guestPath} ${mib(m.sizeBytes)}`).join(', '),
        pass: storage !== null && bad.length === 0,
      });
    }
  }

  {
    const id = 'host.cgroup-files';
    const title = "cgroup limit files are not the guest's to write";
    const expected = `owned by a host id outside the guest's${range === null ? ' (guest root = host root 0)' : ''}, not writable by others`;
    const files = view?.cgroupFiles ?? null;
    if (files === null || view === null) rows.push(unseen(id, title, expected));
    else {
      const bad = files.filter(
        (f) =>
          (guestOwns(f.uid, range) && (f.mode & 0o200) !== 0) ||
          (guestOwns(f.gid, range) && (f.mode & 0o020) !== 0) ||
          (f.mode & 0o002) !== 0,
      );
      rows.push({
        id,
        title,
        expected,
        seen:
          files.length === 0
            ? 'no limit files found'
            : bad.length
              ? `writable by the guest: ${bad.map((f) => `${f.path} (${f.uid}:${f.gid} ${f.mode.toString(8)})`).join('; ')}`
              : `${files.length} files, none writable by the guest`,
        pass: files.length > 0 && bad.length === 0,
      });
    }
  }

  {
    const id = 'host.setuid-reach';
    const title = 'no guest-writable host folder lets other host users run a setuid file';
    const expected =
      "the host's mount is nosuid, or a parent is closed to others (root-owned, no o+x)";
    if (mounts === null) rows.push(unseen(id, title, expected));
    else {
      const open = mounts.filter((m) => {
        if (m.hostPath === null) return false;
        if (m.hostMountOptions?.includes('nosuid')) return false;
        // A folder closed to others stops every host user but its owner: root, or the guest's
        // own root (whose host uid runs nothing outside the container).
        return !m.hostParents.some(
          (p) =>
            (p.mode & 0o001) === 0 && (p.uid === 0 || (range !== null && guestOwns(p.uid, range))),
        );
      });
      rows.push({
        id,
        title,
        expected,
        seen: open.length
          ? `reachable: ${open.map((m) => `${m.hostPath} (as ${m.guestPath})`).join('; ')}`
          : `${mounts.length} writable host-backed mounts, none reachable`,
        pass: !hostEquivalent && open.length === 0,
      });
    }
  }
  return { rows, hostEquivalent };
}

const MAX_STDERR_IN_ERROR = 2000;

/**
 * Runs the probe through `runProbe` with the argv derived from `expectations` and `host`, checks
 * its output as untrusted input, and compares it. Rejects with `VerifyError` (`'PROBE_FAILED'`
 * when the runner fails or the probe exits non-zero, `'PROBE_TIMEOUT'`) or `ProbeOutputError`
 * (`'PROBE_BAD_OUTPUT'`); a probe that ran and saw a broken promise resolves with a failing
 * report instead.
 */
export async function verifyIsolation(
  expectations: ProbeExpectations,
  runProbe: RunProbe,
  host: HostFacts,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const argv = probeArgv(expectations, host, options);
  const timeoutMs = options.timeoutMs ?? 180_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new VerifyError('PROBE_TIMEOUT', `isolation probe did not finish within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
  });
  let run: ProbeRun;
  try {
    run = await Promise.race([runProbe(argv), timeout]);
  } catch (e) {
    if (e instanceof VerifyError) throw e;
    throw new VerifyError(
      'PROBE_FAILED',
      `could not run the isolation probe: ${(e as Error)?.message ?? String(e)}`,
    );
  } finally {
    clearTimeout(timer);
  }
  if (run.exitCode !== 0) {
    const stderr = String(run.stderr ?? '')
      .slice(0, MAX_STDERR_IN_ERROR)
      .trim();
    throw new VerifyError(
      'PROBE_FAILED',
      `isolation probe exited with ${run.exitCode === null ? 'a signal' : `status ${run.exitCode}`}${stderr ? `: ${stderr}` : ''}`,
    );
  }
  return compareObservations(expectations, parseProbeOutput(run.stdout), host);
}
