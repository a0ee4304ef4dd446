/**
 * Droidway run by a desktop user who is not root: the tests create two accounts, start a real
 * system bus with polkitd, and grant only the first one Droidway's polkit action. As that user,
 * through the built CLI and real `pkexec`: start a session (the privileged helper starts the
 * container as the user's instance), see its status, install a fixture APK through the session
 * host's fd channel (desktop entry in the user's own XDG folder), launch it, verify the policy
 * from inside, and stop. The second user cannot see or reach the first one's session, and gets
 * polkit's refusal in plain words; a folder the first user cannot read is refused; a guest
 * command outside Droidway's verbs is refused.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { readHostRecord } from '../../electron/core/runtime/host-record.js';
import { instancePaths } from '../../electron/core/runtime/instance-paths.js';
import { stopSession } from '../../electron/core/runtime/session-client.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { apkFixture, apkToolsMissing } from '../fixtures/apk/build-fixtures.js';
import { countColor } from '../fixtures/bridge/png.js';
import type { SessionStatus } from '../../electron/core/runtime/session.js';
import { buildCli, repoRoot } from './helpers/cli.js';
import { startHeadlessWeston } from './helpers/weston.js';

/** Polls `check` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
async function waitForAsync(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
import {
  droidwayAs,
  ensureSystemBus,
  ensureUser,
  grantHelper,
  helperMissing,
  openCheckoutToUsers,
  runAs,
  type TestUser,
} from './helpers/desktop-user.js';

const INSTANCE = `du-${process.pid % 100000}`;
const TOOLS = path.join(repoRoot, 'tests/fixtures/android-guest');
const PRIVATE_DIR = `/root/droidway-private-${process.pid}`;

function needs(): string | null {
  return (
    needRoot() ??
    missingTool(['lxc-start', 'lxc-attach', 'openssl', 'unzip']) ??
    helperMissing() ??
    apkToolsMissing()
  );
}

const missing = needs();
let alice: TestUser;
let bob: TestUser;
let revoke: (() => Promise<void>) | null = null;
let closeCheckout: (() => Promise<void>) | null = null;
let apk: string;

describe('a desktop user through the privileged helper', () => {
  beforeAll(async () => {
    if (missing !== null) return;
    buildCli({ probe: true });
    alice = ensureUser('droidway-it-a');
    bob = ensureUser('droidway-it-b');
    ensureSystemBus();
    revoke = await grantHelper(alice);
    closeCheckout = await openCheckoutToUsers();
    apk = path.join(alice.home, 'hello.apk');
    await fs.copyFile(await apkFixture('hello'), apk);
    await fs.chown(apk, alice.uid, alice.gid);
    await fs.mkdir(PRIVATE_DIR, { mode: 0o700 });
  }, 300_000);

  afterAll(async () => {
    if (missing !== null) return;
    await stopSession({ instance: INSTANCE, owner: alice.uid }, 10).catch(() => undefined);
    await revoke?.();
    await closeCheckout?.();
    await fs.rm(PRIVATE_DIR, { recursive: true, force: true });
    await fs.rm(path.join(alice.home, '.local'), { recursive: true, force: true });
    await fs.rm(path.join(alice.home, '.cache'), { recursive: true, force: true });
  }, 120_000);

  itNeeds('starts a session as the user, owned by that user alone', missing, async () => {
    const started = await droidwayAs(alice, [
      'session',
      'start',
      '--instance',
      INSTANCE,
      '--android-tools',
      TOOLS,
      '--json',
    ]);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const result = JSON.parse(started.stdout) as { status: { state: { name: string } } };
    expect(result.status.state.name).toBe('running');

    // The instance is Alice's: its container name and folders carry her uid.
    const paths = instancePaths(INSTANCE, { owner: alice.uid });
    expect(paths.containerName).toBe(`droidway-u${alice.uid}_${INSTANCE}`);
    const info = execFileSync('lxc-info', ['-P', paths.lxcPath, '-n', paths.containerName, '-s'], {
      encoding: 'utf8',
    });
    expect(info).toMatch(/RUNNING/);
    // The session's host is the helper pkexec started, gone on as the host (one process start
    // instead of two): root, in a session of its own (no terminal of Alice's can signal it), its
    // stdio no longer her pipes but /dev/null and the session's log; Alice cannot signal it.
    const record = await readHostRecord(paths.hostRecord);
    if (record === null || record === 'corrupt') throw new Error('no host record');
    const cmdline = (await fs.readFile(`/proc/${record.pid}/cmdline`, 'utf8')).split('\0');
    expect(cmdline.some((a) => a.endsWith('/out/cli/helper-main.js'))).toBe(true);
    const stat = (await fs.readFile(`/proc/${record.pid}/stat`, 'utf8')).split(') ')[1] ?? '';
    expect(Number(stat.split(' ')[3])).toBe(record.pid); // session id (field 6)
    expect((await fs.stat(`/proc/${record.pid}`)).uid).toBe(0);
    expect(await fs.readlink(`/proc/${record.pid}/fd/0`)).toBe('/dev/null');
    expect(await fs.readlink(`/proc/${record.pid}/fd/1`)).toBe(paths.hostLog);
    expect(await fs.readlink(`/proc/${record.pid}/fd/2`)).toBe(paths.hostLog);
    const signal = await runAs(alice, ['kill', '-TERM', String(record.pid)]);
    expect(signal.code).not.toBe(0);
    // Her control socket is hers; nobody else can enter its folder.
    const control = await fs.stat(paths.controlDir);
    expect(control.uid).toBe(alice.uid);
    expect(control.mode & 0o077).toBe(0);

    const status = await droidwayAs(alice, ['session', 'status', '--instance', INSTANCE, '--json']);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { state: { name: string } }).state.name).toBe('running');

    // Bob sees no session under that name (his own namespace), and cannot reach Alice's.
    const bobs = await droidwayAs(bob, ['session', 'status', '--instance', INSTANCE, '--json']);
    expect(bobs.code).toBe(0);
    expect((JSON.parse(bobs.stdout) as { state: { name: string } }).state.name).toBe('stopped');
    const reach = await runAs(bob, [
      process.execPath,
      '-e',
      `require('net').connect(${JSON.stringify(paths.controlSocket)}).on('error', e => { console.log(e.code); process.exit(3); }).on('connect', () => { console.log('connected'); process.exit(0); })`,
    ]);
    expect(reach.stdout.trim()).toBe('EACCES');
    // Bob's own instance of that name is not running, so his stop has nothing to do (exit 0);
    // Alice's session goes on.
    const bobStop = await droidwayAs(bob, ['session', 'stop', '--instance', INSTANCE]);
    expect(bobStop.code).toBe(0);
    expect(bobStop.stderr).toBe(`droidway: instance ${INSTANCE} was not running\n`);
    const still = await droidwayAs(alice, ['session', 'status', '--instance', INSTANCE, '--json']);
    expect((JSON.parse(still.stdout) as { state: { name: string } }).state.name).toBe('running');
  });

  itNeeds('refuses a user polkit does not allow, in plain words', missing, async () => {
    const r = await droidwayAs(bob, ['session', 'start', '--instance', INSTANCE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not allowed to start Droidway sessions: polkit refused/);
  });

  itNeeds('refuses a folder the user cannot read', missing, async () => {
    const r = await droidwayAs(alice, [
      'session',
      'start',
      '--instance',
      `${INSTANCE}-x`,
      '--android-tools',
      PRIVATE_DIR,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a folder you can read/);
  });

  itNeeds('installs and launches an app as the user', missing, async () => {
    const installed = await droidwayAs(alice, ['app', 'install', apk, '--instance', INSTANCE]);
    expect(installed.stderr).not.toMatch(/failed/);
    expect(installed.code).toBe(0);
    const entry = path.join(
      alice.home,
      '.local/share/applications/droidway.org.example.hello.desktop',
    );
    const st = await fs.stat(entry);
    expect(st.uid).toBe(alice.uid);
    expect(await fs.readFile(entry, 'utf8')).toMatch(/^Name=Hello/m);

    const launched = await droidwayAs(alice, [
      'app',
      'launch',
      'org.example.hello',
      '--instance',
      INSTANCE,
    ]);
    expect(launched.stderr).toBe('');
    expect(launched.code).toBe(0);
    const paths = instancePaths(INSTANCE, { owner: alice.uid });
    const calls = await fs.readFile(
      path.join(paths.guestDataDir, 'droidway-fixture/calls.log'),
      'utf8',
    );
    expect(calls).toMatch(/am start -n org\.example\.hello\/org\.example\.hello\.Main/);
  });

  itNeeds("refuses guest commands outside Droidway's verbs", missing, async () => {
    const module = path.join(repoRoot, 'out/electron/core/android/guest-exec.js');
    const script = `
      const { findRunningGuest, lxcGuestExecutor } = await import(${JSON.stringify(module)});
      const exec = lxcGuestExecutor(await findRunningGuest({ instance: ${JSON.stringify(INSTANCE)} }));
      try { await exec(['sh', '-c', 'id']); console.log('ran'); }
      catch (e) { console.log(e.code + ': ' + e.message); }
      const r = await exec(['cmd', 'package', 'list', 'packages', '-f', '--show-versioncode']);
      console.log('list ' + r.exitCode + ' ' + r.stdout.includes('org.example.hello'));
    `;
    const r = await runAs(alice, [process.execPath, '--input-type=module', '-e', script]);
    expect(r.stdout).toMatch(/GUEST_EXEC_FAILED: .*not one of the guest commands Droidway runs/);
    expect(r.stdout).toMatch(/list 0 true/);
  });

  itNeeds('verifies the policy from inside as the user', missing, async () => {
    const r = await droidwayAs(alice, ['policy', 'verify', '--instance', INSTANCE, '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { pass: boolean }).pass).toBe(true);
  });

  itNeeds(
    "shows the guest's window on the user's own compositor, through a bridge the user runs",
    missing ?? missingTool(['weston', 'weston-screenshooter']),
    async () => {
      const weston = await startHeadlessWeston('droidway-du-', alice);
      const shown = `${INSTANCE}-w`;
      try {
        const env = { XDG_RUNTIME_DIR: weston.dir, WAYLAND_DISPLAY: 'host-0' };
        const started = await droidwayAs(
          alice,
          ['session', 'start', '--instance', shown, '--json'],
          env,
        );
        expect(started.stderr).toBe('');
        expect(started.code).toBe(0);
        const status = (JSON.parse(started.stdout) as { status: SessionStatus }).status;
        expect(status.bridge?.state).toBe('running');
        // The demo client's status bar, 360×24 px, on Alice's screen.
        const statusBar = async (): Promise<boolean> =>
          countColor(await weston.screenshot(), 0xe8a01a) === 360 * 24;
        await waitForAsync('the demo window on the user compositor', statusBar);
        // The bridge process is Alice's, not root's, and parses guest bytes confined.
        const pid = status.bridge?.process.pid;
        expect(pid).toBeTypeOf('number');
        const proc = await fs.readFile(`/proc/${pid}/status`, 'utf8');
        expect(/^Uid:\s+(\d+)/m.exec(proc)?.[1]).toBe(String(alice.uid));
        expect(proc).toMatch(/^NoNewPrivs:\s+1$/m);
        expect(proc).toMatch(/^Seccomp:\s+2$/m);
        // Killed, it is restarted and the window comes back; the container runs on.
        process.kill(pid!, 'SIGKILL');
        await waitForAsync('a restarted bridge', async () => {
          const s = JSON.parse(
            (await droidwayAs(alice, ['session', 'status', '--instance', shown, '--json'], env))
              .stdout,
          ) as SessionStatus;
          return s.state.name === 'running' && (s.bridge?.process.restarts ?? 0) >= 1;
        });
        await waitForAsync('the demo window back', statusBar, 5_000);
        const stopped = await droidwayAs(alice, ['session', 'stop', '--instance', shown], env);
        expect(stopped.code).toBe(0);
        // The display host leaves with the session.
        await waitForAsync('the display host to leave', async () => {
          const r = await runAs(alice, [
            'pgrep',
            '-u',
            String(alice.uid),
            '-f',
            `display-host-main.js --instance ${shown}`,
          ]);
          return r.code === 1;
        });
      } finally {
        await stopSession({ instance: shown, owner: alice.uid }, 10).catch(() => undefined);
        weston.stop();
      }
    },
  );

  itNeeds('stops the session as the user', missing, async () => {
    const r = await droidwayAs(alice, ['session', 'stop', '--instance', INSTANCE, '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { state: { name: string } }).state.name).toBe('stopped');
  });
});
