/** The subordinate id registry: allocation, reuse, release, and /etc/subuid registration. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DROIDWAY_ID_BASE,
  DROIDWAY_ID_BLOCK,
  ID_RANGE_SIZE,
  ID_RANGE_SLOTS,
  allocateIdRange,
  ensureSubordinateIds,
  hostIdOf,
  idRangeOfSlot,
  parseSlotRecord,
  releaseIdRange,
  subidCovers,
} from '../../../../electron/core/runtime/id-ranges.js';

let tmp: string;
let registry: string;

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-idmap-'));
  registry = path.join(tmp, 'idmap');
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function instanceDir(name: string): Promise<string> {
  const dir = path.join(tmp, 'instances', name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

describe('id ranges', () => {
  it("covers Android's first user, isolated processes included, inside a block of its own", () => {
    // Android: apps 10000-19999, isolated 90000-99999; all of user 0 is below 100000.
    expect(ID_RANGE_SIZE).toBeGreaterThanOrEqual(100_000);
    expect(idRangeOfSlot(0)).toEqual({ slot: 0, hostBase: DROIDWAY_ID_BASE, count: ID_RANGE_SIZE });
    expect(idRangeOfSlot(1).hostBase).toBe(DROIDWAY_ID_BASE + ID_RANGE_SIZE);
    const last = idRangeOfSlot(ID_RANGE_SLOTS - 1);
    expect(last.hostBase + last.count).toBe(DROIDWAY_ID_BASE + DROIDWAY_ID_BLOCK);
    expect(last.hostBase + last.count).toBeLessThan(2 ** 32 - 1);
    expect(hostIdOf(idRangeOfSlot(2), 99_999)).toBe(DROIDWAY_ID_BASE + 2 * ID_RANGE_SIZE + 99_999);
    expect(() => hostIdOf(idRangeOfSlot(0), ID_RANGE_SIZE)).toThrow(RangeError);
    expect(() => idRangeOfSlot(ID_RANGE_SLOTS)).toThrow(RangeError);
    expect(() => idRangeOfSlot(-1)).toThrow(RangeError);
  });

  it('gives each instance its own range, the same one again later, in a root-only registry', async () => {
    const a = await instanceDir('a');
    const b = await instanceDir('b');
    const ra = await allocateIdRange(a, { dir: registry });
    const rb = await allocateIdRange(b, { dir: registry });
    expect(ra.slot).not.toBe(rb.slot);
    expect(await allocateIdRange(a, { dir: registry })).toEqual(ra);
    expect((await fs.stat(registry)).mode & 0o777).toBe(0o700);
    const files = (await fs.readdir(registry)).sort();
    expect(files).toEqual(['slot-0000.json', 'slot-0001.json']);
    for (const f of files) expect((await fs.stat(path.join(registry, f))).mode & 0o777).toBe(0o600);
  });

  it('never hands out a range in use, even to concurrent starts', async () => {
    const dirs = await Promise.all(Array.from({ length: 12 }, (_, i) => instanceDir(`c${i}`)));
    const ranges = await Promise.all(dirs.map((d) => allocateIdRange(d, { dir: registry })));
    expect(new Set(ranges.map((r) => r.slot)).size).toBe(12);
    expect(await fs.readdir(registry)).not.toContain('registry.lock');
  });

  it('frees a released range and the range of a deleted instance, never a live one', async () => {
    const a = await instanceDir('a');
    const b = await instanceDir('b');
    const ra = await allocateIdRange(a, { dir: registry });
    const rb = await allocateIdRange(b, { dir: registry });
    await releaseIdRange(a, { dir: registry });
    const c = await instanceDir('c');
    expect((await allocateIdRange(c, { dir: registry })).slot).toBe(ra.slot);
    // Fill every other slot with live instances; then b's folder goes away.
    for (let slot = 0; slot < ID_RANGE_SLOTS; slot++) {
      const file = path.join(registry, `slot-${String(slot).padStart(4, '0')}.json`);
      if (slot === ra.slot || slot === rb.slot) continue;
      await fs.writeFile(file, JSON.stringify({ version: 1, dataDir: c, allocatedAt: 'x' }) + '\n');
    }
    const d = await instanceDir('d');
    await expect(allocateIdRange(d, { dir: registry })).rejects.toMatchObject({
      code: 'ID_RANGE_UNAVAILABLE',
    });
    await fs.rm(b, { recursive: true });
    expect((await allocateIdRange(d, { dir: registry })).slot).toBe(rb.slot);
  });

  it('treats an unreadable slot record as taken, and refuses a relative data folder', async () => {
    await fs.mkdir(registry, { recursive: true });
    await fs.writeFile(path.join(registry, 'slot-0000.json'), '{garbage');
    const a = await instanceDir('a');
    expect((await allocateIdRange(a, { dir: registry })).slot).toBe(1);
    await expect(allocateIdRange('relative/dir', { dir: registry })).rejects.toMatchObject({
      code: 'ID_RANGE_UNAVAILABLE',
    });
  });

  it('takes over the lock of a dead holder', async () => {
    await fs.mkdir(registry, { recursive: true });
    await fs.writeFile(
      path.join(registry, 'registry.lock'),
      JSON.stringify({ pid: 2 ** 22 + 7, startTime: '1', instance: 'idmap', startedAt: 'x' }),
    );
    const a = await instanceDir('a');
    expect((await allocateIdRange(a, { dir: registry })).slot).toBe(0);
  });

  it('parses slot records strictly', () => {
    expect(parseSlotRecord('{"version":1,"dataDir":"/x","allocatedAt":"t"}')).toEqual({
      version: 1,
      dataDir: '/x',
      allocatedAt: 't',
    });
    for (const bad of [
      '',
      'null',
      '[]',
      '{"version":2,"dataDir":"/x","allocatedAt":"t"}',
      '{"version":1,"dataDir":"x","allocatedAt":"t"}',
      '{"version":1,"dataDir":"/x\\u0000y","allocatedAt":"t"}',
      '{"version":1,"dataDir":"/x"}',
      '{"version":1,"dataDir":"/x","allocatedAt":"' + 'a'.repeat(9000) + '"}',
    ])
      expect(parseSlotRecord(bad), bad.slice(0, 60)).toBeNull();
  });
});

describe('subordinate id registration', () => {
  it('reads /etc/subuid lines, joining adjacent ranges and ignoring malformed ones', () => {
    const base = DROIDWAY_ID_BASE;
    expect(
      subidCovers(`root:${base}:${DROIDWAY_ID_BLOCK}\n`, 'root', base, DROIDWAY_ID_BLOCK),
    ).toBe(true);
    expect(subidCovers(`root:${base}:100\nroot:${base + 100}:50\n`, 'root', base, 150)).toBe(true);
    expect(subidCovers(`root:${base}:100\nroot:${base + 101}:50\n`, 'root', base, 150)).toBe(false);
    expect(subidCovers(`alice:${base}:${DROIDWAY_ID_BLOCK}\n`, 'root', base, 10)).toBe(false);
    expect(
      subidCovers(`root:${base}:x\nroot ${base} 10\n#root:${base}:10\n`, 'root', base, 10),
    ).toBe(false);
    expect(subidCovers('', 'root', base, 1)).toBe(false);
  });

  it('setup.sh registers the same block the runtime allocates from', async () => {
    const setup = await fs.readFile(
      path.join(import.meta.dirname, '../../../../build/scripts/setup.sh'),
      'utf8',
    );
    expect(setup).toContain(`droidway_ids="root:${DROIDWAY_ID_BASE}:${DROIDWAY_ID_BLOCK}"`);
  });

  it('appends the block once, keeping what the files held', async () => {
    const subuid = path.join(tmp, 'subuid');
    const subgid = path.join(tmp, 'subgid');
    await fs.writeFile(subuid, 'alice:100000:65536');
    const opts = { dir: registry, subidFiles: [subuid, subgid] };
    expect(await ensureSubordinateIds(opts)).toEqual([subuid, subgid]);
    expect(await ensureSubordinateIds(opts)).toEqual([]);
    const line = `root:${DROIDWAY_ID_BASE}:${DROIDWAY_ID_BLOCK}`;
    expect(await fs.readFile(subuid, 'utf8')).toBe(`alice:100000:65536\n${line}\n`);
    expect(await fs.readFile(subgid, 'utf8')).toBe(`${line}\n`);
  });
});
