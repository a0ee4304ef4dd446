#!/usr/bin/env node
// Runs every benchmark in tests/bench/*.bench.js and prints one table: each row is Droidway's
// figure, a baseline measured in the same run, what is compared (whole process vs whole process,
// or a warm in-process call vs the same work in C), and their ratio (Droidway / baseline: the
// median of pairwise ratios where the bench alternated the two). The load average at the start
// and the end says how quiet the machine was.
// Usage: npm run bench [-- --quick] [-- --json FILE] [-- NAME...]
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIdx = args.indexOf('--json');
const jsonFile = jsonIdx >= 0 ? args[jsonIdx + 1] : null;
const only = args.filter((a, i) => !a.startsWith('--') && (jsonIdx < 0 || i !== jsonIdx + 1));

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .sort();
const loadAtStart = os.loadavg();
const startedAt = new Date();
console.error(`bench: load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);
const rows = [];
let failed = false;
for (const file of files) {
  const mod = await import(pathToFileURL(join(here, file)).href);
  const bench = mod.default;
  if (only.length > 0 && !only.includes(bench.name)) continue;
  const skip = await bench.unavailable?.();
  if (skip) {
    console.error(`bench ${bench.name}: not run: ${skip}`);
    continue;
  }
  try {
    for (const row of await bench.run({ quick })) rows.push({ bench: bench.name, ...row });
  } catch (err) {
    failed = true;
    console.error(`bench ${bench.name} failed: ${err instanceof Error ? err.stack : err}`);
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
const loadAtEnd = os.loadavg();
const fmtLoad = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(
  `\nDroidway benchmarks — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${cpu}, Linux ${os.release()}, Node ${process.version}; load average ${fmtLoad(loadAtStart)} at the start, ${fmtLoad(loadAtEnd)} at the end\n`,
);
const header = [
  'benchmark',
  'metric',
  'compared',
  'droidway',
  'baseline',
  'ratio',
  'goal',
  'detail',
];
const table = rows.map((r) => {
  const ratio = r.ratio ?? (r.baseline ? r.value / r.baseline : undefined);
  return [
    r.bench,
    r.metric,
    r.compared ?? '',
    `${fmt(r.value)} ${r.unit}`,
    r.baseline === undefined ? '—' : `${fmt(r.baseline)} ${r.unit} (${r.baselineName})`,
    ratio === undefined ? '—' : `${ratio.toFixed(2)}×`,
    r.goal ?? '',
    r.detail ?? '',
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const row of table) console.log(line(row));
if (jsonFile) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(
    jsonFile,
    JSON.stringify({ date: startedAt.toISOString(), cpu, loadAtStart, loadAtEnd, rows }, null, 2),
  );
}
process.exitCode = failed ? 1 : 0;

function fmt(v) {
  if (v === undefined || v === null) return '—';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
