/**
 * A desktop user for the tests, on a machine where the tests run as root: a real non-root
 * account, a real system bus with polkitd (D-Bus-activated), a polkit rule granting Droidway's
 * helper action to one account, and runs of the built CLI as that account (`runuser`).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, type CliRun } from './cli.js';

/** An account the tests created (or found). */
export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Where setup installs the helper and its polkit action. */
export const INSTALLED_HELPER = '/usr/local/libexec/droidway-helper';
export const INSTALLED_ACTION = '/usr/share/polkit-1/actions/org.droidway.helper.policy';

/**
 * Null when the privileged helper setup installed runs this checkout (the polkit action's
 * `exec.path` is that wrapper), else why the desktop-user tests cannot run here.
 */
export function helperMissing(): string | null {
  for (const tool of ['pkexec', 'runuser', 'setpriv', 'dbus-daemon', 'useradd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed`;
  }
  if (!existsSync('/usr/lib/polkit-1/polkitd')) return 'polkitd is not installed';
  if (!existsSync(INSTALLED_HELPER) || !existsSync(INSTALLED_ACTION))
    return 'the privileged helper is not installed (run build/scripts/setup.sh as root)';
  const wrapper = readFileSync(INSTALLED_HELPER, 'utf8');
  if (!wrapper.includes(`"${fs_realpath(repoRoot)}/out/cli/helper-main.js"`))
    return `${INSTALLED_HELPER} runs another checkout (run build/scripts/setup.sh here as root)`;
  return null;
}

function fs_realpath(p: string): string {
  return execFileSync('realpath', [p], { encoding: 'utf8' }).trim();
}

/** Creates account `name` (with a home) unless it exists; returns its ids. */
export function ensureUser(name: string): TestUser {
  if (spawnSync('id', ['-u', name]).status !== 0)
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name], { stdio: 'pipe' });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { name, uid, gid, home: `/home/${name}` };
}

/** Starts the D-Bus system bus unless one answers (polkitd is then D-Bus-activated). */
export function ensureSystemBus(): void {
  const socket = '/run/dbus/system_bus_socket';
  if (
    existsSync(socket) &&
    spawnSync('dbus-send', [
      '--system',
      '--print-reply',
      '--dest=org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.ListNames',
    ]).status === 0
  )
    return;
  execFileSync('mkdir', ['-p', '/run/dbus']);
  if (existsSync(socket)) execFileSync('rm', ['-f', socket, '/run/dbus/pid']);
  execFileSync('dbus-daemon', ['--system', '--fork'], { stdio: 'pipe' });
}

/**
 * Grants `user` Droidway's helper action with a rules file; returns its remover. polkitd is
 * restarted (it is D-Bus-activated again on the next request) so the rule is read at once.
 */
export async function grantHelper(user: TestUser): Promise<() => Promise<void>> {
  const file = `/etc/polkit-1/rules.d/49-droidway-test-${user.name}.rules`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(
    file,
    `polkit.addRule(function(action, subject) {\n  if (action.id == "org.droidway.helper" && subject.user == "${user.name}") return polkit.Result.YES;\n});\n`,
    { mode: 0o644 },
  );
  spawnSync('pkill', ['-x', 'polkitd']);
  return async () => {
    await fs.rm(file, { force: true });
    spawnSync('pkill', ['-x', 'polkitd']);
  };
}

/**
 * Lets other users enter the checkout's folders (a CI clone lives in a 0700 `mktemp -d` folder):
 * adds `o+x` to each root-owned folder above and at the checkout that lacks it; returns an undo.
 */
export async function openCheckoutToUsers(): Promise<() => Promise<void>> {
  const changed: Array<{ dir: string; mode: number }> = [];
  let dir = fs_realpath(repoRoot);
  for (;;) {
    const st = statSync(dir);
    if (st.uid === 0 && (st.mode & 0o001) === 0) {
      changed.push({ dir, mode: st.mode & 0o7777 });
      await fs.chmod(dir, (st.mode & 0o7777) | 0o005);
    }
    if (path.dirname(dir) === dir) break;
    dir = path.dirname(dir);
  }
  return async () => {
    for (const c of changed.reverse()) await fs.chmod(c.dir, c.mode);
  };
}

/** The environment a login of `user` would have, plus `extra`. */
export function userEnv(user: TestUser, extra: Record<string, string> = {}): string[] {
  return Object.entries({
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    ...extra,
  }).map(([k, v]) => `${k}=${v}`);
}

/** Runs `argv` as `user` with a clean login-like environment; never rejects on a status. */
export function runAs(
  user: TestUser,
  argv: string[],
  extraEnv: Record<string, string> = {},
  timeoutMs = 240_000,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'runuser',
      ['-u', user.name, '--', 'env', '-i', ...userEnv(user, extraEnv), ...argv],
      { cwd: '/', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs the built `droidway` CLI as `user`. */
export function droidwayAs(
  user: TestUser,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<CliRun> {
  return runAs(
    user,
    [process.execPath, path.join(repoRoot, 'electron/cli/droidway.js'), ...args],
    extraEnv,
  );
}
