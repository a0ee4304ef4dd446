// Whole-process timing for the benchmarks: two commands run in turn (A B A B …) after a warm-up,
// each a fresh process, measured by the kernel's own accounting of the finished process
// (`wait4`: user and system CPU, peak RSS of the largest process of its tree) and a monotonic
// clock around it, so that a Node command and a C tool are compared the way a person waits for
// them. The runner is Python's standard library, started once per comparison, so its own start
// is in no figure. Ratios are taken pair by pair and their median reported, so a machine whose
// speed drifts during the run still compares like with like.
import { execFileSync } from 'node:child_process';

const RUNNER = String.raw`
import json, os, subprocess, sys, time
spec = json.loads(sys.argv[1])
def once(argv, env):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rssKiB": ru.ru_maxrss,
            "status": p.returncode}
env = dict(os.environ, **spec.get("env", {}))
for _ in range(spec["warmup"]):
    for argv in spec["commands"]:
        once(argv, env)
runs = [[] for _ in spec["commands"]]
for _ in range(spec["pairs"]):
    for i, argv in enumerate(spec["commands"]):
        runs[i].append(once(argv, env))
print(json.dumps(runs))
`;

/**
 * Runs `a` and `b` (argv arrays) alternately `pairs` times after `warmup` rounds and returns for
 * each its median wall and CPU seconds and peak RSS (MiB), plus the median of the pairwise
 * wall and CPU ratios a/b. Throws when a counted run exits non-zero.
 */
export function comparePairs(a, b, { pairs = 7, warmup = 1, env = {} } = {}) {
  const out = execFileSync(
    'python3',
    ['-c', RUNNER, JSON.stringify({ commands: [a, b], pairs, warmup, env })],
    { encoding: 'utf8', maxBuffer: 16 << 20 },
  );
  const [ra, rb] = JSON.parse(out);
  for (const [argv, runs] of [
    [a, ra],
    [b, rb],
  ]) {
    const bad = runs.find((r) => r.status !== 0);
    if (bad) throw new Error(`${argv.join(' ')} exited with status ${bad.status}`);
  }
  const summary = (runs) => ({
    wallMs: median(runs.map((r) => r.wall * 1000)),
    cpuMs: median(runs.map((r) => r.cpu * 1000)),
    rssMiB: median(runs.map((r) => r.rssKiB / 1024)),
  });
  return {
    a: summary(ra),
    b: summary(rb),
    wallRatio: median(ra.map((r, i) => r.wall / rb[i].wall)),
    cpuRatio: median(ra.map((r, i) => r.cpu / rb[i].cpu)),
    pairs,
  };
}

/** A row comparing two whole processes: wall medians, the pairwise ratio, CPU and peak RSS. */
export function processRow(metric, r, baselineName, goal) {
  return {
    metric,
    compared: 'process vs process',
    value: r.a.wallMs,
    baseline: r.b.wallMs,
    baselineName,
    unit: 'ms',
    ratio: r.wallRatio,
    detail: `CPU ${r.a.cpuMs.toFixed(0)} vs ${r.b.cpuMs.toFixed(0)} ms (${r.cpuRatio.toFixed(2)}×), peak RSS ${r.a.rssMiB.toFixed(0)} vs ${r.b.rssMiB.toFixed(0)} MiB, +${(r.a.wallMs - r.b.wallMs).toFixed(0)} ms wall, ${r.pairs} pairs`,
    goal,
  };
}

/** The median (upper middle for an even count). */
export function median(values) {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}
