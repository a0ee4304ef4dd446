/**
 * What a compiled isolation policy promises about the inside of a running container, in the
 * terms the in-container isolation probe (`native/probe/`) can observe. The policy compiler
 * (`electron/core/policy/`) derives it from a policy; `policy verify` compares it with what the
 * probe saw and reports each check: expected, seen, pass.
 */

/** Init fd targets allowed when the expectations name none (see `initFdTargets`). */
export const DEFAULT_INIT_FD_TARGETS = [
  '/dev/null',
  '/dev/console',
  '/dev/pts/*',
  '/dev/tty*',
  'pipe:*',
  'socket:*',
  'anon_inode:*',
];
export interface ProbeExpectations {
  /** Hostname the container's UTS namespace must report. */
  hostname: string;
  /** Namespaces that must differ from the host's (`/proc/1/ns/<name>` inode of the host's init). */
  namespaces: Array<'pid' | 'mnt' | 'net' | 'ipc' | 'uts' | 'cgroup' | 'user'>;
  /** Capability names (lower-case, without `cap_`, e.g. `'chown'`, `'sys_admin'`) in the bounding set; all others absent. Effective/permitted of init equal this set too; ambient and inheritable empty. */
  capabilities: string[];
  /** `NoNewPrivs: 1` expected in `/proc/self/status` of a process attached with the policy. */
  noNewPrivs: boolean;
  /** `Seccomp: 2` (filter mode) expected. */
  seccomp: boolean;
  /** Syscalls the probe calls and the result each must give: an errno name (`'EPERM'`) or `'kill'`. */
  deniedSyscalls: Array<{ syscall: string; result: string }>;
  /** Paths that must read empty (or be absent) and refuse writes. */
  maskedPaths: string[];
  /** Paths that must refuse writes (`EROFS`/`EACCES`/`EPERM`). */
  readOnlyPaths: string[];
  /** debugfs must not be mounted or mountable. */
  noDebugfs: boolean;
  /** `mknod` of a character device must be refused. */
  mknodDenied: boolean;
  /** Device nodes that may exist under `/dev` (character/block devices); any other is a failure. */
  allowedDevices: string[];
  /** Network interface names that may exist (e.g. `['lo']` for `none`, `['lo','eth0']` for `nat`). */
  networkInterfaces: string[];
  /** Host loopback (127.0.0.1 on a port the verifier listens on) must be unreachable. */
  hostLoopbackUnreachable: boolean;
  /** A host abstract Unix socket the verifier listens on must be unreachable. */
  hostAbstractSocketUnreachable: boolean;
  /** A SysV IPC object the verifier creates on the host must be invisible. */
  hostIpcInvisible: boolean;
  /** Memory limit in bytes (`memory.limit_in_bytes` / `memory.max`), or null for none. */
  memoryLimitBytes: number | null;
  /** pids limit, or null for none. */
  pidsLimit: number | null;
  /**
   * "No debugging of other processes": /proc/PID/mem, process_vm_readv/writev, pidfd_getfd and
   * kcmp against the guest's init must be refused (EPERM/EACCES), not only ptrace(2).
   */
  noDebugging: boolean;
  /**
   * The host ids the guest's ids must map to (`[hostBase, hostBase+count)`, uid and gid alike),
   * or null for a container without a user namespace: its report is labelled host-equivalent
   * and its host-side rows fail.
   */
  userNamespace: { hostBase: number; count: number } | null;
  /**
   * Size limits of what the guest can write that the host stores: the file system of each
   * writable host-backed mount at `path` (a guest path) holds at most `maxBytes`; a writable
   * host-backed mount not listed is held to `defaultMaxBytes`. Null when the policy sets none
   * (the storage row then fails: the host's disk is the limit).
   */
  storage: { defaultMaxBytes: number; paths: Array<{ path: string; maxBytes: number }> } | null;
  /**
   * The cap of the guest console's log on the host (init's output, rotated files included), or
   * null when the runtime keeps no console log at all.
   */
  consoleMaxBytes: number | null;
  /**
   * Optional: what the open fds of the container's init may point to, as `readlink` of
   * `/proc/1/fd/N` shows them; `*` matches any run of characters except `/` (`'pipe:*'`,
   * `'/dev/pts/*'`). When absent, the verifier allows the standard streams' usual targets:
   * `/dev/null`, `/dev/console`, `/dev/pts/*`, `/dev/tty*`, pipes, sockets and anonymous inodes.
   */
  initFdTargets?: string[];
}
