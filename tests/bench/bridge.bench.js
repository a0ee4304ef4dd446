// The display bridge versus weston directly, in one run, with the same C client
// (baseline/wl-bench-client.c) against weston 10 headless:
// - round trip: one `wl_display_sync` answered (p50, p99); through the bridge it is relayed to
//   weston on the client's own host connection, so the difference is the bridge's added latency;
// - commit: attach+damage+commit of a pre-made 64×64 sealed-memfd shm buffer, with a
//   `wl_display_roundtrip` every BATCH commits so every commit has been processed by weston;
//   reported as time per commit (lower is better, as for every row here);
// - the same client through a C relay that pumps bytes and fds and checks nothing
//   (baseline/byte-relay.c): what any process in the middle costs on this machine;
// - the same bridge with its polling off (pollMaxUs 0, native/src/bridge/adaptive_poll.h), and
//   the CPU the in-process bridge took during the commit runs with and without it (this
//   process's CPU time over the run's wall time; the bench's own thread only waits meanwhile);
// - bytes copied: the bridge's own counter over every bench client (must be 0);
// - the cost of running the bridge in its own process (droidway-bridge, as sessions do) against
//   the in-process addon bridge: time from start to 'ready' (a session start waits for it), and
//   the round trip through each.
// Direct and bridged runs alternate and the median of each is reported.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonPath = join(root, 'native', 'build', 'Release', 'droidway_native.node');
const clientSrc = join(root, 'tests', 'bench', 'baseline', 'wl-bench-client.c');
const clientBin = join(root, 'tests', 'artifacts', 'bench', 'wl-bench-client');
const relaySrc = join(root, 'tests', 'bench', 'baseline', 'byte-relay.c');
const relayBin = join(root, 'tests', 'artifacts', 'bench', 'byte-relay');
const bridgeExe = join(root, 'native', 'build', 'bridge-process', 'droidway-bridge');
const GLOBALS = ['wl_compositor', 'wl_shm'];
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

/** Starts the in-process addon bridge; resolves with it and the ms until its 'ready'. */
function startAddonBridge(native, socketPath, hostSocketPath, extra = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let bridge = null;
    const options = { socketPath, hostSocketPath, globals: GLOBALS, ...extra };
    bridge = new native.DisplayBridge(options, (event) => {
      if (event.type === 'ready') resolve({ bridge, readyMs: performance.now() - started });
      if (event.type === 'error') reject(new Error(`bridge did not start: ${event.message}`));
    });
  });
}

/** Starts a droidway-bridge process; resolves with it and the ms from spawn to its 'ready'. */
function startBridgeProcess(socketPath, hostSocketPath) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bridgeExe, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const config = { socketPath, hostSocketPath, globals: GLOBALS };
    // As a session host run by root does: the bridge drops to nobody once set up.
    if (process.getuid?.() === 0) Object.assign(config, { runAsUid: 65534, runAsGid: 65534 });
    child.stdin.write(`${JSON.stringify(config)}\n`);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const event = JSON.parse(line);
      if (event.type === 'ready') resolve({ child, readyMs: performance.now() - started });
      else reject(new Error(`droidway-bridge did not start: ${line}`));
    });
    child.once('error', reject);
  });
}

async function stopBridgeProcess(child, socketPath) {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end('stop\n');
    await gone;
  }
  // The confined process may not remove its own socket; its parent does.
  rmSync(socketPath, { force: true });
}

/** A difference with its sign, `+3.1` or `−2.0` (never `+-2.0`; `±0.0` when it rounds to 0). */
function signed(value, digits) {
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `±${text}`;
  return `${value < 0 ? '−' : '+'}${text}`;
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
    if (!existsSync(bridgeExe)) return 'droidway-bridge not built (npm run build:native)';
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
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', relayBin, relaySrc]);
    const native = createRequire(import.meta.url)(addonPath);
    if (typeof native.DisplayBridge !== 'function') {
      throw new Error('the native module has no DisplayBridge (rebuild it)');
    }
    const syncs = quick ? 1_000 : 20_000;
    const commits = quick ? 2_000 : 40_000;
    const rounds = quick ? 1 : 7;

    // mkdtemp makes the directory 0700, as libwayland wants a runtime directory.
    const dir = mkdtempSync('/tmp/droidway-bench-bridge-');
    const hostSocket = join(dir, 'host-0');
    const bridgeSocket = join(dir, 'bridge-0');
    const processSocket = join(dir, 'bridge-p');
    const relaySocket = join(dir, 'relay-0');
    const quietSocket = join(dir, 'bridge-q');
    let relay = null;
    let weston = null;
    let bridge = null;
    let quiet = null;
    let bridgeProcess = null;
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

      // Start-to-ready of each kind, alternating, fresh sockets each time.
      const readyAddon = [];
      const readyProcess = [];
      for (let i = 0; i < (quick ? 3 : 9); i++) {
        const a = await startAddonBridge(native, join(dir, `ready-a-${i}`), hostSocket);
        readyAddon.push(a.readyMs);
        a.bridge.stop();
        const p = await startBridgeProcess(join(dir, `ready-p-${i}`), hostSocket);
        readyProcess.push(p.readyMs);
        await stopBridgeProcess(p.child, join(dir, `ready-p-${i}`));
      }

      bridge = (await startAddonBridge(native, bridgeSocket, hostSocket)).bridge;
      quiet = (await startAddonBridge(native, quietSocket, hostSocket, { pollMaxUs: 0 })).bridge;
      bridgeProcess = (await startBridgeProcess(processSocket, hostSocket)).child;
      relay = spawn(relayBin, [relaySocket, hostSocket], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve, reject) => {
        relay.stdout.once('data', resolve);
        relay.once('exit', (code) => reject(new Error(`byte-relay exited (${code})`)));
      });

      // One unmeasured run each warms weston, the bridges and the page cache.
      await measure(hostSocket, dir, 200, 200);
      await measure(bridgeSocket, dir, 200, 200);
      await measure(processSocket, dir, 200, 200);
      await measure(relaySocket, dir, 200, 200);
      await measure(quietSocket, dir, 200, 200);
      const direct = [];
      const bridged = [];
      const processed = [];
      const relayed = [];
      const quieted = [];
      /** Measures through an in-process bridge, with this process's CPU share over the run. */
      const measureCpu = async (socket) => {
        const cpu = process.cpuUsage();
        const wall = performance.now();
        const figures = await measure(socket, dir, syncs, commits);
        const used = process.cpuUsage(cpu);
        return { ...figures, cpu: (used.user + used.system) / 1000 / (performance.now() - wall) };
      };
      for (let round = 0; round < rounds; round++) {
        direct.push(await measure(hostSocket, dir, syncs, commits));
        bridged.push(await measureCpu(bridgeSocket));
        processed.push(await measure(processSocket, dir, syncs, commits));
        relayed.push(await measure(relaySocket, dir, syncs, commits));
        quieted.push(await measureCpu(quietSocket));
      }
      const stats = bridge.stats();
      const bytesCopied = stats.clients.reduce((sum, c) => sum + c.bytesCopied, 0);
      const forwarded = stats.clients.reduce((sum, c) => sum + c.buffersForwarded.shm, 0);
      if (forwarded < commits) {
        throw new Error(`the bridge forwarded ${forwarded} shm buffers, expected ≥ ${commits}`);
      }
      const pick = (runs, key) => median(runs.map((r) => r[key])) / 1000;
      const cpuOn = median(bridged.map((r) => r.cpu)) * 100;
      const cpuOff = median(quieted.map((r) => r.cpu)) * 100;
      const commitQuiet = pick(quieted, 'commit');
      const poll = bridge.stats().poll;
      const p50Direct = pick(direct, 'p50');
      const p50Bridge = pick(bridged, 'p50');
      const commitDirect = pick(direct, 'commit');
      const commitBridge = pick(bridged, 'commit');
      const p50Process = pick(processed, 'p50');
      const readyA = median(readyAddon);
      const readyP = median(readyProcess);
      return [
        {
          metric: `bridge start to ready, own process (${signed(readyP - readyA, 1)} ms)`,
          value: readyP,
          baseline: readyA,
          baselineName: 'in-process bridge',
          compared: 'C client via bridge process vs via in-process bridge',
          unit: 'ms',
        },
        {
          metric: `round trip p50, own process (${signed(p50Process - p50Bridge, 1)} µs)`,
          value: p50Process,
          baseline: p50Bridge,
          baselineName: 'in-process bridge',
          compared: 'C client via bridge process vs via in-process bridge',
          unit: 'µs',
        },
        {
          metric: 'shm commit via own process',
          value: pick(processed, 'commit'),
          baseline: commitBridge,
          baselineName: 'in-process bridge',
          compared: 'C client via bridge process vs via in-process bridge',
          unit: 'µs/commit',
        },
        {
          metric: `round trip p50 (${signed(p50Bridge - p50Direct, 1)} µs added)`,
          value: p50Bridge,
          baseline: p50Direct,
          baselineName: 'direct to weston',
          compared: 'C client via bridge vs same client direct',
          unit: 'µs',
          goal: 'added < 50 µs',
        },
        {
          metric: 'round trip p99',
          value: pick(bridged, 'p99'),
          baseline: pick(direct, 'p99'),
          baselineName: 'direct to weston',
          compared: 'C client via bridge vs same client direct',
          unit: 'µs',
        },
        {
          metric: `shm commit, sync every ${BATCH} (throughput ${(commitDirect / commitBridge).toFixed(2)}× direct)`,
          value: commitBridge,
          baseline: commitDirect,
          baselineName: 'direct to weston',
          compared: 'C client via bridge vs same client direct',
          unit: 'µs/commit',
          goal: '≤ 1.11× (throughput ≥ 0.9×)',
        },
        {
          metric: `shm commit, polling off (throughput ${(commitDirect / commitQuiet).toFixed(2)}× direct)`,
          value: commitQuiet,
          baseline: commitDirect,
          baselineName: 'direct to weston',
          compared: 'C client via bridge with pollMaxUs 0 vs same client direct',
          unit: 'µs/commit',
        },
        {
          metric: `bridge CPU during the runs, polling vs off (${poll.hits} polls found a message, ${poll.misses} did not)`,
          value: cpuOn,
          baseline: cpuOff,
          baselineName: 'polling off',
          compared: 'in-process bridge, % of one core over each whole client run',
          unit: '% of a core',
        },
        {
          // What a process in the middle costs at all: the same client through a C relay that
          // parses and checks nothing (baseline/byte-relay.c), against direct and the bridge.
          metric: `shm commit, sync every ${BATCH}, byte relay (throughput ${(commitDirect / pick(relayed, 'commit')).toFixed(2)}× direct)`,
          value: commitBridge,
          baseline: pick(relayed, 'commit'),
          baselineName: 'C byte relay, no checks',
          compared: 'C client via bridge vs same client via a C byte relay',
          unit: 'µs/commit',
        },
        {
          metric: `round trip p50 via the byte relay (${signed(pick(relayed, 'p50') - p50Direct, 1)} µs vs direct)`,
          value: p50Bridge,
          baseline: pick(relayed, 'p50'),
          baselineName: 'C byte relay, no checks',
          compared: 'C client via bridge vs same client via a C byte relay',
          unit: 'µs',
        },
        {
          metric: `bytes copied (${forwarded} buffers forwarded)`,
          value: bytesCopied,
          baseline: 0,
          baselineName: 'zero copy',
          compared: 'bytes counted by the bridge',
          unit: 'B',
          goal: '0',
        },
      ];
    } finally {
      relay?.kill();
      bridge?.stop();
      quiet?.stop();
      if (bridgeProcess !== null) await stopBridgeProcess(bridgeProcess, processSocket);
      if (weston !== null && weston.exitCode === null) {
        const gone = new Promise((resolve) => weston.once('exit', resolve));
        weston.kill();
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
