/**
 * The fuzz loop shared by the smoke test (`fuzz-smoke.test.ts`), the long runs (`npm run fuzz`)
 * and the replay of saved crashes. A target says which errors are its typed refusals; anything
 * else thrown, a run over the time cap, or resident memory growing past the cap is a finding,
 * and its input is written to `tests/fuzz/crashes/<target>/<sha1>.bin`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Mutator, Prng } from './mutator.js';

/** One fuzz target: a parser of hostile bytes and what it may throw. */
export interface FuzzTarget {
  name: string;
  /** Built-in seeds (the files under `tests/fuzz/corpus/<name>/` are added to them). */
  seeds: () => Buffer[] | Promise<Buffer[]>;
  /** Feeds one input to the parser; resolves with anything, or throws. */
  run: (input: Buffer) => unknown;
  /** A short name for what an accepted input gave (default `ok`): new names join the corpus. */
  outcome?: (result: unknown) => string;
  /** True when `e` is the module's own typed refusal. */
  typed: (e: unknown) => boolean;
  /** Tokens for the mutator (JSON keys and values, magic words). */
  dictionary?: readonly (string | Buffer)[];
  /** Largest mutant (default 64 KiB). */
  maxLength?: number;
  /** Releases what `run` set up (temp dirs). */
  close?: () => Promise<void> | void;
}

/** One broken invariant. */
export interface Finding {
  kind: 'untyped-error' | 'time-cap' | 'memory-cap';
  detail: string;
  /** Where the input was written (absent when not saved). */
  file?: string;
  input: Buffer;
}

/** Options of `fuzz`. */
export interface FuzzOptions {
  runs: number;
  seed: number;
  /** Longest time one input may take (ms). */
  timeCapMs?: number;
  /** Most resident memory may grow over the run's start (bytes). */
  rssCapBytes?: number;
  /** Write findings under `tests/fuzz/crashes/<target>/` (default true). */
  save?: boolean;
  /**
   * A parser stuck in a synchronous loop never returns to the loop to be timed: with a hang
   * time (ms), a watchdog thread saves the running input to `crashes/<target>/hang-<sha1>.bin`
   * and kills the process when one input runs that long.
   */
  hangMs?: number;
}

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { mkdirSync, writeFileSync } = require('node:fs');
const { sab, dir, hangMs } = workerData;
const meta = new Int32Array(sab, 0, 2);
const stamp = new Float64Array(sab, 8, 1);
const data = new Uint8Array(sab, 16);
setInterval(() => {
  if (Atomics.load(meta, 1) !== 1 || Date.now() - stamp[0] < hangMs) return;
  const input = Buffer.from(data.subarray(0, meta[0]));
  mkdirSync(dir, { recursive: true });
  const file = dir + '/hang-' + createHash('sha1').update(input).digest('hex') + '.bin';
  writeFileSync(file, input);
  process.stderr.write('fuzz: an input ran for more than ' + hangMs + ' ms, saved as ' + file + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 200);
`;

/** Starts the hang watchdog of `fuzz`; returns the hooks around each execution. */
function watchdog(
  target: string,
  hangMs: number,
  maxLength: number,
): { enter: (input: Buffer) => void; leave: () => void; stop: () => Promise<number> } {
  const sab = new SharedArrayBuffer(16 + maxLength);
  const meta = new Int32Array(sab, 0, 2);
  const stamp = new Float64Array(sab, 8, 1);
  const data = new Uint8Array(sab, 16);
  const worker = new Worker(WATCHDOG, {
    eval: true,
    workerData: { sab, dir: path.join(CRASH_DIR, target), hangMs },
  });
  worker.unref();
  return {
    enter: (input) => {
      const n = Math.min(input.length, maxLength);
      data.set(input.subarray(0, n));
      meta[0] = n;
      stamp[0] = Date.now();
      Atomics.store(meta, 1, 1);
    },
    leave: () => Atomics.store(meta, 1, 0),
    stop: () => worker.terminate(),
  };
}

/** The outcome of `fuzz`. */
export interface FuzzStats {
  target: string;
  executions: number;
  seconds: number;
  perSecond: number;
  /** Inputs the target accepted (no throw) / refused with its typed error. */
  accepted: number;
  refused: number;
  /** Distinct refusal messages (digits stripped): a rough measure of paths reached. */
  distinctOutcomes: number;
  maxRssGrowth: number;
  findings: Finding[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const CORPUS_DIR = path.join(here, 'corpus');
export const CRASH_DIR = path.join(here, 'crashes');

/** The stored corpus files of `target`. */
export function corpusFiles(dir: string, target: string): Buffer[] {
  const d = path.join(dir, target);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => readFileSync(path.join(d, f)));
}

function saveFinding(target: string, input: Buffer): string {
  const dir = path.join(CRASH_DIR, target);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${createHash('sha1').update(input).digest('hex')}.bin`);
  writeFileSync(file, input);
  return file;
}

/** The outcome of one input: accepted or refused (with a message), or a broken invariant. */
export type ExecResult =
  | { outcome: 'ok'; message: string }
  | { outcome: 'refused'; message: string }
  | ({ outcome: 'finding' } & Omit<Finding, 'input' | 'file'>);

/**
 * Runs one input and classifies the outcome: `ok`, `refused` (with its message) or a finding.
 */
export async function execute(
  target: FuzzTarget,
  input: Buffer,
  timeCapMs: number,
): Promise<ExecResult> {
  const started = performance.now();
  let result: ExecResult;
  try {
    const value = await target.run(input);
    result = { outcome: 'ok', message: target.outcome?.(value) ?? 'ok' };
  } catch (e) {
    if (!target.typed(e)) {
      const err = e as Error;
      return {
        outcome: 'finding',
        kind: 'untyped-error',
        detail: `${err?.name ?? typeof e}: ${err?.message ?? String(e)}\n${err?.stack ?? ''}`,
      };
    }
    result = { outcome: 'refused', message: (e as Error).message };
  }
  const took = performance.now() - started;
  if (took > timeCapMs)
    return {
      outcome: 'finding',
      kind: 'time-cap',
      detail: `took ${took.toFixed(0)} ms, cap ${timeCapMs} ms`,
    };
  return result;
}

/**
 * What tells one refusal from another: its message without numbers, quoted text and the
 * details of a JSON syntax error (which would make every broken input look new).
 */
function outcomeKey(message: string): string {
  return message
    .replace(/JSON.*$/s, 'JSON')
    .replace(/"[^"]*"|'[^']*'|“[^”]*”/g, '"…"')
    .replace(/[0-9]+/g, '#')
    .slice(0, 100);
}

/** Heap objects and buffers in use (what a leak grows). */
function liveMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function memoryBreakdown(): string {
  const m = process.memoryUsage();
  const mib = (n: number): string => `${(n / 1048576).toFixed(0)} MiB`;
  return `heap used ${mib(m.heapUsed)} of ${mib(m.heapTotal)}, external ${mib(m.external)}, array buffers ${mib(m.arrayBuffers)}`;
}

/** Fuzzes `target` for `options.runs` executions from `options.seed`. */
export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzStats> {
  const timeCapMs = options.timeCapMs ?? 2000;
  const rssCap = options.rssCapBytes ?? 256 * 1024 * 1024;
  const save = options.save ?? true;
  const corpus = [...(await target.seeds()), ...corpusFiles(CORPUS_DIR, target.name)];
  if (corpus.length === 0) throw new Error(`fuzz target ${target.name} has no seeds`);
  const seeds = corpus.length;
  // Half of the mutants start from a seed or an accepted input: refusals reach less deep.
  const good = [...corpus];
  const mutator = new Mutator(new Prng(options.seed), {
    dictionary: target.dictionary,
    maxLength: target.maxLength,
  });
  const rng = new Prng(options.seed ^ 0x5eed);
  const findings: Finding[] = [];
  const outcomes = new Set<string>();
  let accepted = 0;
  let refused = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  const rss0 = process.memoryUsage.rss();
  const live0 = liveMemory();
  let maxGrowth = 0;
  const dog =
    options.hangMs === undefined
      ? undefined
      : watchdog(
          target.name,
          options.hangMs,
          Math.max(target.maxLength ?? 65536, ...corpus.map((c) => c.length)),
        );
  const started = performance.now();
  for (let i = 0; i < options.runs; i++) {
    // Seeds first, as they are; then mutants of seeds and of inputs the target accepted.
    const input =
      i < seeds ? corpus[i]! : mutator.mutate(rng.pick(rng.below(2) === 0 ? good : corpus), corpus);
    dog?.enter(input);
    const r = await execute(target, input, timeCapMs);
    dog?.leave();
    if (r.outcome === 'ok' || r.outcome === 'refused') {
      if (r.outcome === 'ok') accepted++;
      else refused++;
      // Outcome feedback (a stand-in for coverage): a mutant with an outcome not seen before
      // (a new refusal message, digits aside, or a new kind of result) joins the corpus.
      const key = `${r.outcome}:${outcomeKey(r.message)}`;
      if (!outcomes.has(key)) {
        outcomes.add(key);
        if (i >= seeds && corpus.length < 512) {
          corpus.push(input);
          if (r.outcome === 'ok') good.push(input);
        }
      }
    } else {
      findings.push({
        kind: r.kind,
        detail: r.detail,
        input,
        file: save ? saveFinding(target.name, input) : undefined,
      });
    }
    if ((i & 63) === 0) {
      let growth = process.memoryUsage.rss() - rss0;
      // Over the cap: collect first (long runs expose gc), so garbage is not taken for a leak.
      if (growth > rssCap && gc !== undefined) {
        gc();
        growth = process.memoryUsage.rss() - rss0;
      }
      maxGrowth = Math.max(maxGrowth, growth);
      // Resident memory V8 or malloc keeps after a collection (free heap pages, fragments) is
      // not a leak: with gc exposed, a finding also needs live memory (heap objects, buffers)
      // to have grown by a quarter of the cap.
      const liveGrowth = gc === undefined ? Infinity : liveMemory() - live0;
      if (growth > rssCap && liveGrowth > rssCap / 4) {
        findings.push({
          kind: 'memory-cap',
          detail: `resident memory grew by ${growth} bytes (cap ${rssCap}) ${gc ? 'after' : 'without'} a full collection; ${memoryBreakdown()}`,
          input,
          file: save ? saveFinding(target.name, input) : undefined,
        });
        break;
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await dog?.stop();
  await target.close?.();
  return {
    target: target.name,
    executions: accepted + refused + findings.length,
    seconds,
    perSecond: (accepted + refused + findings.length) / seconds,
    accepted,
    refused,
    distinctOutcomes: outcomes.size,
    maxRssGrowth: maxGrowth,
    findings,
  };
}
