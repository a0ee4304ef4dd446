// The `droidway` command's cold start, whole process against whole process: the command as a
// person types it (the bin shim, which runs the bundle in out/cli/) versus `node -e 0`, the floor
// of any Node command on this machine, alternated pair by pair in the same run.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparePairs, processRow } from './whole-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shim = join(root, 'electron', 'cli', 'droidway.js');
const floor = [process.execPath, '-e', '0'];

export default {
  name: 'cli',
  unavailable() {
    if (!existsSync(join(root, 'out', 'cli', 'droidway.js')))
      return 'the CLI bundle is not built (npm run build:cli)';
    return null;
  },
  async run({ quick }) {
    const pairs = quick ? 3 : 9;
    const instance = `bench-cli-none-${process.pid % 100000}`;
    const cases = [
      { args: ['--version'], goal: '≤ 1.3× node -e 0', metric: '`droidway --version`' },
      {
        args: ['session', 'status', '--instance', instance],
        goal: '≤ node -e 0 + 60 ms',
        metric: '`droidway session status` (no session)',
      },
    ];
    return cases.map(({ args, goal, metric }) => {
      const r = comparePairs([process.execPath, shim, ...args], floor, { pairs });
      return processRow(metric, r, '`node -e 0`', goal);
    });
  },
};
