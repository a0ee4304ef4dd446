import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listInstances,
  MAX_LISTED_INSTANCES,
} from '../../../../electron/core/runtime/instance-list.js';

describe('listInstances', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'instance-list-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the instance folders of the data root, sorted', async () => {
    for (const name of ['work', 'default', 'a-1']) mkdirSync(join(dir, name));
    await expect(listInstances({ dataRoot: dir })).resolves.toEqual(['a-1', 'default', 'work']);
  });

  it('says none for a data root that does not exist yet', async () => {
    await expect(listInstances({ dataRoot: join(dir, 'missing') })).resolves.toEqual([]);
  });

  it('leaves out files, links and names that break the instance-name rule', async () => {
    mkdirSync(join(dir, 'good'));
    writeFileSync(join(dir, 'file'), 'x');
    symlinkSync('/etc', join(dir, 'etc-link'));
    for (const name of ['lost+found', 'Upper', '.tmp-1', '-dash', 'u1000_x', 'a'.repeat(33)])
      mkdirSync(join(dir, name));
    await expect(listInstances({ dataRoot: dir })).resolves.toEqual(['good']);
  });

  it('keeps at most MAX_LISTED_INSTANCES names', async () => {
    for (let i = 0; i < MAX_LISTED_INSTANCES + 5; i++)
      mkdirSync(join(dir, `i${String(i).padStart(4, '0')}`));
    const names = await listInstances({ dataRoot: dir });
    expect(names).toHaveLength(MAX_LISTED_INSTANCES);
    expect(names[0]).toBe('i0000');
  });
});
