/**
 * The record a session host leaves in the instance's runtime folder: its pid and the kernel's
 * start time of that pid, so a later start can tell a live host from a crashed one even when
 * the pid was reused by an unrelated process.
 */
import fs from 'node:fs/promises';
import { isErrno } from './runtime-errors.js';

/** What `host.json` holds. */
export interface HostRecord {
  pid: number;
  /** Field 22 of `/proc/PID/stat` (clock ticks since boot). */
  startTime: string;
  instance: string;
  /** ISO time the host started. */
  startedAt: string;
}

/** Start time of `pid` from `/proc/PID/stat`, or null when no such process exists. */
export async function processStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** A record for the calling process. */
export async function currentHostRecord(instance: string): Promise<HostRecord> {
  const startTime = await processStartTime(process.pid);
  if (startTime === null) throw new Error('cannot read /proc/self/stat');
  return { pid: process.pid, startTime, instance, startedAt: new Date().toISOString() };
}

/** Writes `record` to `file` atomically, owner-only. */
export async function writeHostRecord(file: string, record: HostRecord): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(record) + '\n', { mode: 0o600 });
  await fs.rename(tmp, file);
}

/**
 * Reads the record at `file`; null when there is none. A record that does not parse counts as
 * `'corrupt'`: the host that wrote it cannot be identified, so it is treated as dead.
 */
export async function readHostRecord(file: string): Promise<HostRecord | 'corrupt' | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
  try {
    const v = JSON.parse(text) as Partial<HostRecord>;
    if (
      Number.isSafeInteger(v.pid) &&
      (v.pid as number) > 0 &&
      typeof v.startTime === 'string' &&
      typeof v.instance === 'string' &&
      typeof v.startedAt === 'string'
    ) {
      return v as HostRecord;
    }
  } catch {
    // Falls through to 'corrupt'.
  }
  return 'corrupt';
}

/** Whether the process the record names still runs (same pid and same start time). */
export async function isHostAlive(record: HostRecord): Promise<boolean> {
  return (await processStartTime(record.pid)) === record.startTime;
}
