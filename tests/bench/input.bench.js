// Input latency through the display bridge: a pointer motion and a key from the host compositor
// (sway headless, run as nobody by the input tests' helper tests/integration/helpers/sway.js) to the guest client,
// with the same client (baseline/input-latency-client.c) connected directly to sway and through a
// droidway-bridge process (as sessions run it: started by root, confined to nobody), alternating
// in one run. The client injects each event with a long-lived virtual pointer or keyboard on its
// own direct connection and stamps send and arrival with one CLOCK_MONOTONIC; one event is in
// flight at a time. The difference of the two distributions is the bridge's added latency.
// Figures only, no assertion on them.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startHeadlessSway, stopHeadlessSway, SWAY_800x600 } from '../integration/helpers/sway.js';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const clientSrc = join(root, 'tests', 'bench', 'baseline', 'input-latency-client.c');
const outDir = join(root, 'tests', 'artifacts', 'bench');
const clientBin = join(outDir, 'input-latency-client');
const bridgeExe = join(root, 'native', 'build', 'bridge-process', 'droidway-bridge');
const POINTER_XML = join(
  root,
  'tests',
  'fixtures',
  'bridge',
  'wlr-virtual-pointer-unstable-v1.xml',
);
const KEYBOARD_XML = join(root, 'tests', 'bench', 'baseline', 'virtual-keyboard-unstable-v1.xml');
const XDG_SHELL = '/usr/share/wayland-protocols/stable/xdg-shell/xdg-shell.xml';
const GLOBALS = ['wl_compositor', 'wl_shm', 'wl_seat', 'xdg_wm_base'];
const NOBODY = 65534;
// The output of SWAY_800x600.
const WIDTH = 800;
const HEIGHT = 600;

function which(tool) {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, tool)));
}

/** Builds the client (with its xdg-shell and virtual-pointer glue) into tests/artifacts/bench. */
function buildClient() {
  mkdirSync(outDir, { recursive: true });
  const code = [];
  for (const [name, xml] of [
    ['xdg-shell', XDG_SHELL],
    ['wlr-virtual-pointer-unstable-v1', POINTER_XML],
    ['virtual-keyboard-unstable-v1', KEYBOARD_XML],
  ]) {
    execFileSync('wayland-scanner', [
      'client-header',
      xml,
      join(outDir, `${name}-client-protocol.h`),
    ]);
    execFileSync('wayland-scanner', ['private-code', xml, join(outDir, `${name}-protocol.c`)]);
    code.push(join(outDir, `${name}-protocol.c`));
  }
  execFileSync('gcc', [
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    `-I${outDir}`,
    '-o',
    clientBin,
    clientSrc,
    ...code,
    '-lwayland-client',
  ]);
}

/** Starts a droidway-bridge process in front of `hostSocketPath`; resolves once it is ready. */
function startBridgeProcess(socketPath, hostSocketPath) {
  return new Promise((resolve, reject) => {
    const child = spawn(bridgeExe, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const config = {
      socketPath,
      hostSocketPath,
      globals: GLOBALS,
      runAsUid: NOBODY,
      runAsGid: NOBODY,
    };
    child.stdin.write(`${JSON.stringify(config)}\n`);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const event = JSON.parse(line);
      if (event.type === 'ready') resolve(child);
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
  rmSync(socketPath, { force: true });
}

/** One run of the client against `display`: its latencies in ns. */
async function measure(mode, display, runtimeDir, hostSocket, warmup, count) {
  const { stdout } = await run(
    clientBin,
    [mode, hostSocket, String(WIDTH), String(HEIGHT), String(warmup), String(count)],
    {
      env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, WAYLAND_DISPLAY: display },
      timeout: 120_000,
    },
  );
  const samples = stdout.trim().split(' ').map(Number);
  if (samples.length !== count || !samples.every((n) => Number.isFinite(n) && n > 0)) {
    throw new Error(`input-latency-client printed '${stdout.trim().slice(0, 200)}'`);
  }
  return samples;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

export default {
  name: 'input',
  unavailable() {
    if (process.getuid?.() !== 0) return 'needs root (sway runs as nobody in a private directory)';
    for (const tool of ['sway', 'gcc', 'wayland-scanner']) {
      if (!which(tool)) return `${tool} is not installed`;
    }
    if (!existsSync(XDG_SHELL)) return 'wayland-protocols is not installed';
    if (!existsSync(bridgeExe)) return 'droidway-bridge not built (npm run build:native)';
    return null;
  },
  async run({ quick }) {
    buildClient();
    const rounds = quick ? 2 : 7;
    const count = quick ? 300 : 1_000;
    const dir = mkdtempSync('/tmp/droidway-bench-input-');
    const sockDir = mkdtempSync('/tmp/droidway-bench-input-sock-');
    const bridgeSocket = join(sockDir, 'bridge-0');
    let sway = null;
    let bridge = null;
    try {
      let swaySocket;
      ({ sway, socket: swaySocket } = await startHeadlessSway(dir, SWAY_800x600, NOBODY));
      bridge = await startBridgeProcess(bridgeSocket, swaySocket);

      const rows = [];
      for (const [mode, label] of [
        ['motion', 'pointer motion'],
        ['key', 'key press/release'],
      ]) {
        // One unmeasured run each warms sway, the bridge and the page cache.
        await measure(mode, swaySocket, sockDir, swaySocket, 50, 50);
        await measure(mode, bridgeSocket, sockDir, swaySocket, 50, 50);
        const direct = [];
        const bridged = [];
        for (let round = 0; round < rounds; round++) {
          direct.push(...(await measure(mode, swaySocket, sockDir, swaySocket, 30, count)));
          bridged.push(...(await measure(mode, bridgeSocket, sockDir, swaySocket, 30, count)));
        }
        const us = (ns) => ns / 1000;
        const d50 = us(percentile(direct, 50));
        const d99 = us(percentile(direct, 99));
        const b50 = us(percentile(bridged, 50));
        const b99 = us(percentile(bridged, 99));
        rows.push(
          {
            metric: `${label} p50, added ${(b50 - d50).toFixed(1)} µs (${direct.length} events each)`,
            value: b50,
            baseline: d50,
            baselineName: 'direct to sway',
            unit: 'µs',
            goal: 'added ≤ 100 µs',
          },
          {
            metric: `${label} p99, added ${(b99 - d99).toFixed(1)} µs`,
            value: b99,
            baseline: d99,
            baselineName: 'direct to sway',
            unit: 'µs',
            goal: 'added ≤ 500 µs',
          },
        );
      }
      return rows;
    } finally {
      if (bridge !== null) await stopBridgeProcess(bridge, bridgeSocket);
      if (sway !== null) await stopHeadlessSway(sway);
      rmSync(dir, { recursive: true, force: true });
      rmSync(sockDir, { recursive: true, force: true });
    }
  },
};
