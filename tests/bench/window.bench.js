// From `droidway session start --image demo` to the demo guest's first frame on the host
// compositor: a headless weston on the host, the command as a person types it (the bin shim,
// which runs the bundle in out/cli/), and the time until the session's display bridge reports
// the first guest buffer forwarded to weston (polled over the session's control socket every
// 5 ms, in this process, so the poll costs no Node start). Also how long the command itself
// takes to return. No baseline: the goal is absolute (≤ 500 ms). Needs root, LXC, weston and
// the built bundle and addon.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './whole-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shim = join(root, 'electron', 'cli', 'droidway.js');
const service = join(root, 'out', 'electron', 'core', 'session', 'display.js');

export default {
  name: 'window',
  unavailable() {
    if (process.getuid?.() !== 0) return 'needs root (LXC containers)';
    for (const tool of ['lxc-start', 'weston'])
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
        return `${tool} is not installed`;
    if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
    if (!existsSync(join(root, 'out', 'cli', 'droidway.js')) || !existsSync(service))
      return 'not built (npm run build)';
    if (!existsSync(join(root, 'native', 'build', 'Release', 'droidway_native.node')))
      return 'native addon not built (npm run build:native)';
    return null;
  },
  async run({ quick }) {
    const { bridgeStats } = await import(pathToFileURL(service).href);
    const rounds = quick ? 2 : 7;
    const instance = `bench-window-${process.pid % 100000}`;
    const dir = mkdtempSync('/tmp/droidway-bench-window-');
    const weston = spawn(
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
    const socket = join(dir, 'host-0');
    const firstFrame = [];
    const commandDone = [];
    try {
      await until(() => existsSync(socket), 10_000, 'weston did not open its socket');
      for (let i = 0; i < rounds; i++) {
        const started = performance.now();
        const cli = spawn(
          process.execPath,
          [shim, 'session', 'start', '--image', 'demo', '--instance', instance],
          { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WAYLAND_DISPLAY: socket } },
        );
        let stderr = '';
        cli.stderr.on('data', (d) => (stderr += d));
        const exited = new Promise((resolve) =>
          cli.on('exit', (code) => {
            commandDone.push(performance.now() - started);
            resolve(code);
          }),
        );
        let failedWith = null;
        void exited.then((code) => {
          if (code !== 0) failedWith = `session start exited ${code}: ${stderr.trim()}`;
        });
        await until(
          async () => {
            if (failedWith !== null) throw new Error(failedWith);
            const s = await bridgeStats({ instance }).catch(() => null);
            return s?.clients?.some((c) => c.buffersForwarded.shm + c.buffersForwarded.dmabuf > 0);
          },
          20_000,
          'no guest frame reached weston',
          5,
        );
        firstFrame.push(performance.now() - started);
        await exited;
        execFileSync(process.execPath, [shim, 'session', 'stop', '--instance', instance], {
          stdio: 'ignore',
        });
      }
    } finally {
      spawnSync(process.execPath, [shim, 'session', 'stop', '--instance', instance], {
        stdio: 'ignore',
      });
      weston.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
    const spread = (v) => `${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)} ms`;
    return [
      {
        metric: '`session start` (demo) until its first frame is on weston',
        compared: 'from the command, whole',
        value: median(firstFrame),
        unit: 'ms',
        goal: '≤ 500 ms',
        detail: `${rounds} rounds, ${spread(firstFrame)}`,
      },
      {
        metric: '`session start` (demo) until the command returns',
        compared: 'whole process',
        value: median(commandDone),
        unit: 'ms',
        detail: `${rounds} rounds, ${spread(commandDone)}`,
      },
    ];
  },
};

async function until(check, timeoutMs, what, intervalMs = 20) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > end) throw new Error(what);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
