#!/usr/bin/env node
// Long fuzz runs: npm run fuzz -- TARGET|all|make-corpus [--runs N] [--seed S]
// Runs tests/fuzz/long-run.fuzz.ts under vitest (which compiles the TypeScript targets).
//
// Native targets (native/fuzz, libFuzzer): npm run fuzz -- native:TARGET|native:all
// [--runs N] [--seed S] [--max-total-time SECONDS] [--jobs N] [-libfuzzer_flag=VALUE...]:
// builds them if needed (make), then runs each from its seeds (native/fuzz/corpus/TARGET) with
// a work corpus under tests/artifacts (where --jobs leaves each job's log, fuzz-JOB.log).
// A crash, leak or hang is written to native/fuzz/crashes/TARGET/ (the smoke test replays it).
import { mkdirSync } from 'node:fs';
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
  (a, i) =>
    !a.startsWith('-') && !['--runs', '--seed', '--max-total-time', '--jobs'].includes(args[i - 1]),
);
if (target === undefined) {
  console.error(
    'usage: npm run fuzz -- TARGET|all|make-corpus|native:TARGET|native:all ' +
      '[--runs N] [--seed S] [--max-total-time SECONDS] [--jobs N] [-libfuzzer_flag=VALUE]',
  );
  process.exit(2);
}
if (target.startsWith('native:')) process.exit(runNative(target.slice('native:'.length)));
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

/** Builds and runs native libFuzzer targets; returns the exit status. */
function runNative(name) {
  const fuzzDir = join(root, 'native/fuzz');
  const all = ['bridge_request', 'clipboard', 'policy', 'text_sanitize', 'host_events'];
  const names = name === 'all' ? all : [name];
  if (!names.every((n) => all.includes(n))) {
    console.error(`unknown native target ${name}: one of ${all.join(', ')} or all`);
    return 2;
  }
  const make = spawnSync('make', ['-C', fuzzDir, '-j2'], { stdio: 'inherit' });
  if (make.status !== 0) return make.status ?? 1;
  for (const n of names) {
    const work = join(root, 'tests/artifacts/native-fuzz', n);
    const crashes = join(fuzzDir, 'crashes', n);
    mkdirSync(work, { recursive: true });
    mkdirSync(crashes, { recursive: true });
    const jobs = opt('--jobs', undefined);
    const flags = [
      `-runs=${opt('--runs', '1000000')}`,
      // With --jobs, one seed would make every job try the same mutations: libFuzzer seeds each
      // job itself unless --seed is given.
      ...(jobs === undefined || args.includes('--seed') ? [`-seed=${opt('--seed', '1')}`] : []),
      `-artifact_prefix=${crashes}/`,
      '-print_final_stats=1',
    ];
    const seconds = opt('--max-total-time', undefined);
    if (seconds !== undefined) flags.push(`-max_total_time=${seconds}`);
    // --jobs N: N processes side by side (each runs --runs inputs; logs in fuzz-JOB.log).
    if (jobs !== undefined) flags.push(`-jobs=${jobs}`, `-workers=${jobs}`);
    // Any -flag=value (one dash) goes to libFuzzer as it is, e.g. -detect_leaks=0.
    flags.push(...args.filter((a) => /^-[a-z_]+=/.test(a)));
    const r = spawnSync(join(fuzzDir, 'build', n), [...flags, work, join(fuzzDir, 'corpus', n)], {
      stdio: 'inherit',
      cwd: work,
    });
    if (r.status !== 0) return r.status ?? 1;
  }
  return 0;
}
