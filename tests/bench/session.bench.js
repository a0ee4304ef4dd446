// Demo-guest session start and stop under the `strict` preset, versus plain LXC in the same run:
// - start: from the call until the guest's init has written its ready marker (Droidway: the
//   runtime's `Session.start()`, which also checks the rootfs, cleans leftovers, writes the
//   config and asks lxc-info; baseline: `lxc-start -d` + `lxc-wait -s RUNNING` + waiting for the
//   same marker, polled at the same interval);
// - stop: `Session.stop()` (lxc-stop plus the runtime's cleanup) versus a bare `lxc-stop`;
// - detached start+stop: `startSession`/`stopSession` as `droidway session start|stop` run them
//   (policy compile, a node session host, control socket), versus the baseline's start+stop.
// The baseline runs the very same config text (the compiled policy plus the runtime's mounts),
// user namespace included, on a copy of the guest tree shifted into the same id range once
// before the rounds; so the ratio is the runtime's own cost, including the per-session copy of
// the tree into its sized layer. Needs root, LXC and the compiled TypeScript (out/).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'out', 'electron', 'core', 'runtime');
const POLL_MS = 20;

const load = (file) => import(pathToFileURL(join(out, file)).href);

export default {
  name: 'session',
  unavailable() {
    if (process.getuid?.() !== 0) return 'needs root (LXC containers)';
    try {
      execFileSync('which', ['lxc-start'], { stdio: 'ignore' });
    } catch {
      return 'lxc-start is not installed (Debian: lxc)';
    }
    if (!existsSync(join(out, '..', 'session', 'start.js')) || !existsSync(join(out, 'session.js')))
      return 'the TypeScript is not built: run `npm run build` (out/ is missing)';
    if (!existsSync(join(root, 'native', 'build', 'Release', 'droidway_native.node')))
      return 'native addon not built (npm run build:native)';
    return null;
  },
  async run({ quick }) {
    const { planSession } = await load('../session/plan.js');
    const { startSession } = await load('../session/start.js');
    const { stopSession } = await load('session-client.js');
    const { Session } = await load('session.js');
    const { parseLxcConfig, withRuntimeAdditions } = await load('lxc-config-text.js');
    const { prepareSessionStorage } = await load('session-storage.js');
    const rounds = quick ? 3 : 7;

    const tmp = mkdtempSync(join(tmpdir(), 'droidway-bench-session-'));
    chmodSync(tmp, 0o755);
    const locations = { dataRoot: join(tmp, 'data'), runtimeRoot: join(tmp, 'run') };
    try {
      const plan = await planSession({
        ...locations,
        instance: 'bench',
        policy: { preset: 'strict' },
      });
      const base = await prepareBaseline(
        tmp,
        plan,
        parseLxcConfig,
        withRuntimeAdditions,
        prepareSessionStorage,
      );

      const ours = { start: [], stop: [], detached: [] };
      const baseline = { start: [], stop: [], both: [] };
      // Interleaved, so drift in the machine's load hits both sides alike; one warm-up each.
      for (let i = -1; i < rounds; i++) {
        const b = await baselineRound(base);
        const session = new Session({
          paths: plan.paths,
          lxcConfig: plan.compiled.lxcConfig,
          seccompProfile: plan.compiled.seccompProfile,
          extraMountEntries: plan.extraMountEntries,
          storage: plan.storage,
        });
        const t0 = performance.now();
        await session.start();
        const t1 = performance.now();
        await session.stop();
        const t2 = performance.now();
        if (session.state.name !== 'stopped')
          throw new Error(`session ended ${session.state.name}: ${session.state.reason}`);

        const t3 = performance.now();
        await startSession({ ...locations, instance: 'bench-host', policy: { preset: 'strict' } });
        const final = await stopSession({ ...locations, instance: 'bench-host' });
        const t4 = performance.now();
        if (final.state.name !== 'stopped')
          throw new Error(`detached session ended ${final.state.name}`);
        if (i < 0) continue;
        baseline.start.push(b.start);
        baseline.stop.push(b.stop);
        baseline.both.push(b.start + b.stop);
        ours.start.push(t1 - t0);
        ours.stop.push(t2 - t1);
        ours.detached.push(t4 - t3);
      }
      const row = (metric, value, base, baselineName, goal = '≤ 1.2×') => ({
        metric,
        compared: 'runtime call from a warm process (the host a new process) vs the lxc tools',
        value: median(value),
        baseline: median(base),
        baselineName,
        unit: 'ms',
        goal,
      });
      return [
        row('start to init ready', ours.start, baseline.start, 'lxc-start -d + lxc-wait'),
        row('stop, host clean', ours.stop, baseline.stop, 'lxc-stop'),
        // Informational: includes starting a Node process for the host; no goal.
        row('detached host start+stop', ours.detached, baseline.both, 'lxc-start/wait/stop', ''),
      ];
    } finally {
      try {
        execFileSync('lxc-stop', ['-k', '-n', BASE_NAME, '-P', join(tmp, 'baseline')], {
          stdio: 'ignore',
        });
      } catch {
        // Not running.
      }
      for (const dir of ['baseline-rootfs', 'baseline-run']) {
        try {
          execFileSync('umount', ['-l', join(tmp, dir)], { stdio: 'ignore' });
        } catch {
          // Not mounted.
        }
      }
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};

const BASE_NAME = 'droidway-bench-baseline';

/**
 * Writes the baseline container: the same config text under its own LXC path, with its own
 * shifted copy of the guest tree, run dir and mask file (made once, outside the timing).
 */
async function prepareBaseline(tmp, plan, parseLxcConfig, withRuntimeAdditions, prepareStorage) {
  const lxcPath = join(tmp, 'baseline');
  const dir = join(lxcPath, BASE_NAME);
  const guestRun = join(tmp, 'baseline-run');
  const rootfs = join(tmp, 'baseline-rootfs');
  const maskFile = join(tmp, 'baseline-mask');
  mkdirSync(dir, { recursive: true });
  await prepareStorage(plan.storage, {
    rootfsDir: rootfs,
    guestRunDir: guestRun,
    dataImage: join(tmp, 'unused.img'),
    guestDataDir: join(tmp, 'unused-data'),
    guestDataMount: join(tmp, 'unused-data-mount'),
  });
  writeFileSync(maskFile, '', { mode: 0o444 });
  const seccompFile = join(dir, 'seccomp.profile');
  writeFileSync(seccompFile, plan.compiled.seccompProfile);
  const config = plan.compiled.lxcConfig
    .replace(`lxc.rootfs.path = dir:${plan.paths.rootfsDir}\n`, `lxc.rootfs.path = dir:${rootfs}\n`)
    .replaceAll(`${plan.paths.maskFile} `, `${maskFile} `);
  if (!config.includes(rootfs)) throw new Error('the compiled config names another rootfs');
  const text = withRuntimeAdditions(config, parseLxcConfig(config), {
    guestRunDir: guestRun,
    extraMountEntries: plan.extraMountEntries,
    seccompFile,
  });
  const configFile = join(dir, 'config');
  writeFileSync(configFile, text);
  return { lxcPath, configFile, marker: join(guestRun, 'ready'), log: join(tmp, 'baseline.log') };
}

async function baselineRound(base) {
  rmSync(base.marker, { force: true });
  const target = ['-n', BASE_NAME, '-P', base.lxcPath];
  const t0 = performance.now();
  execFileSync('lxc-start', ['-d', ...target, '-f', base.configFile, '-o', base.log], {
    stdio: 'ignore',
  });
  execFileSync('lxc-wait', [...target, '-s', 'RUNNING', '-t', '20'], { stdio: 'ignore' });
  for (let i = 0; !existsSync(base.marker); i++) {
    if (i * POLL_MS > 20_000) throw new Error('the baseline guest never became ready');
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const t1 = performance.now();
  execFileSync('lxc-stop', [...target, '-t', '10'], { stdio: 'ignore' });
  const t2 = performance.now();
  return { start: t1 - t0, stop: t2 - t1 };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
