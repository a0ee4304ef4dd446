import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupsFor, main, packageVersion, readsApk } from '../../../electron/cli/entry.js';
import { createProgram } from '../../../electron/cli/main.js';
import { baseProgram, runCli } from '../../../electron/cli/run-cli.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(args: readonly string[]): Promise<Run> {
  const r = { out: '', err: '' };
  const code = await main(['node', 'droidway', ...args], {
    writeOut: (t) => void (r.out += t),
    writeErr: (t) => void (r.err += t),
    env: {},
  });
  return { code, ...r };
}

describe('the bundled entry loads only what a run names', () => {
  const all = createProgram('0.0.0-test').commands.map((c) => c.name());

  it('loads no command group for --version and prints the package version', async () => {
    expect(groupsFor(['--version'])).toEqual([]);
    expect(groupsFor(['-V'])).toEqual([]);
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(packageVersion());
    expect(r.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('answers --version and -V alone as commander would, without loading it', async () => {
    for (const flag of ['--version', '-V']) {
      const early = await run([flag]);
      const viaCommander = { out: '', err: '' };
      const code = await runCli(baseProgram(packageVersion()), ['node', 'droidway', flag], {
        writeOut: (t) => void (viaCommander.out += t),
        writeErr: (t) => void (viaCommander.err += t),
        env: {},
      });
      expect({ code: early.code, out: early.out, err: early.err }).toEqual({
        code,
        ...viaCommander,
      });
    }
    // With anything beside the flag, commander answers (it acts on the first option it meets).
    const mixed = await run(['--version', '--bogus']);
    expect(mixed.out).toContain(packageVersion());
  });

  it('starts the APK reader early only for a run that reads an APK', () => {
    expect(readsApk(['apk', 'info', 'a.apk'])).toBe(true);
    expect(readsApk(['apk', 'info', '--json', '--icon-size', '96', 'a.apk'])).toBe(true);
    for (const args of [
      ['apk', 'info', '--help'],
      ['apk', 'info', 'a.apk', '-h'],
      ['apk', '--help'],
      ['apk'],
      ['app', 'install', 'a.apk'],
      ['--version'],
      [],
    ])
      expect(readsApk(args)).toBe(false);
  });

  it('loads the one group a command names', () => {
    for (const name of all) expect(groupsFor([name, '--help'])).toEqual([name]);
  });

  it('loads every group, in the order of createProgram, for help, --launch and unknown words', async () => {
    for (const args of [[], ['--help'], ['--launch', 'org.example'], ['frobnicate']]) {
      expect(groupsFor(args)).toEqual(all);
    }
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    const listed = [...help.out.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]);
    expect(listed.filter((n) => n !== 'help')).toEqual(all);
    const wrong = await run(['sesion']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('session');
  });

  it('answers a command of the group it loaded as the whole program does', async () => {
    const r = await run(['session', 'status', '--instance', `entry-none-${process.pid % 100000}`]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/stopped/);
  });

  it('finds the version only in a package.json named droidway', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'droidway-entry-'));
    try {
      await writeFile(join(dir, 'package.json'), '{"name":"droidway","version":"9.8.7"}');
      await mkdir(join(dir, 'a', 'b'), { recursive: true });
      await writeFile(join(dir, 'a', 'package.json'), '{"name":"other","version":"1.0.0"}');
      await writeFile(join(dir, 'a', 'b', 'package.json'), '{ not json');
      expect(packageVersion(join(dir, 'a', 'b'))).toBe('9.8.7');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
