import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerDoctor } from '../../../electron/cli/commands/doctor.js';
import { createProgram, runCli, type CliIo } from '../../../electron/cli/main.js';
import type { DoctorReport } from '../../../electron/shared/doctor.js';

/** An instance no test starts: every command that needs its session gets "not running". */
const NONE = `cli-exit-${process.pid % 100000}`;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(
  args: readonly string[],
  program?: Command,
  env: CliIo['env'] = {},
): Promise<Run> {
  const r = { out: '', err: '' };
  const code = await runCli(program ?? createProgram('0.0.0-test'), ['node', 'droidway', ...args], {
    writeOut: (t) => void (r.out += t),
    writeErr: (t) => void (r.err += t),
    env,
  });
  return { code, ...r };
}

function doctorSaysNo(): Command {
  const report: DoctorReport = {
    generatedAt: '2025-01-01T00:00:00.000Z',
    host: { kernel: '6.1.0', arch: 'x86_64', distro: 'Debian', uid: 0 },
    checks: [
      { id: 'lxc', title: 'LXC', ok: false, seen: 'none', impact: 'demo', fix: 'install lxc' },
    ],
    demoGuest: { canRun: false, blockers: ['lxc'], summary: 'The demo guest cannot run' },
    android: { canRun: false, blockers: ['lxc'], summary: 'Android cannot run' },
  };
  const p = new Command('droidway');
  registerDoctor(p, { runDoctor: async () => report });
  return p;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'droidway-cli-exit-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * Every command: a representative "no" (exit 1, unless the command has no such answer without
 * a running session or the network: null) and a usage error (exit 2). `app launch`,
 * `app settings` and `--launch` start a stopped session, so their "no" needs a real one
 * (tests/integration/apps-desktop.test.ts).
 */
const commands: Array<{
  command: string;
  refusal: ((dir: string) => string[]) | null;
  refusalProgram?: () => Command;
  usage: string[];
}> = [
  {
    command: 'doctor',
    refusal: () => ['doctor'],
    refusalProgram: doctorSaysNo,
    usage: ['doctor', '--bogus'],
  },
  {
    command: 'session start',
    refusal: (d) => ['session', 'start', '--instance', NONE, '--policy', join(d, 'none.json')],
    usage: ['session', 'start', '--instance', NONE, '--preset', 'strict', '--policy', 'x.json'],
  },
  {
    command: 'session status',
    refusal: null,
    usage: ['session', 'status', '--instance', 'Not Valid'],
  },
  { command: 'session stop', refusal: null, usage: ['session', 'stop', '--instance', 'Not Valid'] },
  {
    command: 'session freeze',
    refusal: () => ['session', 'freeze', '--instance', NONE],
    usage: ['session', 'freeze', '--instance', 'Not Valid'],
  },
  {
    command: 'session unfreeze',
    refusal: () => ['session', 'unfreeze', '--instance', NONE],
    usage: ['session', 'unfreeze', '--bogus'],
  },
  {
    command: 'policy show',
    refusal: null,
    usage: ['policy', 'show', '--preset', 'no-such-preset'],
  },
  {
    command: 'policy check',
    refusal: (d) => ['policy', 'check', join(d, 'none.json')],
    usage: ['policy', 'check'],
  },
  {
    command: 'policy compile',
    refusal: (d) => ['policy', 'compile', join(d, 'none.json'), '--out', join(d, 'out')],
    usage: ['policy', 'compile', 'p.json'],
  },
  {
    command: 'policy verify',
    refusal: () => ['policy', 'verify', '--instance', NONE],
    usage: ['policy', 'verify', '--instance', 'Not Valid'],
  },
  { command: 'image list', refusal: null, usage: ['image', 'list', '--bogus'] },
  {
    command: 'image import',
    refusal: (d) => ['image', 'import', join(d, 'none'), '--store', join(d, 'store')],
    usage: ['image', 'import'],
  },
  { command: 'image download', refusal: null, usage: ['image', 'download', '--bogus'] },
  {
    command: 'image remove',
    refusal: (d) => ['image', 'remove', 'absent', '--store', join(d, 'store')],
    usage: ['image', 'remove', '../etc', '--store', join(tmpdir(), 'droidway-no-store')],
  },
  {
    command: 'apk info',
    refusal: (d) => ['apk', 'info', join(d, 'none.apk')],
    usage: ['apk', 'info', 'a.apk', '--icon-size', '0'],
  },
  {
    command: 'app install',
    refusal: (d) => ['app', 'install', join(d, 'a.apk'), '--instance', NONE],
    usage: ['app', 'install', '--instance', NONE],
  },
  {
    command: 'app list',
    refusal: () => ['app', 'list', '--instance', NONE, '--no-desktop'],
    usage: ['app', 'list', '--instance', 'Not Valid'],
  },
  { command: 'app launch', refusal: null, usage: ['app', 'launch', '../etc/passwd'] },
  { command: 'app settings', refusal: null, usage: ['app', 'settings', 'not a package'] },
  {
    command: 'app remove',
    refusal: () => ['app', 'remove', 'org.example.none', '--instance', NONE],
    usage: ['app', 'remove', 'org.example.none', '--instance', 'Not Valid'],
  },
  {
    command: 'app pin',
    refusal: () => ['app', 'pin', 'org.example.none', '--instance', NONE],
    usage: ['app', 'pin', '../etc/passwd'],
  },
  { command: 'app unpin', refusal: null, usage: ['app', 'unpin', '../etc/passwd'] },
  {
    command: 'bridge stats',
    refusal: () => ['bridge', 'stats', '--instance', NONE],
    usage: ['bridge', 'stats', '--instance', 'Not Valid'],
  },
  { command: '--launch', refusal: null, usage: ['--launch', '../etc/passwd'] },
];

describe('the exit status rule: 1 for "no", 2 for a usage error', () => {
  it('covers every command the program has', () => {
    const program = createProgram('0.0.0-test');
    const all = program.commands.flatMap((c) =>
      c.commands.length === 0 ? [c.name()] : c.commands.map((s) => `${c.name()} ${s.name()}`),
    );
    expect(
      commands
        .map((c) => c.command)
        .filter((c) => !c.startsWith('--'))
        .sort(),
    ).toEqual(all.sort());
  });

  for (const c of commands) {
    if (c.refusal !== null) {
      const refusal = c.refusal;
      it(`${c.command}: a refusal exits 1 with a line that starts with words`, async () => {
        const r = await run(refusal(work), c.refusalProgram?.());
        expect(r.code, r.err).toBe(1);
        const said = c.command === 'doctor' ? r.out : r.err;
        expect(said.length).toBeGreaterThan(0);
        // No internal code (SESSION_NOT_RUNNING, APK_NOT_A_FILE …) leads a line.
        expect(r.err).not.toMatch(/^droidway: [A-Z][A-Z0-9_]{3,}: /m);
      });
    }
    it(`${c.command}: a usage error exits 2`, async () => {
      const r = await run(c.usage);
      expect(r.code, r.err).toBe(2);
      expect(r.err.length).toBeGreaterThan(0);
    });
  }

  it('says plainly that no session runs, and names the command that starts one', async () => {
    const r = await run(['session', 'freeze', '--instance', NONE]);
    expect(r).toEqual({
      code: 1,
      out: '',
      err: `droidway: no session is running for instance ${NONE}; start one with droidway session start --instance ${NONE}\n`,
    });
    const json = await run(['session', 'freeze', '--instance', NONE, '--json']);
    expect(json.code).toBe(1);
    expect(json.err).toBe('');
    expect((JSON.parse(json.out) as { error: { code: string } }).error.code).toBe(
      'SESSION_NOT_RUNNING',
    );
    const debug = await run(['session', 'freeze', '--instance', NONE], undefined, {
      DROIDWAY_DEBUG: '1',
    });
    expect(debug.err).toMatch(
      /^droidway: SESSION_NOT_RUNNING: no session is running for instance /,
    );
  });

  it('takes an unknown preset for a usage error wherever it is given', async () => {
    for (const args of [
      ['policy', 'show', '--preset', 'lax'],
      ['session', 'start', '--instance', NONE, '--preset', 'lax'],
      ['policy', 'verify', '--instance', NONE, '--against', 'lax'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/unknown preset 'lax'|neither a preset/);
    }
    expect((await run(['policy', 'show', '--preset', 'lax'])).err).toBe(
      "droidway: unknown preset 'lax' (presets: android, strict, privileged)\n",
    );
  });

  it('stops a session that is not running without an error', async () => {
    const r = await run(['session', 'stop', '--instance', NONE]);
    expect(r).toEqual({
      code: 0,
      out: `instance ${NONE}: stopped\n`,
      err: `droidway: instance ${NONE} was not running\n`,
    });
  });

  it('refuses to pin what it cannot find installed', async () => {
    const r = await run(['app', 'pin', 'org.example.none', '--instance', NONE]);
    expect(r.err).toBe(
      `droidway: cannot check that org.example.none is installed: no session is running for instance ${NONE}; start one with droidway session start --instance ${NONE}\n`,
    );
    expect(r.out).toBe('');
  });
});

describe('did you mean', () => {
  it.each([
    [['sesion', 'start'], "error: unknown command 'sesion'\n(Did you mean session?)\n"],
    [['session', 'strat'], "error: unknown command 'strat'\n(Did you mean start?)\n"],
    [['app', 'lsit'], "error: unknown command 'lsit'\n(Did you mean list?)\n"],
    [['polcy', 'show'], "error: unknown command 'polcy'\n(Did you mean policy?)\n"],
    [
      ['session', 'start', '--instnce', 'x'],
      "error: unknown option '--instnce'\n(Did you mean --instance?)\n",
    ],
  ])('%j suggests the near name and exits 2', async (args, said) => {
    const r = await run(args);
    expect(r).toEqual({ code: 2, out: '', err: said });
  });

  it('suggests nothing for a name far from every command', async () => {
    const r = await run(['frobnicate']);
    expect(r).toEqual({ code: 2, out: '', err: "error: unknown command 'frobnicate'\n" });
  });
});
