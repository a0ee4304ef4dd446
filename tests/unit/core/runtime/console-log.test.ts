/** The guest console's capped, rotated log. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CappedLog } from '../../../../electron/core/runtime/console-log.js';

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-console-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('CappedLog', () => {
  it('keeps everything below half the cap in one owner-only file', () => {
    const file = path.join(tmp, 'console.log');
    const log = new CappedLog(file, 1000);
    log.write(Buffer.from('hello\n'));
    log.write(Buffer.from('world\n'));
    log.close();
    expect(readFileSync(file, 'utf8')).toBe('hello\nworld\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}.1`)).toBe(false);
  });

  it('rotates at half the cap and never holds more than the cap, however much is written', () => {
    const file = path.join(tmp, 'console.log');
    const log = new CappedLog(file, 1000);
    for (let i = 0; i < 10_000; i++) log.write(Buffer.from(`line ${i}\n`));
    // One chunk far over the cap is cut, not written whole.
    log.write(Buffer.alloc(1_000_000, 0x41));
    log.write(Buffer.from('last\n'));
    log.close();
    const now = statSync(file).size;
    const old = statSync(`${file}.1`).size;
    expect(now + old).toBeLessThanOrEqual(1000);
    expect(readFileSync(file, 'utf8')).toBe('last\n');
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('A'.repeat(500));
    expect(log.dropped).toBe(1_000_000 - 500);
    // Writes after close are ignored, never thrown.
    log.write(Buffer.from('late\n'));
    expect(readFileSync(file, 'utf8')).toBe('last\n');
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => new CappedLog(path.join(tmp, 'x'), 0)).toThrow(RangeError);
    expect(() => new CappedLog(path.join(tmp, 'x'), 1.5)).toThrow(RangeError);
  });
});
