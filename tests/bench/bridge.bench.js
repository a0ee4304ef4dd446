// The display bridge versus weston directly, in one run, with the same C client
// (baseline/wl-bench-client.c) against weston 10 headless:
// - round trip: one `wl_display_sync` answered (p50, p99); through the bridge it is relayed to
//   weston on the client's own host connection, so the difference is the bridge's added latency;
// - commit: attach+damage+commit of a pre-made 64×64 sealed-memfd shm buffer, with a
//   `wl_display_roundtrip` every BATCH commits so every commit has been processed by weston;
//   reported as time per commit (lower is better, as for every row here);
// - bytes copied: the bridge's own counter over every bench client (must be 0).
// Direct and bridged runs alternate and the median of each is reported.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonPath = join(root, 'native', 'build', 'Release', 'droidway_native.node');
const clientSrc = join(root, 'tests', 'bench', 'baseline', 'wl-bench-client.c');
const clientBin = join(root, 'tests', 'artifacts', 'bench', 'wl-bench-client');
const BATCH = 100;

function which(tool) {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, tool)));
}

async function waitFor(what, probe, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs the client once against `display` (an absolute socket path); returns its figures in ns. */
async function measure(display, runtimeDir, syncs, commits) {
  const { stdout } = await run(clientBin, [String(syncs), String(commits), String(BATCH)], {
    env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, WAYLAND_DISPLAY: display },
    timeout: 60_000,
  });
  const [p50, p99, commit] = stdout.trim().split(' ').map(Number);
  if (![p50, p99, commit].every((n) => Number.isFinite(n) && n > 0)) {
    throw new Error(`wl-bench-client printed '${stdout.trim()}'`);
  }
  return { p50, p99, commit };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export default {
  name: 'bridge',
  unavailable() {
    for (const tool of ['weston', 'gcc', 'pkg-config']) {
      if (!which(tool)) return `${tool} is not installed`;
    }
    try {
      execFileSync('pkg-config', ['--exists', 'wayland-client']);
    } catch {
      return 'libwayland-client headers are not installed (Debian: libwayland-dev)';
    }
    if (!existsSync(addonPath)) return 'native addon not built (npm run build:native)';
    return null;
  },
  async run({ quick }) {
    mkdirSync(dirname(clientBin), { recursive: true });
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'wayland-client'])
      .toString()
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    execFileSync('gcc', [
      '-O2',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-o',
      clientBin,
      clientSrc,
      ...flags,
    ]);
    const native = createRequire(import.meta.url)(addonPath);
    if (typeof native.DisplayBridge !== 'function') {
      throw new Error('the native module has no DisplayBridge (rebuild it)');
    }
    const syncs = quick ? 1_000 : 20_000;
    const commits = quick ? 2_000 : 40_000;
    const rounds = quick ? 1 : 5;

    // mkdtemp makes the directory 0700, as libwayland wants a runtime directory.
    const dir = mkdtempSync('/tmp/droidway-bench-bridge-');
    const hostSocket = join(dir, 'host-0');
    const bridgeSocket = join(dir, 'bridge-0');
    let weston = null;
    let bridge = null;
    try {
      weston = spawn(
        'weston',
        [
          '--backend=headless-backend.so',
          '--use-pixman',
          '--socket=host-0',
          '--idle-time=0',
          '--width=1024',
          '--height=768',
        ],
        { env: { ...process.env, XDG_RUNTIME_DIR: dir }, stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => weston.once('exit', resolve));
      await Promise.race([
        waitFor('weston socket', () => (existsSync(hostSocket) ? true : undefined)),
        exited.then((code) => {
          throw new Error(`weston exited (${code}) before serving`);
        }),
      ]);

      const events = [];
      bridge = new native.DisplayBridge(
        {
          socketPath: bridgeSocket,
          hostSocketPath: hostSocket,
          globals: ['wl_compositor', 'wl_shm'],
        },
        (event) => events.push(event),
      );
      await waitFor('bridge ready', () => {
        const failed = events.find((e) => e.type === 'error' || e.type === 'stopped');
        if (failed) throw new Error(`bridge did not start: ${failed.message ?? failed.reason}`);
        return events.find((e) => e.type === 'ready');
      });

      // One unmeasured run each warms weston, the bridge and the page cache.
      await measure(hostSocket, dir, 200, 200);
      await measure(bridgeSocket, dir, 200, 200);
      const direct = [];
      const bridged = [];
      for (let round = 0; round < rounds; round++) {
        direct.push(await measure(hostSocket, dir, syncs, commits));
        bridged.push(await measure(bridgeSocket, dir, syncs, commits));
      }
      const stats = bridge.stats();
      const bytesCopied = stats.clients.reduce((sum, c) => sum + c.bytesCopied, 0);
      const forwarded = stats.clients.reduce((sum, c) => sum + c.buffersForwarded.shm, 0);
      if (forwarded < commits) {
        throw new Error(`the bridge forwarded ${forwarded} shm buffers, expected ≥ ${commits}`);
      }
      const pick = (runs, key) => median(runs.map((r) => r[key])) / 1000;
      const p50Direct = pick(direct, 'p50');
      const p50Bridge = pick(bridged, 'p50');
      const commitDirect = pick(direct, 'commit');
      const commitBridge = pick(bridged, 'commit');
      return [
        {
          metric: `round trip p50 (+${(p50Bridge - p50Direct).toFixed(1)} µs added)`,
          value: p50Bridge,
          baseline: p50Direct,
          baselineName: 'direct to weston',
          unit: 'µs',
          goal: 'added < 50 µs',
        },
        {
          metric: 'round trip p99',
          value: pick(bridged, 'p99'),
          baseline: pick(direct, 'p99'),
          baselineName: 'direct to weston',
          unit: 'µs',
        },
        {
          metric: `shm commit, sync every ${BATCH} (throughput ${(commitDirect / commitBridge).toFixed(2)}× direct)`,
          value: commitBridge,
          baseline: commitDirect,
          baselineName: 'direct to weston',
          unit: 'µs/commit',
          goal: '≤ 1.11× (throughput ≥ 0.9×)',
        },
        {
          metric: `bytes copied (${forwarded} buffers forwarded)`,
          value: bytesCopied,
          baseline: 0,
          baselineName: 'zero copy',
          unit: 'B',
          goal: '0',
        },
      ];
    } finally {
      bridge?.stop();
      if (weston !== null && weston.exitCode === null) {
        const gone = new Promise((resolve) => weston.once('exit', resolve));
        weston.kill();
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
