import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { progressLine, register } from '../../../../electron/cli/commands/app-install.js';
import type { InstallProgress } from '../../../../electron/core/install/install-pipeline.js';

const ev = (
  stage: InstallProgress['stage'],
  bytes: number,
  totalBytes = 1000,
): InstallProgress => ({
  id: '2',
  file: '/tmp/x/Game.apk',
  stage,
  bytes,
  totalBytes,
});

describe('app install progress lines', () => {
  it('prints a line per stage and per 10 % step, nothing in between', () => {
    const last = new Map<string, string>();
    const lines = [
      ev('copying', 0),
      ev('copying', 50),
      ev('copying', 120),
      ev('copying', 1000),
      ev('checking', 0),
      ev('installing', 0),
      ev('installing', 999),
      ev('done', 1000),
    ].map((e) => progressLine(e, last, 3));
    expect(lines).toEqual([
      '[2/3] Game.apk: copying 0%\n',
      null,
      '[2/3] Game.apk: copying 10%\n',
      '[2/3] Game.apk: copying 100%\n',
      '[2/3] Game.apk: checking\n',
      '[2/3] Game.apk: installing 0%\n',
      '[2/3] Game.apk: installing 90%\n',
      '[2/3] Game.apk: done\n',
    ]);
  });

  it('names the error of a failed file, and copes with an empty file', () => {
    const last = new Map<string, string>();
    expect(
      progressLine(
        { ...ev('failed', 0), error: { code: 'INSTALL_FAILED_OLDER_SDK', message: 'needs 15' } },
        last,
        3,
      ),
    ).toBe('[2/3] Game.apk: failed: needs 15\n');
    expect(progressLine(ev('copying', 0, 0), last, 3)).toBe('[2/3] Game.apk: copying 0%\n');
  });

  it('adds install to an existing app group, or creates the group', () => {
    const program = new Command('droidway');
    register(program);
    const app = program.commands.find((c) => c.name() === 'app');
    expect(app?.commands.map((c) => c.name())).toEqual(['install']);

    const other = new Command('droidway');
    other.command('app').command('list');
    register(other);
    expect(other.commands.filter((c) => c.name() === 'app')).toHaveLength(1);
    expect(other.commands[0]?.commands.map((c) => c.name())).toEqual(['list', 'install']);
  });
});
