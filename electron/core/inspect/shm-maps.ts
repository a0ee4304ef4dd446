/**
 * The shared-memory inspector: which ashmem, memfd and dmabuf regions the processes of a running
 * container have mapped, read from `/proc/<pid>/maps`.
 *
 * The container's processes come from its cgroups (`lxc.payload.NAME` in every hierarchy, and the
 * cgroups below it, where Android puts its apps), or, when none is found, from the processes that
 * share its init's pid namespace. Everything under `/proc` of a container process is written by
 * or about a process the guest controls, so it is read as untrusted: each file is read up to a
 * byte cap, lines and regions are counted against caps, malformed lines are counted and skipped,
 * names are cut and cleaned of control characters, and a process that exits mid-read is counted,
 * never an error.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type {
  ShmKind,
  ShmProcess,
  ShmReadProblems,
  ShmRegion,
  ShmTotals,
} from '../../shared/shm.js';
import { DEFAULT_CGROUP_ROOT, findContainerCgroups } from './container-cgroups.js';

export type { ShmKind, ShmProcess, ShmReadProblems, ShmRegion, ShmTotals };

/** The inspector's answer for one container. */
export interface ShmInspection {
  processes: ShmProcess[];
  totals: ShmTotals;
  problems: ShmReadProblems;
  /** Where the process list came from. */
  source: 'cgroup' | 'pid-namespace' | 'none';
}

/** Caps on what one inspection reads. */
export interface ShmLimits {
  /** Processes listed at most. */
  maxProcesses: number;
  /** Bytes read from one `maps` file at most. */
  maxMapsBytes: number;
  /** Lines of one `maps` file examined at most. */
  maxMapsLines: number;
  /** Regions kept per process at most. */
  maxRegionsPerProcess: number;
  /** Characters of a region name kept at most. */
  maxNameLength: number;
}

/** Defaults: generous for an Android guest (hundreds of processes), bounded for a hostile one. */
export const DEFAULT_SHM_LIMITS: Readonly<ShmLimits> = Object.freeze({
  maxProcesses: 1024,
  maxMapsBytes: 8 * 1024 * 1024,
  maxMapsLines: 100_000,
  maxRegionsPerProcess: 4096,
  maxNameLength: 256,
});

/** Largest pid Linux hands out (`PID_MAX_LIMIT` on 64-bit). */
const PID_MAX = 4_194_304;
const COMM_MAX_BYTES = 64;
const CGROUP_PROCS_MAX_BYTES = 1024 * 1024;
const CGROUP_DEPTH_MAX = 16;
const CGROUP_DIRS_MAX = 4096;

// start-end perms offset dev inode [path]; the path may hold spaces and is the rest of the line.
const MAPS_LINE =
  /^([0-9a-f]{1,16})-([0-9a-f]{1,16}) ([r-][w-][x-][ps]) ([0-9a-f]{1,16}) ([0-9a-f]{1,8}:[0-9a-f]{1,8}) ([0-9]{1,20})(?: +(.*))?$/s;
const DELETED_SUFFIX = ' (deleted)';

/** One parsed `maps` line that names a shared-memory region, plus the device for deduplication. */
export interface ParsedShmLine extends ShmRegion {
  dev: string;
}

/** The outcome of parsing one `maps` text. */
export interface ParsedMaps {
  regions: ParsedShmLine[];
  malformedLines: number;
  truncated: boolean;
}

/** Removes control characters (a name is shown in the UI and logs) and cuts it to `max`. */
function cleanName(raw: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = raw.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

/** Kind and name of a mapping path, or null when it is not shared memory. */
export function classifyMapping(
  mappingPath: string,
  maxNameLength = DEFAULT_SHM_LIMITS.maxNameLength,
): { kind: ShmKind; name: string } | null {
  let p = mappingPath;
  if (p.endsWith(DELETED_SUFFIX)) p = p.slice(0, -DELETED_SUFFIX.length);
  if (p.startsWith('/memfd:')) return { kind: 'memfd', name: cleanName(p.slice(7), maxNameLength) };
  if (p === '/dev/ashmem') return { kind: 'ashmem', name: '' };
  if (p.startsWith('/dev/ashmem/'))
    return { kind: 'ashmem', name: cleanName(p.slice(12), maxNameLength) };
  if (p === 'anon_inode:dmabuf') return { kind: 'dmabuf', name: '' };
  if (p.startsWith('/dmabuf:'))
    return { kind: 'dmabuf', name: cleanName(p.slice(8), maxNameLength) };
  return null;
}

/**
 * Parses the text of a `/proc/<pid>/maps` file into its shared-memory mappings. Lines that do
 * not have the kernel's shape (or whose end is below their start, or whose size is not a safe
 * integer) are counted as malformed; parsing stops after `maxMapsLines` lines or
 * `maxRegionsPerProcess` regions, with `truncated` set. Never throws.
 */
export function parseShmMaps(text: string, limits: Partial<ShmLimits> = {}): ParsedMaps {
  const lim = { ...DEFAULT_SHM_LIMITS, ...limits };
  const regions: ParsedShmLine[] = [];
  let malformedLines = 0;
  let truncated = false;
  let lineCount = 0;
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to === -1) to = text.length;
    const line = text.slice(from, to);
    from = to + 1;
    if (line.length === 0) continue;
    if (++lineCount > lim.maxMapsLines) {
      truncated = true;
      break;
    }
    // Real lines are short; a huge one is either garbage or a name meant to cost us memory.
    const match = line.length > 8192 ? null : MAPS_LINE.exec(line);
    if (match === null) {
      malformedLines++;
      continue;
    }
    const [, startHex, endHex, perms, , dev, inodeText, rest] = match;
    const start = BigInt(`0x${startHex}`);
    const end = BigInt(`0x${endHex}`);
    const size = end - start;
    if (size <= 0n || size > BigInt(Number.MAX_SAFE_INTEGER)) {
      malformedLines++;
      continue;
    }
    const inode = Number(inodeText);
    if (!Number.isSafeInteger(inode)) {
      malformedLines++;
      continue;
    }
    const kind = classifyMapping((rest ?? '').trimStart(), lim.maxNameLength);
    if (kind === null) continue;
    if (regions.length >= lim.maxRegionsPerProcess) {
      truncated = true;
      break;
    }
    regions.push({
      name: kind.name,
      kind: kind.kind,
      size: Number(size),
      perms: perms as string,
      inode,
      dev: dev as string,
    });
  }
  return { regions, malformedLines, truncated };
}

/** Reads at most `maxBytes` of a file; `truncated` when there was more. */
async function readCapped(
  file: string,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  const handle = await fs.open(file, 'r');
  try {
    // /proc files report size 0: read in chunks until EOF or the cap.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(65536, maxBytes + 1 - total);
      if (want <= 0) break;
      const buffer = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buffer, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
    const all = Buffer.concat(chunks);
    const truncated = all.length > maxBytes;
    return { text: all.subarray(0, maxBytes).toString('utf8'), truncated };
  } finally {
    await handle.close();
  }
}

/** Parses the text of a `cgroup.procs`/`tasks` file: valid pids only, deduplicated. */
export function parsePidList(text: string): number[] {
  const pids = new Set<number>();
  for (const line of text.split('\n')) {
    if (!/^[0-9]{1,7}$/.test(line)) continue;
    const pid = Number(line);
    if (pid > 0 && pid <= PID_MAX) pids.add(pid);
  }
  return [...pids];
}

/** Where to look for a container's processes. */
export interface ContainerRef {
  /** LXC container name (`droidway-NAME`). */
  containerName: string;
  /** Host pid of the container's init, for the pid-namespace fallback. */
  initPid?: number | null;
  /** Where cgroup hierarchies are mounted (tests). */
  cgroupRoot?: string;
  /** Where procfs is mounted (tests). */
  procRoot?: string;
}

/**
 * The host pids of the container's processes, sorted: every `cgroup.procs` in the trees of its
 * `lxc.payload.NAME` cgroups, else every process whose pid namespace is the init's. At most
 * `maxPids` (the rest are counted in `omitted`).
 */
export async function listContainerPids(
  ref: ContainerRef,
  maxPids = DEFAULT_SHM_LIMITS.maxProcesses,
): Promise<{ pids: number[]; omitted: number; source: ShmInspection['source'] }> {
  const procRoot = ref.procRoot ?? '/proc';
  const fromCgroups = await pidsFromCgroups(
    ref.containerName,
    ref.cgroupRoot ?? DEFAULT_CGROUP_ROOT,
  );
  let pids = fromCgroups;
  let source: ShmInspection['source'] = 'cgroup';
  if (pids === null || pids.length === 0) {
    pids =
      ref.initPid !== undefined && ref.initPid !== null
        ? await pidsInNamespaceOf(ref.initPid, procRoot)
        : [];
    source = pids.length > 0 ? 'pid-namespace' : 'none';
  }
  pids.sort((a, b) => a - b);
  const omitted = Math.max(0, pids.length - maxPids);
  return { pids: pids.slice(0, maxPids), omitted, source };
}

async function pidsFromCgroups(
  containerName: string,
  cgroupRoot: string,
): Promise<number[] | null> {
  const roots = (await findContainerCgroups(containerName, cgroupRoot)).filter((d) =>
    path.basename(d).startsWith('lxc.payload.'),
  );
  if (roots.length === 0) return null;
  const pids = new Set<number>();
  let visited = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > CGROUP_DEPTH_MAX || ++visited > CGROUP_DIRS_MAX) return;
    try {
      const { text } = await readCapped(path.join(dir, 'cgroup.procs'), CGROUP_PROCS_MAX_BYTES);
      for (const pid of parsePidList(text)) pids.add(pid);
    } catch {
      // Removed while walking, or not a cgroup folder.
    }
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries)
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), depth + 1);
  };
  for (const root of roots) await walk(root, 0);
  return [...pids];
}

async function pidsInNamespaceOf(initPid: number, procRoot: string): Promise<number[]> {
  let target: string;
  try {
    target = await fs.readlink(path.join(procRoot, String(initPid), 'ns', 'pid'));
  } catch {
    return [];
  }
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = await fs.readdir(procRoot);
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^[0-9]{1,7}$/.test(entry)) continue;
    try {
      if ((await fs.readlink(path.join(procRoot, entry, 'ns', 'pid'))) === target)
        pids.push(Number(entry));
    } catch {
      // Exited meanwhile, or not ours to see.
    }
  }
  return pids;
}

/** Whether an error means the process is gone or its files are not ours to read. */
function isVanished(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM';
}

/**
 * Reads the shared-memory mappings of `pids` from `procRoot` (default `/proc`). A pid whose
 * files vanish is counted in `problems.vanished` and left out. Rejects only for unexpected I/O
 * errors.
 */
export async function inspectPids(
  pids: readonly number[],
  options: { procRoot?: string; limits?: Partial<ShmLimits> } = {},
): Promise<Omit<ShmInspection, 'source'>> {
  const lim = { ...DEFAULT_SHM_LIMITS, ...options.limits };
  const procRoot = options.procRoot ?? '/proc';
  const problems: ShmReadProblems = { vanished: 0, malformedLines: 0, processesOmitted: 0 };
  const processes: ShmProcess[] = [];
  const listed = pids.slice(0, lim.maxProcesses);
  problems.processesOmitted = pids.length - listed.length;
  const distinct = new Map<string, number>();
  for (const pid of listed) {
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid > PID_MAX) continue;
    const dir = path.join(procRoot, String(pid));
    let maps: { text: string; truncated: boolean };
    try {
      maps = await readCapped(path.join(dir, 'maps'), lim.maxMapsBytes);
    } catch (error) {
      if (isVanished(error)) {
        problems.vanished++;
        continue;
      }
      throw error;
    }
    let comm = '';
    try {
      comm = cleanName(
        (await readCapped(path.join(dir, 'comm'), COMM_MAX_BYTES)).text.trimEnd(),
        32,
      );
    } catch (error) {
      if (!isVanished(error)) throw error;
    }
    const parsed = parseShmMaps(maps.text, lim);
    problems.malformedLines += parsed.malformedLines;
    const regions = parsed.regions.map(({ dev, ...region }) => {
      const key = `${dev}:${region.inode}`;
      distinct.set(key, Math.max(distinct.get(key) ?? 0, region.size));
      return region;
    });
    processes.push({ pid, comm, regions, truncated: maps.truncated || parsed.truncated });
  }
  return { processes, totals: totalsOf(processes, distinct), problems };
}

function totalsOf(processes: readonly ShmProcess[], distinct: Map<string, number>): ShmTotals {
  const byKind: Record<ShmKind, number> = { memfd: 0, ashmem: 0, dmabuf: 0 };
  let regions = 0;
  let bytes = 0;
  for (const p of processes) {
    for (const r of p.regions) {
      regions++;
      bytes += r.size;
      byKind[r.kind] += r.size;
    }
  }
  let distinctBytes = 0;
  for (const size of distinct.values()) distinctBytes += size;
  return {
    processes: processes.length,
    regions,
    bytes,
    byKind,
    distinctRegions: distinct.size,
    distinctBytes,
  };
}

/**
 * Lists the container's processes (see `listContainerPids`) and reads their shared-memory
 * mappings. A stopped container yields no processes and `source: 'none'`.
 */
export async function inspectContainerShm(
  ref: ContainerRef,
  limits: Partial<ShmLimits> = {},
): Promise<ShmInspection> {
  const lim = { ...DEFAULT_SHM_LIMITS, ...limits };
  const { pids, omitted, source } = await listContainerPids(ref, lim.maxProcesses);
  const result = await inspectPids(pids, { procRoot: ref.procRoot, limits: lim });
  result.problems.processesOmitted += omitted;
  return { ...result, source };
}
