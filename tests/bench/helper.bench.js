// What the privileged helper adds to a desktop user's session start: `droidway session start` of
// the demo guest (strict preset, no display) as a non-root user — pkexec, polkit's check, the
// helper's validation and the session it hosts — versus the same command as root, where the CLI
// plans the session itself and spawns a session host. Both are whole processes started the same
// way (`runuser -u USER -- env -i … droidway session start`), alternated, each followed by an
// untimed stop. The figure is the median of the rounds' differences (goal: the helper adds
// ≤ 20 ms).
// Needs root, LXC, pkexec and polkitd, and the helper installed for this checkout by
// build/scripts/setup.sh; creates the account droidway-it-a and a polkit rule granting it the
// helper's action for the run (removed afterwards).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const cli = join(root, 'electron', 'cli', 'droidway.js');
const HELPER = '/usr/local/libexec/droidway-helper';
const USER = 'droidway-it-a';
const RULE = `/etc/polkit-1/rules.d/49-droidway-bench-${USER}.rules`;

function run(user, args) {
  const env = [
    `HOME=${user === 'root' ? '/root' : `/home/${user}`}`,
    `USER=${user}`,
    'PATH=/usr/local/bin:/usr/bin:/bin',
    'LANG=C.UTF-8',
  ];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    execFile(
      'runuser',
      ['-u', user, '--', 'env', '-i', ...env, process.execPath, cli, ...args],
      { cwd: '/', timeout: 120_000 },
      (error, stdout, stderr) => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        resolve({ ok: !error, ms, stderr });
      },
    );
  });
}

function ensureBus() {
  const up = spawnSync('dbus-send', [
    '--system',
    '--print-reply',
    '--dest=org.freedesktop.DBus',
    '/org/freedesktop/DBus',
    'org.freedesktop.DBus.ListNames',
  ]);
  if (up.status === 0) return;
  execFileSync('mkdir', ['-p', '/run/dbus']);
  rmSync('/run/dbus/system_bus_socket', { force: true });
  rmSync('/run/dbus/pid', { force: true });
  execFileSync('dbus-daemon', ['--system', '--fork'], { stdio: 'pipe' });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export default {
  name: 'helper',
  unavailable() {
    if (process.getuid?.() !== 0) return 'needs root (LXC containers, a test account)';
    for (const tool of ['lxc-start', 'pkexec', 'runuser', 'dbus-daemon'])
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
        return `${tool} is not installed`;
    if (!existsSync(HELPER))
      return 'the privileged helper is not installed (build/scripts/setup.sh)';
    if (!readFileSync(HELPER, 'utf8').includes(`"${root}/out/`))
      return `${HELPER} runs another checkout (run build/scripts/setup.sh here as root)`;
    return null;
  },
  async run({ quick }) {
    if (spawnSync('id', ['-u', USER]).status !== 0)
      execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', USER], { stdio: 'pipe' });
    ensureBus();
    writeFileSync(
      RULE,
      `polkit.addRule(function(action, subject) {\n  if (action.id == "org.droidway.helper" && subject.user == "${USER}") return polkit.Result.YES;\n});\n`,
      { mode: 0o644 },
    );
    spawnSync('pkill', ['-x', 'polkitd']);
    const rounds = quick ? 3 : 9;
    const start = ['session', 'start', '--instance', 'bench-helper', '--preset', 'strict'];
    const stop = ['session', 'stop', '--instance', 'bench-helper'];
    const asUser = [];
    const asRoot = [];
    try {
      // One untimed round of each first: polkitd's activation, page cache.
      for (let i = -1; i < rounds; i++) {
        for (const [user, into] of [
          [USER, asUser],
          ['root', asRoot],
        ]) {
          const r = await run(user, start);
          await run(user, stop);
          if (!r.ok) throw new Error(`session start as ${user} failed: ${r.stderr}`);
          if (i >= 0) into.push(r.ms);
        }
      }
    } finally {
      await run(USER, stop);
      await run('root', stop);
      rmSync(RULE, { force: true });
      spawnSync('pkill', ['-x', 'polkitd']);
    }
    const user = median(asUser);
    const rootMs = median(asRoot);
    // What the helper adds: the median of the rounds' own differences (each round runs both
    // starts back to back), which drift in the machine's speed moves less than two medians.
    const added = median(asUser.map((ms, i) => ms - asRoot[i]));
    return [
      {
        metric: `session start as a desktop user (helper), median of ${rounds}`,
        value: user,
        unit: 'ms',
        baseline: rootMs,
        baselineName: 'the same start as root',
        goal: `helper adds ${added < 0 ? '−' : ''}${Math.abs(added).toFixed(0)} ms (goal ≤ 20 ms)`,
      },
    ];
  },
};
