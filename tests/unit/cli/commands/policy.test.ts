import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../electron/cli/main.js';
import { register, type PolicyCommandDeps } from '../../../../electron/cli/commands/policy.js';
import {
  BRIDGE_LIMIT_KEYS,
  bridgeLimitRow,
} from '../../../../electron/core/policy/bridge-limits.js';
import { loadPreset, presetPath } from '../../../../electron/core/policy/presets.js';

const deps: PolicyCommandDeps = {
  uid: () => process.getuid?.() ?? 0,
  cgroupSupport: () => ({ version: 1, unsupportedLimits: ['ioWeight'] }),
  apparmorEnabled: () => false,
};

/** Runs `droidway policy …` in-process and returns the exit status and both streams. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const program = new Command('droidway');
  register(program, deps);
  const code = await runCli(program, ['node', 'droidway', 'policy', ...args], {
    writeOut: (s) => void (out += s),
    writeErr: (s) => void (err += s),
    env: {},
  });
  return { code, out, err };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'droidway-policy-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('droidway policy', () => {
  it('show describes the strict preset by default and android on request', async () => {
    const strict = await run('show');
    expect(strict.code).toBe(0);
    expect(strict.out).toMatch(/^Policy strict \(version 1\)/);
    expect(strict.out).toMatch(/Capabilities: +chown dac_override/);
    expect(strict.out).toMatch(/Memory: +256 MiB, swap 0 B/);
    // Every cap the display bridge enforces, with the strict preset's values.
    expect(strict.out).toMatch(/^ +rectangles: 64 per region, 64 damage per commit\b/m);
    expect(strict.out).toMatch(
      /^ +connections: 8 at once, 4 per guest uid, first request within 1000 ms\b/m,
    );
    expect(strict.out).toMatch(
      /^ +per client: 64 fds, 32 pools, 128 buffers, 64 surfaces, 2000 objects\b.*; sealed buffers required$/m,
    );
    // Every bridge limit is on one of those lines, with its value (a newer one too).
    const limits = loadPreset('strict').bridge.limits;
    for (const key of BRIDGE_LIMIT_KEYS) {
      const row = bridgeLimitRow(key);
      const value = limits[key];
      const text = row.type === 'integer' ? String(value) : row.show.words[value === true ? 0 : 1];
      expect(strict.out, key).toContain(row.show.phrase.replace('{}', text));
    }
    const android = await run('show', '--preset', 'android', '--json');
    expect(JSON.parse(android.out).name).toBe('android');
  });

  it('show refuses an unknown preset', async () => {
    const r = await run('show', '--preset', 'lax');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown preset 'lax'/);
  });

  it('check accepts a preset file and exits 1 listing the refused fields of a hostile one', async () => {
    expect((await run('check', presetPath('strict'))).out).toMatch(/valid policy "strict"/);
    const bad = JSON.parse(readFileSync(presetPath('strict'), 'utf8'));
    bad.limits.pidsMax = -1;
    bad.sharedFolders = [{ host: '/', guest: '/mnt', mode: 'rw' }];
    bad.surprise = true;
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(bad));
    const r = await run('check', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain('/limits/pidsMax: must be at least 16');
    expect(r.err).toContain('/surprise: unknown field');
    const j = await run('check', file, '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out).issues).toContainEqual({
      path: '/limits/pidsMax',
      message: 'must be at least 16',
    });
  });

  it('check accepts a document saved before the bridge limits, naming the defaulted fields', async () => {
    const older = join(
      import.meta.dirname,
      '../../../fixtures/policy/strict-before-bridge-limits.json',
    );
    const r = await run('check', older);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/valid policy "strict"/);
    expect(r.out).toMatch(
      /take their defaults \(strict's bridge limits, the clipboard off\): .*\/bridge\/limits\/maxClients .*\/bridge\/clipboard$/m,
    );
    const j = await run('check', older, '--json');
    expect(JSON.parse(j.out).defaulted).toContain('/bridge/limits/firstRequestTimeoutMs');
    const current = await run('check', presetPath('strict'), '--json');
    // A preset file lists every field but one newer than itself (which takes its default).
    const file = JSON.parse(readFileSync(presetPath('strict'), 'utf8'));
    expect(JSON.parse(current.out).defaulted).toEqual(
      BRIDGE_LIMIT_KEYS.filter((k) => file.bridge.limits[k] === undefined).map(
        (k) => `/bridge/limits/${k}`,
      ),
    );
  });

  it('check runs the host checks of shared folders', async () => {
    const p = JSON.parse(readFileSync(presetPath('strict'), 'utf8'));
    p.sharedFolders = [{ host: join(dir, 'missing'), guest: '/mnt/x', mode: 'ro' }];
    const file = join(dir, 'shared.json');
    writeFileSync(file, JSON.stringify(p));
    const r = await run('check', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain('/sharedFolders/0/host: cannot be resolved (ENOENT)');
  });

  it('verify --against refuses an unknown preset or an invalid file with a usage error (2)', async () => {
    const unknown = await run('verify', '--against', 'lenient', '--instance', 'x');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/--against lenient: policy refused/);
    expect(unknown.err).toMatch(
      /neither a preset \(android, strict, privileged\) nor a policy file/,
    );
    const weak = JSON.parse(readFileSync(presetPath('strict'), 'utf8'));
    weak.limits.pidsMax = 1;
    const file = join(dir, 'weak-reference.json');
    writeFileSync(file, JSON.stringify(weak));
    const invalid = await run('verify', '--against', file);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toContain('/limits/pidsMax: must be at least 16');
  });

  it('check reports a missing file and invalid JSON', async () => {
    expect((await run('check', join(dir, 'nope.json'))).err).toMatch(/cannot be read \(ENOENT\)/);
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{');
    expect((await run('check', file)).err).toMatch(/not valid JSON/);
  });

  it('compile writes the five outputs and prints the notes', async () => {
    const out = join(dir, 'compiled');
    const r = await run(
      'compile',
      presetPath('strict'),
      '--out',
      out,
      '--name',
      'dw-cli',
      '--rootfs',
      '/srv/guest',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/note: \/limits\/ioWeight/);
    expect(readdirSync(out).sort()).toEqual([
      'bridge.json',
      'config',
      'expectations.json',
      'notes.json',
      'seccomp.profile',
    ]);
    const config = readFileSync(join(out, 'config'), 'utf8');
    expect(config).toContain('lxc.rootfs.path = dir:/srv/guest');
    expect(config).toContain(`lxc.seccomp.profile = ${join(out, 'seccomp.profile')}`);
    expect(JSON.parse(readFileSync(join(out, 'expectations.json'), 'utf8')).pidsLimit).toBe(256);
  });

  it('compile of an older document writes the defaults and notes each filled field', async () => {
    const out = join(dir, 'compiled-older');
    const older = join(
      import.meta.dirname,
      '../../../fixtures/policy/strict-before-bridge-limits.json',
    );
    const r = await run('compile', older, '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/note: \/bridge\/clipboard: not in this document .*clipboard off\)$/m);
    const bridge = JSON.parse(readFileSync(join(out, 'bridge.json'), 'utf8'));
    expect(bridge.clipboard.mode).toBe('off');
    expect([bridge.maxClients, bridge.maxClientsPerUid, bridge.firstRequestTimeoutMs]).toEqual([
      8, 4, 1000,
    ]);
    const notes = JSON.parse(readFileSync(join(out, 'notes.json'), 'utf8')) as { field: string }[];
    expect(notes.map((n) => n.field)).toContain('/bridge/limits/maxRegionRects');
  });

  it('compile refuses an invalid policy without writing anything', async () => {
    const file = join(dir, 'bad2.json');
    writeFileSync(file, '{"version": 1}');
    const out = join(dir, 'never');
    const r = await run('compile', file, '--out', out);
    expect(r.code).toBe(1);
    expect(() => readdirSync(out)).toThrow();
  });

  it('compile refuses an unsafe container name', async () => {
    const r = await run('compile', presetPath('strict'), '--out', join(dir, 'x'), '--name', 'a b');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/name: must be/);
  });
});
