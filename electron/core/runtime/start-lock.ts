/**
 * The start lock of an instance: `session start` holds it from planning to a running (or failed)
 * session, so two starts of one instance cannot race each other into two hosts. It is a file
 * created with `O_EXCL` in the instance's data folder holding the starter's pid and that pid's
 * start time; a lock whose process is gone (a start that crashed) is taken over.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { currentHostRecord, isHostAlive, readHostRecord } from './host-record.js';
import type { InstancePaths } from './instance-paths.js';
import { RuntimeError, isErrno } from './runtime-errors.js';

/** Name of the lock file in the instance's data folder. */
export const START_LOCK_FILE = 'start.lock';

/** A held start lock. */
export interface StartLock {
  file: string;
  /** Removes the lock (only if it is still this process's). Idempotent. */
  release(): Promise<void>;
}

/**
 * Takes the instance's start lock. Throws `RuntimeError` (`SESSION_ALREADY_RUNNING`) naming the
 * other starter's pid when a live process holds it; a stale lock is removed and taken.
 */
export async function acquireStartLock(paths: InstancePaths): Promise<StartLock> {
  // A start refused early must leave no trace: folders made here go again on release if empty.
  const created = await fs.mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(paths.dataDir, START_LOCK_FILE);
  const mine = await currentHostRecord(paths.name);
  const text = JSON.stringify(mine) + '\n';
  // Two rounds: the second follows the removal of a stale lock.
  for (let round = 0; round < 2; round++) {
    try {
      const handle = await fs.open(file, 'wx', 0o600);
      try {
        await handle.writeFile(text);
      } finally {
        await handle.close();
      }
      let released = false;
      return {
        file,
        release: async () => {
          if (released) return;
          released = true;
          const now = await readHostRecord(file).catch(() => null);
          if (now !== null && now !== 'corrupt' && now.pid === mine.pid)
            await fs.rm(file, { force: true });
          if (created !== undefined) await removeEmptyFolders(paths.dataDir, created);
        },
      };
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
    const holder = await readHostRecord(file);
    // A lock being written right now reads as empty (corrupt): give its writer a moment.
    if (holder === 'corrupt') await new Promise((r) => setTimeout(r, 50));
    const again = holder === 'corrupt' ? await readHostRecord(file) : holder;
    if (again !== null && again !== 'corrupt' && (await isHostAlive(again))) {
      throw new RuntimeError(
        'SESSION_ALREADY_RUNNING',
        `instance ${paths.name} is being started by another process (pid ${again.pid}); wait for it or stop that session`,
      );
    }
    // Remove it only if it is still the stale lock just judged, not a fresh one another start
    // took meanwhile.
    const now = await readHostRecord(file);
    if (
      now === null ||
      now === 'corrupt' ||
      again === null ||
      again === 'corrupt' ||
      now.pid === again.pid
    )
      await fs.rm(file, { force: true });
  }
  throw new RuntimeError(
    'SESSION_ALREADY_RUNNING',
    `instance ${paths.name}: the start lock ${file} keeps being taken by other starts`,
  );
}

/** Removes `dir` and its parents up to `top` while they are empty. */
async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  for (let d = dir; d.startsWith(top); d = path.dirname(d)) {
    try {
      await fs.rmdir(d);
    } catch {
      return;
    }
  }
}
