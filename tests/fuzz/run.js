#!/usr/bin/env node
// Long fuzz runs: npm run fuzz -- TARGET|all|make-corpus [--runs N] [--seed S]
// Runs tests/fuzz/long-run.fuzz.ts under vitest (which compiles the TypeScript targets).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (flag, fallback) => {
  const i = args.indexOf(flag);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const target = args.find(
  (a, i) => !a.startsWith('--') && !['--runs', '--seed'].includes(args[i - 1]),
);
if (target === undefined) {
  console.error('usage: npm run fuzz -- TARGET|all|make-corpus [--runs N] [--seed S]');
  process.exit(2);
}
const r = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--config',
    'tests/fuzz/vitest.fuzz.config.ts',
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim(),
      FUZZ_TARGET: target,
      FUZZ_RUNS: opt('--runs', '100000'),
      FUZZ_SEED: opt('--seed', '1'),
    },
  },
);
process.exit(r.status ?? 1);
