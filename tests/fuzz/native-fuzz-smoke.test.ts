/**
 * The smoke run of the native libFuzzer targets (native/fuzz: the bridge fed as a guest
 * connection, its clipboard relay driven from guest and host, the shm/dmabuf checks and copies,
 * the text sanitizer, its reading of raw host bytes), built with clang under
 * ASan + UBSan: a fixed seed and a fixed number of executions each, then the replay of every
 * saved finding under `native/fuzz/crashes/`. Any sanitizer report, leak, crash or hang fails.
 * `npm run build` builds the targets; the `make` here is then a no-op (it builds them when not).
 * Long runs: `npm run fuzz -- native:TARGET --runs N`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itNeeds, missingTool } from '../helpers/capability.js';

const FUZZ_DIR = path.resolve(import.meta.dirname, '../../native/fuzz');
/** Executions per target: about 3 s each on this machine's shared cores. */
const SMOKE_RUNS: Record<string, number> = {
  bridge_request: 4000,
  // Slower per input (syncs through three threads; libFuzzer reruns inputs for leaks early on).
  clipboard: 600,
  policy: 30_000,
  text_sanitize: 100_000,
  host_events: 20_000,
};
const missing = missingTool(['clang++', 'make', 'pkg-config']);
const work = mkdtempSync(path.join(tmpdir(), 'droidway-native-fuzz-'));
let built: { status: number | null; output: string } | undefined;

beforeAll(() => {
  if (missing !== null) return;
  const r = spawnSync('make', ['-C', FUZZ_DIR, '-j2'], { encoding: 'utf8', timeout: 170_000 });
  built = { status: r.status, output: `${r.stdout}${r.stderr}` };
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs a target binary; what a user would look at: the exit status and the sanitizer text. */
function libFuzzer(target: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(path.join(FUZZ_DIR, 'build', target), args, {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function expectClean(run: { status: number | null; output: string }): void {
  const reports = run.output
    .split('\n')
    .filter((l) => /ERROR: |runtime error:|SUMMARY: |deadly signal|Test unit written/.test(l));
  expect(reports).toEqual([]);
  expect(run.status).toBe(0);
}

describe('native fuzz smoke run (seed 1)', () => {
  itNeeds('the targets build with clang, libFuzzer, ASan and UBSan', missing, () => {
    expect(built?.output ?? 'not built').not.toMatch(/error:/);
    expect(built?.status).toBe(0);
  });

  for (const [target, runs] of Object.entries(SMOKE_RUNS)) {
    itNeeds(
      `${target}: ${runs} executions without a sanitizer report, crash, leak or hang`,
      missing,
      () => {
        expect(built?.status).toBe(0);
        const corpus = path.join(work, target);
        const artifacts = path.join(work, `${target}-artifacts`);
        rmSync(corpus, { recursive: true, force: true });
        spawnSync('mkdir', ['-p', corpus, artifacts]);
        const run = libFuzzer(target, [
          '-seed=1',
          `-runs=${runs}`,
          '-timeout=10',
          `-artifact_prefix=${artifacts}/`,
          corpus,
          path.join(FUZZ_DIR, 'corpus', target),
        ]);
        expectClean(run);
        expect(run.output).toContain(`Done ${runs} runs`);
        // The seeds reach the code: coverage well past what an empty input reaches.
        const cov = /INITED cov: (\d+)/.exec(run.output);
        expect(Number(cov?.[1])).toBeGreaterThan(100);
      },
      60_000,
    );
  }

  for (const target of Object.keys(SMOKE_RUNS)) {
    const dir = path.join(FUZZ_DIR, 'crashes', target);
    const files = existsSync(dir) ? readdirSync(dir) : [];
    if (files.length === 0) continue;
    itNeeds(`${target}: the ${files.length} saved findings stay fixed`, missing, () => {
      expect(built?.status).toBe(0);
      expectClean(libFuzzer(target, ['-timeout=10', ...files.map((f) => path.join(dir, f))]));
    });
  }
});
