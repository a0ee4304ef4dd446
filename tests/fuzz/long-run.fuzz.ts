/**
 * A long fuzz run, started by `npm run fuzz -- TARGET [--runs N] [--seed S]` (see run.js, which
 * passes them as FUZZ_TARGET, FUZZ_RUNS, FUZZ_SEED). `all` runs every target; `make-corpus`
 * rewrites the tool-made seeds. Findings are written to `tests/fuzz/crashes/<target>/` and
 * fail the run.
 */
import { expect, it } from 'vitest';
import { fuzz, type FuzzStats } from './engine.js';
import { makeCorpus } from './make-corpus.js';
import { TARGETS } from './targets/index.js';

const name = process.env.FUZZ_TARGET ?? 'all';
const runs = Number(process.env.FUZZ_RUNS ?? '100000');
const seed = Number(process.env.FUZZ_SEED ?? '1');

it(`fuzz ${name}`, async () => {
  if (name === 'make-corpus') {
    for (const f of makeCorpus()) console.log(`wrote ${f}`);
    return;
  }
  const targets = name === 'all' ? [...TARGETS.values()] : [TARGETS.get(name)];
  if (targets[0] === undefined)
    throw new Error(`no fuzz target ${name}; targets: ${[...TARGETS.keys()].join(', ')}`);
  const all: FuzzStats[] = [];
  for (const t of targets) {
    const s = await fuzz(t!, { runs, seed, hangMs: 10_000 });
    all.push(s);
    console.log(
      `${s.target}: ${s.executions} executions in ${s.seconds.toFixed(1)} s (${s.perSecond.toFixed(0)}/s), ` +
        `${s.accepted} accepted, ${s.refused} refused, ${s.distinctOutcomes} distinct outcomes, ` +
        `rss growth ≤ ${(s.maxRssGrowth / 1048576).toFixed(0)} MiB, ${s.findings.length} findings`,
    );
    for (const f of s.findings)
      console.log(
        `  ${f.kind} ${f.file ?? ''}\n  ${f.detail.split('\n').slice(0, 4).join('\n  ')}`,
      );
  }
  expect(all.flatMap((s) => s.findings.map((f) => `${s.target}: ${f.kind}`))).toEqual([]);
});
