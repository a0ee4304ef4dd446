/**
 * Subordinate id ranges: every instance's container runs in a user namespace whose guest ids
 * `0 … ID_RANGE_SIZE-1` map to a host range of its own, inside one block reserved for Droidway
 * and registered for root in `/etc/subuid` and `/etc/subgid` (LXC writes the maps through
 * `newuidmap`, which checks those files even for root).
 *
 * Size of a range: Android's ids for its first user reach 99999 (apps 10000–19999, SDK sandboxes
 * 20000–29999, shared and cache gids up to 59999, `nobody` 65534, isolated processes
 * 90000–99999), so the usual 65536 would leave isolated services without an id. 131072 (2^17)
 * covers all of user 0 with room to spare; secondary Android users (ids from 1000000 up) are not
 * mapped. The block holds `ID_RANGE_SLOTS` ranges starting at `DROIDWAY_ID_BASE`
 * (0x70000000), far above the ranges `useradd` hands out from 100000.
 *
 * The registry is a root-only folder (`/var/lib/droidway/idmap`, 0700) with one file per claimed
 * slot naming the instance's data folder. Every change happens under the registry's lock file
 * (`O_EXCL`, holder pid and start time; a dead holder's lock is taken over), so two starts never
 * get the same range. An instance keeps its range for as long as its data folder exists (its
 * persistent guest data is owned by the range); a slot whose data folder is gone is free again.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { currentHostRecord, isHostAlive, readHostRecord } from './host-record.js';
import { RuntimeError, isErrno } from './runtime-errors.js';

/** First host id of Droidway's block (0x70000000). */
export const DROIDWAY_ID_BASE = 0x7000_0000;
/** Ids per instance (guest ids 0 … 131071). */
export const ID_RANGE_SIZE = 131_072;
/** Ranges in the block. */
export const ID_RANGE_SLOTS = 1024;
/** Ids in the whole block, as registered in `/etc/subuid` and `/etc/subgid`. */
export const DROIDWAY_ID_BLOCK = ID_RANGE_SIZE * ID_RANGE_SLOTS;
/** The registry folder as root. */
export const DEFAULT_ID_REGISTRY = '/var/lib/droidway/idmap';
/** The files `newuidmap`/`newgidmap` check. */
export const SUBID_FILES = ['/etc/subuid', '/etc/subgid'] as const;

const LOCK_FILE = 'registry.lock';
const LOCK_WAIT_MS = 10_000;

/** The host ids one instance's guest ids map to. */
export interface IdRange {
  /** Slot in Droidway's block. */
  slot: number;
  /** Host id of guest id 0 (uid and gid alike). */
  hostBase: number;
  /** Ids in the range. */
  count: number;
}

/** The range of slot `slot`. */
export function idRangeOfSlot(slot: number): IdRange {
  if (!Number.isInteger(slot) || slot < 0 || slot >= ID_RANGE_SLOTS)
    throw new RangeError(`id range slot ${slot} is outside 0..${ID_RANGE_SLOTS - 1}`);
  return { slot, hostBase: DROIDWAY_ID_BASE + slot * ID_RANGE_SIZE, count: ID_RANGE_SIZE };
}

/** Host id that guest id `guestId` maps to in `range`. */
export function hostIdOf(range: IdRange, guestId: number): number {
  if (!Number.isInteger(guestId) || guestId < 0 || guestId >= range.count)
    throw new RangeError(`guest id ${guestId} is outside the instance's range`);
  return range.hostBase + guestId;
}

/** Options of the registry functions. */
export interface IdRegistryOptions {
  /** Registry folder; default `DEFAULT_ID_REGISTRY`. */
  dir?: string;
  /** Files to register the block in; default `SUBID_FILES`. */
  subidFiles?: readonly string[];
}

interface SlotRecord {
  version: 1;
  dataDir: string;
  allocatedAt: string;
}

function slotFile(dir: string, slot: number): string {
  return path.join(dir, `slot-${String(slot).padStart(4, '0')}.json`);
}

/**
 * Parses a slot file. Returns null for anything but `{version: 1, dataDir: "/abs", allocatedAt}`;
 * a slot with an unreadable record counts as taken (see `allocateIdRange`), never as free.
 */
export function parseSlotRecord(text: string): SlotRecord | null {
  if (text.length > 8192) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const r = parsed as Record<string, unknown>;
  if (r.version !== 1 || typeof r.dataDir !== 'string' || typeof r.allocatedAt !== 'string')
    return null;
  if (!path.isAbsolute(r.dataDir) || r.dataDir.includes('\0')) return null;
  return { version: 1, dataDir: r.dataDir, allocatedAt: r.allocatedAt };
}

async function withRegistryLock<T>(dir: string, body: () => Promise<T>): Promise<T> {
  // Parents are shared with other Droidway folders (the demo guest the container reads).
  await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  const file = path.join(dir, LOCK_FILE);
  const mine = await currentHostRecord('idmap');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await fs.open(file, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(mine) + '\n');
      } finally {
        await handle.close();
      }
      break;
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
    const holder = await readHostRecord(file);
    if (holder !== null && holder !== 'corrupt' && !(await isHostAlive(holder))) {
      // A dead holder's lock: remove it unless another process took it over meanwhile.
      const now = await readHostRecord(file);
      if (now !== null && now !== 'corrupt' && now.pid === holder.pid)
        await fs.rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new RuntimeError(
        'ID_RANGE_UNAVAILABLE',
        `the id range registry ${dir} stays locked by another process`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    return await body();
  } finally {
    await fs.rm(file, { force: true });
  }
}

// Synchronous: a registry holds a small file for every instance ever made on the machine
// (hundreds on a test machine), and a start reads them all; each asynchronous read is four trips
// through libuv's thread pool (open, stat, read, close), which cost a session start ~150 ms for
// 650 slots where reading them in place takes a few.
function readSlot(dir: string, slot: number): SlotRecord | 'unreadable' | null {
  try {
    return parseSlotRecord(readFileSync(slotFile(dir, slot), 'utf8')) ?? 'unreadable';
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    return 'unreadable';
  }
}

async function writeSlot(dir: string, slot: number, record: SlotRecord): Promise<void> {
  const tmp = path.join(dir, `.slot-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.writeFile(tmp, JSON.stringify(record) + '\n', { mode: 0o600, flag: 'wx' });
  await fs.rename(tmp, slotFile(dir, slot));
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * The id range of the instance whose data folder is `dataDir` (absolute): the one it holds, or
 * a free one claimed for it now. Needs root (the registry is root-only). Throws `RuntimeError`
 * `ID_RANGE_UNAVAILABLE` when every slot is held by an existing instance or the registry stays
 * locked.
 */
export async function allocateIdRange(
  dataDir: string,
  options: IdRegistryOptions = {},
): Promise<IdRange> {
  if (!path.isAbsolute(dataDir))
    throw new RuntimeError('ID_RANGE_UNAVAILABLE', `${dataDir} is not an absolute path`);
  const dir = options.dir ?? DEFAULT_ID_REGISTRY;
  const key = path.resolve(dataDir);
  return withRegistryLock(dir, async () => {
    const records = new Map<number, SlotRecord | 'unreadable'>();
    for (const name of await fs.readdir(dir)) {
      const m = /^slot-([0-9]{4})\.json$/.exec(name);
      if (!m) continue;
      const slot = Number(m[1]);
      if (slot >= ID_RANGE_SLOTS) continue;
      const r = readSlot(dir, slot);
      if (r !== null) records.set(slot, r);
    }
    for (const [slot, r] of records) {
      if (r !== 'unreadable' && r.dataDir === key) return idRangeOfSlot(slot);
    }
    const record: SlotRecord = { version: 1, dataDir: key, allocatedAt: new Date().toISOString() };
    for (let slot = 0; slot < ID_RANGE_SLOTS; slot++) {
      if (!records.has(slot)) {
        await writeSlot(dir, slot, record);
        return idRangeOfSlot(slot);
      }
    }
    // Every slot was claimed once: take the first whose instance is gone.
    for (const [slot, r] of records) {
      if (r !== 'unreadable' && !(await exists(r.dataDir))) {
        await writeSlot(dir, slot, record);
        return idRangeOfSlot(slot);
      }
    }
    throw new RuntimeError(
      'ID_RANGE_UNAVAILABLE',
      `all ${ID_RANGE_SLOTS} id ranges are held by existing instances; remove an instance's data folder to free one`,
    );
  });
}

/**
 * Frees the range of the instance whose data folder is `dataDir`, if it holds one (call it when
 * the instance is deleted). Never touches another instance's slot.
 */
export async function releaseIdRange(
  dataDir: string,
  options: IdRegistryOptions = {},
): Promise<void> {
  const dir = options.dir ?? DEFAULT_ID_REGISTRY;
  const key = path.resolve(dataDir);
  if (!(await exists(dir))) return;
  await withRegistryLock(dir, async () => {
    for (let slot = 0; slot < ID_RANGE_SLOTS; slot++) {
      const r = readSlot(dir, slot);
      if (r !== null && r !== 'unreadable' && r.dataDir === key)
        await fs.rm(slotFile(dir, slot), { force: true });
    }
  });
}

/**
 * Whether a `/etc/subuid`-style text gives `user` every id of `[base, base+count)`. Lines that
 * are not `name:start:count` with decimal numbers are ignored (as shadow's own parser does).
 */
export function subidCovers(text: string, user: string, base: number, count: number): boolean {
  const ranges: Array<[number, number]> = [];
  for (const raw of text.split('\n')) {
    const m = /^([^:\s]+):([0-9]{1,10}):([0-9]{1,10})$/.exec(raw.trim());
    if (!m || m[1] !== user) continue;
    ranges.push([Number(m[2]), Number(m[2]) + Number(m[3])]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let next = base;
  for (const [start, end] of ranges) {
    if (start > next) break;
    if (end > next) next = end;
    if (next >= base + count) return true;
  }
  return next >= base + count;
}

/**
 * Registers Droidway's whole block for root in `/etc/subuid` and `/etc/subgid` (or
 * `options.subidFiles`), once: a file that already covers it is left as it is; otherwise one
 * line `root:BASE:COUNT` is appended, under the registry lock. Returns the files changed.
 */
export async function ensureSubordinateIds(options: IdRegistryOptions = {}): Promise<string[]> {
  const files = options.subidFiles ?? SUBID_FILES;
  const covered = async (file: string): Promise<boolean> => {
    const text = await fs.readFile(file, 'utf8').catch((e: unknown) => {
      if (isErrno(e, 'ENOENT')) return '';
      throw e;
    });
    return subidCovers(text, 'root', DROIDWAY_ID_BASE, DROIDWAY_ID_BLOCK);
  };
  const missing: string[] = [];
  for (const f of files) if (!(await covered(f))) missing.push(f);
  if (missing.length === 0) return [];
  return withRegistryLock(options.dir ?? DEFAULT_ID_REGISTRY, async () => {
    const changed: string[] = [];
    for (const f of missing) {
      if (await covered(f)) continue;
      const text = await fs.readFile(f, 'utf8').catch(() => '');
      const line = `root:${DROIDWAY_ID_BASE}:${DROIDWAY_ID_BLOCK}\n`;
      await fs.appendFile(f, text === '' || text.endsWith('\n') ? line : `\n${line}`, {
        mode: 0o644,
      });
      changed.push(f);
    }
    return changed;
  });
}
