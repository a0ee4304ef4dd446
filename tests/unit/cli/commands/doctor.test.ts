import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../../../electron/cli/commands/doctor.js';
import { createProgram, runCli, type CliIo } from '../../../../electron/cli/main.js';
import type { DoctorReport } from '../../../../electron/shared/doctor.js';

function report(demoOk: boolean): DoctorReport {
  return {
    generatedAt: '2025-01-01T00:00:00.000Z',
    host: { kernel: '6.1.0', arch: 'x86_64', distro: 'Debian GNU/Linux 12 (bookworm)', uid: 0 },
    checks: [
      {
        id: 'lxc.version',
        title: 'LXC version',
        ok: demoOk,
        seen: demoOk ? 'lxc 5.0.2' : 'lxc 3.0.3',
        impact: 'demo',
        ...(demoOk ? {} : { fix: 'upgrade lxc' }),
      },
      {
        id: 'binder',
        title: 'Binder IPC',
        ok: false,
        seen: 'no binderfs',
        fix: 'modprobe binder_linux',
        impact: 'android',
      },
    ],
    demoGuest: demoOk
      ? { canRun: true, blockers: [], summary: 'The demo guest can run' }
      : {
          canRun: false,
          blockers: ['lxc.version'],
          summary: 'The demo guest cannot run: fix lxc.version',
        },
    android: {
      canRun: false,
      blockers: demoOk ? ['binder'] : ['lxc.version', 'binder'],
      summary: 'Android cannot run: fix binder',
    },
  };
}

function capture(env: Record<string, string> = {}): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    env,
    writeOut: (text: string) => void (io.out += text),
    writeErr: (text: string) => void (io.err += text),
  };
  return io;
}

function program(runDoctor: () => Promise<DoctorReport>): Command {
  const p = new Command('droidway');
  register(p, { runDoctor });
  return p;
}

describe('droidway doctor', () => {
  it('prints a table with a fix under each failure and the two verdicts, exit 0 when the demo guest can run', async () => {
    const io = capture();
    const code = await runCli(
      program(async () => report(true)),
      ['node', 'droidway', 'doctor'],
      io,
    );
    expect(code).toBe(0);
    const lines = io.out.split('\n');
    expect(lines[0]).toBe(
      'Droidway doctor — Debian GNU/Linux 12 (bookworm), Linux 6.1.0 x86_64, uid 0',
    );
    expect(lines).toContain('  ✔ LXC version  lxc 5.0.2');
    expect(lines).toContain('  ✘ Binder IPC   no binderfs');
    expect(lines).toContain('      blocks Android — fix: modprobe binder_linux');
    expect(lines.slice(-3)).toEqual([
      '✔ The demo guest can run',
      '✘ Android cannot run: fix binder',
      '',
    ]);
    expect(io.err).toBe('');
  });

  it('exits 1 when the demo guest cannot run', async () => {
    const io = capture();
    expect(
      await runCli(
        program(async () => report(false)),
        ['node', 'droidway', 'doctor'],
        io,
      ),
    ).toBe(1);
    expect(io.out).toContain('      blocks the demo guest and Android — fix: upgrade lxc');
  });

  it('prints the report as JSON with --json', async () => {
    const io = capture();
    expect(
      await runCli(
        program(async () => report(true)),
        ['node', 'droidway', 'doctor', '--json'],
        io,
      ),
    ).toBe(0);
    expect(JSON.parse(io.out)).toEqual(report(true));
  });

  it('keeps exit 1 with --json when the demo guest cannot run', async () => {
    const io = capture();
    expect(
      await runCli(
        program(async () => report(false)),
        ['node', 'droidway', 'doctor', '--json'],
        io,
      ),
    ).toBe(1);
    expect(JSON.parse(io.out).demoGuest.canRun).toBe(false);
  });

  it('prints an unexpected error as one line and exits 2', async () => {
    const io = capture();
    const failing = async (): Promise<DoctorReport> => {
      throw Object.assign(new Error('proc is not mounted\nsecond line'), { code: 'ENOENT' });
    };
    expect(await runCli(program(failing), ['node', 'droidway', 'doctor'], io)).toBe(2);
    // Words first; the code only under DROIDWAY_DEBUG=1.
    expect(io.err).toBe('droidway: proc is not mounted\n');
    expect(io.out).toBe('');
    const debug = capture({ DROIDWAY_DEBUG: '1' });
    expect(await runCli(program(failing), ['node', 'droidway', 'doctor'], debug)).toBe(2);
    expect(debug.err).toMatch(
      /^droidway: ENOENT: proc is not mounted\nError: proc is not mounted\n/,
    );
  });

  it('adds the stack with DROIDWAY_DEBUG=1', async () => {
    const io = capture({ DROIDWAY_DEBUG: '1' });
    const failing = async (): Promise<DoctorReport> => {
      throw new Error('boom');
    };
    expect(await runCli(program(failing), ['node', 'droidway', 'doctor'], io)).toBe(2);
    expect(io.err).toMatch(/^droidway: boom\nError: boom\n\s+at /);
  });
});

describe('droidway program', () => {
  it('prints its version and exits 0', async () => {
    const io = capture();
    expect(await runCli(createProgram('1.2.3'), ['node', 'droidway', '--version'], io)).toBe(0);
    expect(io.out).toBe('1.2.3\n');
  });

  it('lists doctor in its help', async () => {
    const io = capture();
    expect(await runCli(createProgram('1.2.3'), ['node', 'droidway', '--help'], io)).toBe(0);
    expect(io.out).toMatch(/doctor \[options\]\s+check whether this machine/);
  });

  it('exits 2 on a usage error, after commander explains it', async () => {
    const io = capture();
    expect(await runCli(createProgram('1.2.3'), ['node', 'droidway', 'doctor', '--jsn'], io)).toBe(
      2,
    );
    expect(io.err).toContain("unknown option '--jsn'");
    const io2 = capture();
    expect(await runCli(createProgram('1.2.3'), ['node', 'droidway', 'frobnicate'], io2)).toBe(2);
    expect(io2.err).toContain("unknown command 'frobnicate'");
  });
});
