import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  instancePaths,
  type InstancePaths,
} from '../../../../electron/core/runtime/instance-paths.js';
import { START_LOCK_FILE, acquireStartLock } from '../../../../electron/core/runtime/start-lock.js';

let dir = '';
let paths: InstancePaths;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'h2-lock-'));
  paths = instancePaths('h2-lock', { dataRoot: dir, runtimeRoot: path.join(dir, 'run') });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('start lock', () => {
  it('refuses a second holder with the first one named, and frees on release', async () => {
    const lock = await acquireStartLock(paths);
    const file = path.join(paths.dataDir, START_LOCK_FILE);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid });
    await expect(acquireStartLock(paths)).rejects.toMatchObject({
      code: 'SESSION_ALREADY_RUNNING',
      message: expect.stringMatching(`being started by another process \\(pid ${process.pid}\\)`),
    });
    await lock.release();
    await lock.release();
    expect(existsSync(file)).toBe(false);
    const again = await acquireStartLock(paths);
    await again.release();
    // The data folder the lock made goes with it; a start refused early leaves no trace.
    expect(existsSync(paths.dataDir)).toBe(false);
  });

  it('lets exactly one of many concurrent starts win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => acquireStartLock(paths)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'fulfilled') await r.value.release();
  });

  it('takes over the lock of a start that died, and a corrupt one', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.once('exit', r));
    const file = path.join(paths.dataDir, START_LOCK_FILE);
    mkdirSync(paths.dataDir, { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({ pid, startTime: '1', instance: 'h2-lock', startedAt: 'x' }),
    );
    const lock = await acquireStartLock(paths);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    writeFileSync(file, 'not json');
    await (await acquireStartLock(paths)).release();
    // A lock that is not ours is never removed by release.
    const mine = await acquireStartLock(paths);
    writeFileSync(
      file,
      JSON.stringify({ pid: 1, startTime: '1', instance: 'h2-lock', startedAt: 'x' }),
    );
    await mine.release();
    expect(existsSync(file)).toBe(true);
  });
});
