/**
 * The container seen from OUTSIDE: what the host's kernel says about the running guest's init,
 * for the `host.*` rows of `policy verify`. The in-guest probe can only report what a guest
 * process sees (and a guest controls its own environment); these facts come from the host's
 * `/proc/<init pid>` and the host's own files:
 * - init's `uid_map`/`gid_map` (which host ids guest ids are),
 * - every mount of the container in the host's `/proc/<pid>/mountinfo` (flags, file system),
 * - the size of each writable host-backed file system (`statfs`),
 * - owner and mode of the cgroup limit files of init's cgroups,
 * - where each writable host-backed mount lives on the host and whether another host user could
 *   reach (and run) a setuid file planted in it,
 * - init's namespaces, open fds and working directory (when init is not dumpable the probe
 *   cannot read them from inside; the host can).
 *
 * mountinfo lines carry mount point paths the guest chose: they are parsed with caps like any
 * other hostile text. Linux only; run by the verifier (root, or the privileged helper).
 */
import { readdir, readFile, readlink, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { PROBE_NAMESPACES } from './probe-output-schema.js';
import type { ProbeNamespace } from './probe-output.js';

/** One line of a uid_map/gid_map: guest ids `[inside, inside+count)` are host `[outside, …)`. */
export interface IdMapLine {
  inside: number;
  outside: number;
  count: number;
}

/** One line of a mountinfo file (proc(5)), unescaped. */
export interface MountInfoEntry {
  id: number;
  parent: number;
  /** `major:minor` of the file system. */
  dev: string;
  /** Path inside the file system that is mounted. */
  root: string;
  /** Mount point, relative to the reading process's root (the container's, for its init). */
  mountPoint: string;
  /** Per-mount options (`rw`, `nosuid`, …). */
  mountOptions: string[];
  fstype: string;
  source: string;
  /** Per-superblock options. */
  superOptions: string[];
}

/** Error with code `'HOST_VIEW_BAD_INPUT'`: a /proc file did not have the kernel's format. */
export class HostViewError extends Error {
  readonly code = 'HOST_VIEW_BAD_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'HostViewError';
  }
}

/** Most lines accepted from one mountinfo file (LXC containers have tens). */
export const MAX_MOUNTINFO_LINES = 4096;
/** Longest mountinfo line accepted (two paths of at most PATH_MAX, escaped, plus fields). */
export const MAX_MOUNTINFO_LINE = 4 * 4096 + 1024;
const MAX_IDMAP_LINES = 340; // the kernel's own limit on extents

const ID = /^[0-9]{1,10}$/;

function parseId(text: string, what: string): number {
  if (!ID.test(text))
    throw new HostViewError(`${what}: not a number: ${JSON.stringify(text.slice(0, 20))}`);
  const v = Number(text);
  if (v > 4_294_967_295) throw new HostViewError(`${what}: out of range: ${v}`);
  return v;
}

/** Parses a `/proc/<pid>/uid_map` or `gid_map`. Throws `HostViewError` for anything else. */
export function parseIdMap(text: string): IdMapLine[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > MAX_IDMAP_LINES) throw new HostViewError(`id map has ${lines.length} lines`);
  return lines.map((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) throw new HostViewError(`id map line ${i + 1}: expected 3 fields`);
    return {
      inside: parseId(f[0]!, 'id map inside'),
      outside: parseId(f[1]!, 'id map outside'),
      count: parseId(f[2]!, 'id map count'),
    };
  });
}

/** Undoes mountinfo's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash). */
function unescapeField(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Parses a mountinfo file (proc(5): `id parent major:minor root mountpoint options [optional…]
 * - fstype source superoptions`). Throws `HostViewError` for a line that does not have that
 * shape, too many lines or an overlong line.
 */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines.length > MAX_MOUNTINFO_LINES)
    throw new HostViewError(`mountinfo has more than ${MAX_MOUNTINFO_LINES} lines`);
  return lines.map((line, i) => {
    const where = `mountinfo line ${i + 1}`;
    if (line.length > MAX_MOUNTINFO_LINE) throw new HostViewError(`${where} is too long`);
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0 || f.length !== dash + 4)
      throw new HostViewError(`${where}: not a mountinfo line`);
    if (!/^[0-9]{1,10}:[0-9]{1,10}$/.test(f[2]!)) throw new HostViewError(`${where}: bad device`);
    const root = unescapeField(f[3]!);
    const mountPoint = unescapeField(f[4]!);
    if (!root.startsWith('/') || !mountPoint.startsWith('/'))
      throw new HostViewError(`${where}: paths must be absolute`);
    return {
      id: parseId(f[0]!, `${where} id`),
      parent: parseId(f[1]!, `${where} parent`),
      dev: f[2]!,
      root,
      mountPoint,
      mountOptions: f[5]!.split(','),
      fstype: f[dash + 1]!,
      source: unescapeField(f[dash + 2]!),
      superOptions: f[dash + 3]!.split(','),
    };
  });
}

/**
 * Kernel file systems whose contents are not host storage: the kernel makes them per mount or
 * per namespace (proc, sysfs and cgroup show kernel state, guarded by their own rows).
 */
const KERNEL_FSTYPES = new Set([
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'devpts',
  'mqueue',
  'binfmt_misc',
  'tracefs',
  'debugfs',
  'securityfs',
  'pstore',
  'bpf',
  'fusectl',
  'configfs',
  'hugetlbfs',
  'binder',
  'nsfs',
  'efivarfs',
  'autofs',
]);

/** Whether a mount is writable: neither the mount nor its file system is read-only. */
export function isWritable(m: MountInfoEntry): boolean {
  return !m.mountOptions.includes('ro') && !m.superOptions.includes('ro');
}

/**
 * The container's host-backed mounts: a file system the host itself has mounted somewhere (its
 * device appears in the host's mountinfo), other than the kernel's own file systems. A tmpfs the
 * container made for itself has a device number of its own and is not one.
 */
export function hostBackedMounts(
  container: MountInfoEntry[],
  host: MountInfoEntry[],
): MountInfoEntry[] {
  const hostDevs = new Set(host.map((m) => m.dev));
  return container.filter((m) => !KERNEL_FSTYPES.has(m.fstype) && hostDevs.has(m.dev));
}

/**
 * Where a container mount's files live on the host: the host mount of the same device whose root
 * is the longest prefix of the container mount's root, and the host path it gives. Null when the
 * host has no such mount (the files are not reachable through the host's tree).
 */
export function hostLocation(
  m: MountInfoEntry,
  host: MountInfoEntry[],
): { mount: MountInfoEntry; path: string } | null {
  let best: MountInfoEntry | null = null;
  for (const h of host) {
    if (h.dev !== m.dev) continue;
    const prefix = h.root === '/' ? '/' : `${h.root}/`;
    if (m.root !== h.root && !m.root.startsWith(prefix)) continue;
    if (best === null || h.root.length > best.root.length) best = h;
  }
  if (best === null) return null;
  const rest = best.root === '/' ? m.root : m.root.slice(best.root.length);
  return { mount: best, path: path.posix.join(best.mountPoint, rest) };
}

/** Owner and mode of a host file or folder. */
export interface HostFileMode {
  path: string;
  uid: number;
  gid: number;
  mode: number;
}

/** A writable host-backed mount of the container, as the host sees it. */
export interface HostBackedMount {
  /** Mount point in the guest. */
  guestPath: string;
  fstype: string;
  mountOptions: string[];
  /** Bytes the file system holds (`f_blocks × f_bsize`), or null when statfs failed. */
  sizeBytes: number | null;
  /** Where the files are on the host, or null when the host's tree does not reach them. */
  hostPath: string | null;
  /** Options of the host's own mount of them. */
  hostMountOptions: string[] | null;
  /** The host path and each folder above it, nearest first (for the reachability row). */
  hostParents: HostFileMode[];
}

/** A cgroup limit file of init's cgroup, as the host sees it. */
export interface CgroupLimitFile extends HostFileMode {
  controller: string;
}

/** What `collectHostView` saw; a value it could not read is null and `errors` says why. */
export interface HostView {
  initPid: number;
  uidMap: IdMapLine[] | null;
  gidMap: IdMapLine[] | null;
  /** Every mount of the container (host's view of init's mountinfo). */
  mounts: MountInfoEntry[] | null;
  /** The writable host-backed ones, with their size and host location. */
  writableHostMounts: HostBackedMount[] | null;
  cgroupFiles: CgroupLimitFile[] | null;
  initNamespaces: Partial<Record<ProbeNamespace, number>>;
  initFds: Array<{ fd: number; target: string | null }> | null;
  /** init's working directory and whether it lies under init's root (same inode through root). */
  initCwd: { path: string; withinRoot: boolean } | null;
  /** Bytes the console log files (the log and its rotated predecessors) hold, when asked. */
  consoleBytes: number | null;
  errors: string[];
}

/** Options of `collectHostView`. */
export interface HostViewOptions {
  /** The session's console log; its rotated predecessors (`.1`, `.2` …) are counted with it. */
  consoleLog?: string;
}

/** The limit files each cgroup controller holds (v1 names, then the v2 ones). */
const CGROUP_LIMIT_FILES: Record<string, string[]> = {
  memory: ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'],
  pids: ['pids.max'],
  devices: ['devices.allow', 'devices.deny'],
  '': ['memory.max', 'memory.swap.max', 'pids.max'],
};

const MAX_FDS = 1024;
const MAX_PARENTS = 64;

function errText(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);
}

async function fileMode(p: string): Promise<HostFileMode> {
  const st = await stat(p);
  return { path: p, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
}

async function parentsOf(p: string): Promise<HostFileMode[]> {
  const out: HostFileMode[] = [];
  let dir = p;
  for (let i = 0; i < MAX_PARENTS; i++) {
    try {
      out.push(await fileMode(dir));
    } catch {
      // A folder that vanished or cannot be looked at: the row judges what is known.
    }
    const up = path.posix.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

/** Controller → mount point of the host's cgroup hierarchies ('' = the v2 hierarchy). */
function cgroupMountPoints(host: MountInfoEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of host) {
    if (m.fstype === 'cgroup2' && !out.has('')) out.set('', m.mountPoint);
    if (m.fstype !== 'cgroup' || m.root !== '/') continue;
    for (const c of ['memory', 'pids', 'devices']) {
      if (m.superOptions.includes(c) && !out.has(c)) out.set(c, m.mountPoint);
    }
  }
  return out;
}

/** init's cgroup path per controller from the host's `/proc/<pid>/cgroup` ('' = v2). */
function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(0, 64)) {
    const m = /^[0-9]+:([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[1]!.split(',')) out.set(c, m[2]!);
  }
  return out;
}

function safeJoin(base: string, rel: string): string | null {
  const joined = path.posix.join(base, rel);
  return joined === base || joined.startsWith(`${base}/`) ? joined : null;
}

/**
 * Reads the host's view of the container whose init is `initPid`. Never rejects: what it cannot
 * read is null with the reason in `errors` (the rows then fail as "not measured").
 */
export async function collectHostView(
  initPid: number,
  options: HostViewOptions = {},
): Promise<HostView> {
  if (!Number.isSafeInteger(initPid) || initPid < 2)
    throw new HostViewError(`not a container init pid: ${initPid}`);
  const proc = `/proc/${initPid}`;
  const errors: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (e) {
      errors.push(`${what}: ${errText(e)}`);
      return null;
    }
  };
  const uidMap = await attempt('uid_map', async () =>
    parseIdMap(await readFile(`${proc}/uid_map`, 'utf8')),
  );
  const gidMap = await attempt('gid_map', async () =>
    parseIdMap(await readFile(`${proc}/gid_map`, 'utf8')),
  );
  const mounts = await attempt('mountinfo', async () =>
    parseMountInfo(await readFile(`${proc}/mountinfo`, 'utf8')),
  );
  const hostMounts = await attempt('host mountinfo', async () =>
    parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')),
  );

  let writableHostMounts: HostBackedMount[] | null = null;
  if (mounts !== null && hostMounts !== null) {
    writableHostMounts = [];
    for (const m of hostBackedMounts(mounts, hostMounts).filter(isWritable)) {
      const inGuest = safeJoin(`${proc}/root`, m.mountPoint);
      // A bind of a single file (a device node) cannot receive new files; only folders can.
      const st = inGuest === null ? null : await stat(inGuest).catch(() => null);
      if (st !== null && !st.isDirectory()) continue;
      let sizeBytes: number | null = null;
      if (inGuest !== null) {
        const fsStat = await attempt(`statfs ${m.mountPoint}`, () => statfs(inGuest));
        if (fsStat !== null) sizeBytes = fsStat.blocks * fsStat.bsize;
      }
      const at = hostLocation(m, hostMounts);
      writableHostMounts.push({
        guestPath: m.mountPoint,
        fstype: m.fstype,
        mountOptions: m.mountOptions,
        sizeBytes,
        hostPath: at?.path ?? null,
        hostMountOptions: at?.mount.mountOptions ?? null,
        hostParents: at === null ? [] : await parentsOf(at.path),
      });
    }
  }

  let cgroupFiles: CgroupLimitFile[] | null = null;
  const procCgroup = await attempt('cgroup', () => readFile(`${proc}/cgroup`, 'utf8'));
  if (procCgroup !== null && hostMounts !== null) {
    cgroupFiles = [];
    const points = cgroupMountPoints(hostMounts);
    for (const [controller, rel] of parseProcCgroup(procCgroup)) {
      const files = CGROUP_LIMIT_FILES[controller];
      const base = points.get(controller);
      if (files === undefined || base === undefined) continue;
      const dir = safeJoin(base, rel);
      if (dir === null) continue;
      for (const f of files) {
        try {
          cgroupFiles.push({
            controller: controller || 'unified',
            ...(await fileMode(`${dir}/${f}`)),
          });
        } catch {
          // This hierarchy has no such file (memsw without swap accounting, v2 without pids).
        }
      }
    }
  }

  const initNamespaces: Partial<Record<ProbeNamespace, number>> = {};
  for (const name of PROBE_NAMESPACES) {
    try {
      initNamespaces[name] = (await stat(`${proc}/ns/${name}`)).ino;
    } catch {
      // A kernel without this namespace type.
    }
  }

  const initFds = await attempt('init fds', async () => {
    const names = (await readdir(`${proc}/fd`)).filter((n) => /^[0-9]{1,7}$/.test(n));
    if (names.length > MAX_FDS) throw new Error(`more than ${MAX_FDS} fds`);
    return Promise.all(
      names.map(async (n) => ({
        fd: Number(n),
        target: await readlink(`${proc}/fd/${n}`).catch(() => null),
      })),
    );
  });

  const initCwd = await attempt('init cwd', async () => {
    const cwd = await readlink(`${proc}/cwd`);
    const viaRoot = safeJoin(`${proc}/root`, cwd);
    const [real, throughRoot] = await Promise.all([
      stat(`${proc}/cwd`),
      viaRoot === null ? null : stat(viaRoot).catch(() => null),
    ]);
    return {
      path: cwd,
      withinRoot:
        throughRoot !== null && throughRoot.dev === real.dev && throughRoot.ino === real.ino,
    };
  });

  let consoleBytes: number | null = null;
  const consoleLog = options.consoleLog;
  if (consoleLog !== undefined) {
    consoleBytes = await attempt('console log', async () => {
      const dir = path.dirname(consoleLog);
      const base = path.basename(consoleLog);
      let total = 0;
      for (const name of await readdir(dir)) {
        if (name !== base && !/^\.[0-9]{1,3}$/.test(name.slice(base.length))) continue;
        if (!name.startsWith(base)) continue;
        total += (await stat(path.join(dir, name))).size;
      }
      return total;
    });
  }

  return {
    initPid,
    uidMap,
    gidMap,
    mounts,
    writableHostMounts,
    cgroupFiles,
    initNamespaces,
    initFds: initFds === null ? null : initFds.sort((a, b) => a.fd - b.fd),
    initCwd,
    consoleBytes,
    errors,
  };
}
