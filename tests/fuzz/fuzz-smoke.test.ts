/**
 * The smoke run of every JavaScript fuzz target (fixed seed, a fixed small budget each: the
 * same inputs every run), and the replay of every saved finding under `tests/fuzz/crashes/`.
 * Long runs: `npm run fuzz -- TARGET --runs N --seed S`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CORPUS_DIR, CRASH_DIR, corpusFiles, execute, fuzz } from './engine.js';
import { Mutator, Prng } from './mutator.js';
import { TARGETS } from './targets/index.js';

/** Executions per target in the smoke run: file-backed targets are slower. */
const SMOKE_RUNS: Record<string, number> = {
  zip: 2000,
  signatures: 1000,
  'v1-signature': 1000,
};
const DEFAULT_RUNS = 3000;

afterAll(async () => {
  for (const t of TARGETS.values()) await t.close?.();
});

describe('fuzz smoke run (seed 1)', () => {
  for (const target of TARGETS.values()) {
    it(`${target.name}: typed refusals or results only, within time and memory caps`, async () => {
      const stats = await fuzz(target, {
        runs: SMOKE_RUNS[target.name] ?? DEFAULT_RUNS,
        seed: 1,
        save: false,
      });
      expect(stats.findings.map((f) => `${f.kind}: ${f.detail}`)).toEqual([]);
      expect(stats.executions).toBe(SMOKE_RUNS[target.name] ?? DEFAULT_RUNS);
      // The seeds parse and the mutants reach more than one refusal: the target is not inert.
      expect(stats.accepted).toBeGreaterThan(0);
      expect(stats.distinctOutcomes).toBeGreaterThan(3);
    }, 20_000);
  }
});

describe('the mutator', () => {
  it('replays the same inputs from the same seed, and others from another seed', () => {
    const corpus = [Buffer.from('PK\x03\x04 seed one'), Buffer.from('{"id":1}')];
    const draw = (seed: number): string[] => {
      const m = new Mutator(new Prng(seed), { dictionary: ['"x"'] });
      return Array.from({ length: 200 }, (_, i) =>
        m.mutate(corpus[i % 2]!, corpus).toString('hex'),
      );
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(8)).not.toEqual(draw(7));
    // Mutants differ from their parents, and the input is not modified in place.
    expect(corpus[0]!.toString('latin1')).toBe('PK\x03\x04 seed one');
    expect(new Set(draw(7)).size).toBeGreaterThan(150);
  });

  it('keeps mutants within the target’s length cap', () => {
    const m = new Mutator(new Prng(1), { maxLength: 64 });
    const big = Buffer.alloc(60, 1);
    for (let i = 0; i < 500; i++) expect(m.mutate(big, [big]).length).toBeLessThanOrEqual(64);
  });
});

describe('the tool-made seeds reach the parsers they are for', () => {
  it('the openssl-signed signing blocks verify in the target’s zip', async () => {
    const target = TARGETS.get('signatures')!;
    const seeds = corpusFiles(CORPUS_DIR, 'signatures');
    expect(seeds.length).toBeGreaterThanOrEqual(3);
    for (const seed of seeds) {
      const r = await execute(target, seed, 2000);
      expect(r).toMatchObject({
        outcome: 'ok',
        message: expect.stringMatching(/v2:true|v3:true/) as unknown,
      });
    }
  });

  it('the openssl cms block passes v1 verification in the target’s zip', async () => {
    const [block] = corpusFiles(CORPUS_DIR, 'v1-signature');
    expect(await execute(TARGETS.get('v1-signature')!, block!, 2000)).toEqual({
      outcome: 'ok',
      message: 'ok',
    });
  });

  it('the host’s probe report parses', async () => {
    const [report] = corpusFiles(CORPUS_DIR, 'probe-output');
    expect(await execute(TARGETS.get('probe-output')!, report!, 2000)).toEqual({
      outcome: 'ok',
      message: 'ok',
    });
  });
});

describe('saved fuzz findings stay fixed', () => {
  const dirs = existsSync(CRASH_DIR) ? readdirSync(CRASH_DIR) : [];
  it('every crash directory names a target', () => {
    for (const d of dirs) expect(TARGETS.has(d), d).toBe(true);
  });
  for (const d of dirs) {
    const target = TARGETS.get(d);
    if (target === undefined) continue;
    for (const f of readdirSync(path.join(CRASH_DIR, d))) {
      it(`${d}/${f}`, async () => {
        const r = await execute(target, readFileSync(path.join(CRASH_DIR, d, f)), 2000);
        expect(['ok', 'refused']).toContain((r as { outcome?: string }).outcome);
      });
    }
  }
});
