import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseProcCgroup, readCgroupUsage } from '../../../../electron/core/ui/cgroup-usage.js';
import { diffJson } from '../../../../electron/core/ui/policy-editor.js';
import { tailLines } from '../../../../electron/core/ui/session-panel.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'droidway-h6-panel-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('parseProcCgroup', () => {
  it('reads v1 controllers and the v2 path', () => {
    const parsed = parseProcCgroup(
      '12:memory:/lxc.payload.droidway-x\n8:pids:/lxc.payload.droidway-x\n4:cpu,cpuacct:/a\n0::/init.scope\n',
    );
    expect(parsed.v1.get('memory')).toBe('/lxc.payload.droidway-x');
    expect(parsed.v1.get('cpuacct')).toBe('/a');
    expect(parsed.v2).toBe('/init.scope');
  });

  it('skips malformed lines and paths that climb or are relative', () => {
    const parsed = parseProcCgroup(
      'garbage\n12:memory:../../etc\n8:pids:/a/../../b\nx:memory:/y\n5:Bad-Name:/z\n\0\n',
    );
    expect(parsed.v1.size).toBe(0);
    expect(parsed.v2).toBeNull();
  });
});

describe('readCgroupUsage', () => {
  it('reads v1 memory and pids through the process cgroup', async () => {
    mkdirSync(join(dir, 'proc', '42'), { recursive: true });
    writeFileSync(join(dir, 'proc', '42', 'cgroup'), '9:memory:/c\n8:pids:/c\n');
    mkdirSync(join(dir, 'cg', 'memory', 'c'), { recursive: true });
    mkdirSync(join(dir, 'cg', 'pids', 'c'), { recursive: true });
    writeFileSync(join(dir, 'cg', 'memory', 'c', 'memory.usage_in_bytes'), '1048576\n');
    writeFileSync(join(dir, 'cg', 'pids', 'c', 'pids.current'), '7\n');
    await expect(
      readCgroupUsage(42, { procRoot: join(dir, 'proc'), cgroupRoot: join(dir, 'cg') }),
    ).resolves.toEqual({ memoryBytes: 1048576, pids: 7 });
  });

  it('reports null for missing or malformed counts', async () => {
    mkdirSync(join(dir, 'proc', '42'), { recursive: true });
    writeFileSync(join(dir, 'proc', '42', 'cgroup'), '0::/c\n');
    mkdirSync(join(dir, 'cg', 'c'), { recursive: true });
    writeFileSync(join(dir, 'cg', 'c', 'memory.current'), '-5');
    writeFileSync(join(dir, 'cg', 'c', 'pids.current'), '99999999999999999999999');
    const roots = { procRoot: join(dir, 'proc'), cgroupRoot: join(dir, 'cg') };
    await expect(readCgroupUsage(42, roots)).resolves.toEqual({ memoryBytes: null, pids: null });
    await expect(readCgroupUsage(43, roots)).resolves.toEqual({ memoryBytes: null, pids: null });
  });
});

describe('diffJson', () => {
  it('lists changed, added and removed values by JSON Pointer; lists as whole values', () => {
    const before = { limits: { pidsMax: 256, memoryMax: 1 }, capabilities: ['a', 'b'], n: 'x' };
    const after = { limits: { pidsMax: 200, cpuQuota: 5 }, capabilities: ['a'], n: 'x' };
    expect(diffJson(before, after)).toEqual([
      { path: '/limits/pidsMax', before: 256, after: 200 },
      { path: '/limits/memoryMax', before: 1 },
      { path: '/limits/cpuQuota', after: 5 },
      { path: '/capabilities', before: ['a', 'b'], after: ['a'] },
    ]);
    expect(diffJson(before, structuredClone(before))).toEqual([]);
    expect(diffJson({ 'a/b~': 1 }, { 'a/b~': 2 })).toEqual([
      { path: '/a~1b~0', before: 1, after: 2 },
    ]);
    expect(diffJson({ a: [1] }, { a: { 0: 1 } })).toEqual([
      { path: '/a', before: [1], after: { 0: 1 } },
    ]);
  });
});

describe('tailLines', () => {
  it('returns the last lines, drops a cut first line and control characters', async () => {
    const file = join(dir, 'console.log');
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i}\u001b[0m`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const tail = await tailLines(file, 5);
    expect(tail).toEqual([
      'line 2995[0m',
      'line 2996[0m',
      'line 2997[0m',
      'line 2998[0m',
      'line 2999[0m',
    ]);
    await expect(tailLines(join(dir, 'missing.log'), 5)).resolves.toEqual([]);
  });
});
