/**
 * The container runtime on real LXC: the demo guest boots, runs, freezes, stops, dies, and after
 * each end the host is as before (mount table, cgroups, processes, runtime files).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { ensureDemoGuest, type DemoGuest } from '../../electron/core/runtime/demo-guest.js';
import {
  findContainerCgroups,
  processesInPidNamespace,
} from '../../electron/core/runtime/host-cleanup.js';
import { writeHostRecord } from '../../electron/core/runtime/host-record.js';
import { reclaimInstance, lxcTargetOf } from '../../electron/core/runtime/instance-cleanup.js';
import { instancePaths, type InstancePaths } from '../../electron/core/runtime/instance-paths.js';
import { lxcInfo, spawnLxcStart } from '../../electron/core/runtime/lxc.js';
import {
  withRuntimeAdditions,
  parseLxcConfig,
} from '../../electron/core/runtime/lxc-config-text.js';
import type { RuntimeError } from '../../electron/core/runtime/runtime-errors.js';
import { Session } from '../../electron/core/runtime/session.js';
import type { SessionStateChange } from '../../electron/core/runtime/session-state.js';
import { itNeeds, needRoot } from '../helpers/capability.js';
import { minimalLxcConfig } from './helpers/minimal-lxc-config.js';
import { mountTable } from './helpers/cli.js';

function needLxc(): string | null {
  const root = needRoot();
  if (root) return root;
  for (const tool of ['lxc-start', 'lxc-info', 'lxc-attach', 'lxc-stop', 'lxc-freeze']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (Debian: lxc)`;
    }
  }
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  return null;
}

const missing = needLxc();

let tmp: string;
let guest: DemoGuest;
let counter = 0;
/** Sessions a test started; stopped after each test so a failed assertion leaves no container. */
const live: Session[] = [];

function newInstance(): InstancePaths {
  counter++;
  return instancePaths(`it-${process.pid}-${counter}`, {
    dataRoot: path.join(tmp, 'data'),
    runtimeRoot: path.join(tmp, 'run'),
  });
}

function newSession(paths: InstancePaths, rootfs = guest.rootfs): Session {
  const session = new Session({
    paths,
    lxcConfig: minimalLxcConfig({ rootfs, hostname: 'demo-guest' }),
    extraMountEntries: guest.mountEntries,
    stopTimeoutSeconds: 5,
  });
  live.push(session);
  return session;
}

/** Asserts the host shows nothing of the container: cgroups, processes, runtime files, mounts. */
async function expectNoLeftovers(
  paths: InstancePaths,
  pidNamespace: string,
  mountsBefore: string[],
): Promise<void> {
  expect(await findContainerCgroups(paths.containerName)).toEqual([]);
  expect(await processesInPidNamespace(pidNamespace)).toEqual([]);
  expect(existsSync(paths.lxcPath)).toBe(false);
  expect(existsSync(paths.guestRunDir)).toBe(false);
  expect(mountTable()).toEqual(mountsBefore);
}

describe('container runtime (root, LXC)', () => {
  beforeAll(async () => {
    if (missing) return;
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-runtime-'));
    await fs.chmod(tmp, 0o755);
    guest = await ensureDemoGuest({ rootfs: path.join(tmp, 'guest', 'demo') });
  });

  afterEach(async () => {
    for (const session of live.splice(0)) await session.stop(1).catch(() => {});
  });

  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  itNeeds(
    'boots the demo guest, freezes, thaws and stops it, leaving the host as it was',
    missing,
    async () => {
      const paths = newInstance();
      const session = newSession(paths);
      const changes: string[] = [];
      session.on('state', (c: SessionStateChange) => changes.push(c.to.name));
      const mountsBefore = mountTable();

      await session.start();
      expect(session.state.name).toBe('running');
      const info = await lxcInfo(lxcTargetOf(paths));
      expect(info.state).toBe('RUNNING');
      expect(info.initPid).toBe(session.status().initPid);
      expect(readFileSync(paths.readyMarker, 'utf8')).toMatch(/^pid=1 hostname=demo-guest/);
      const hostname = await session.attachExec(['hostname']);
      expect(hostname.exitCode).toBe(0);
      expect(hostname.stdout.toString().trim()).toBe('demo-guest');
      // The host's /usr is there read-only, so host programs run inside.
      const ro = await session.attachExec(['sh', '-c', 'touch /usr/droidway-probe; echo $?']);
      expect(ro.stdout.toString().trim()).not.toBe('0');
      // The leftover checks below mean something only if these exist while the guest runs.
      expect(await findContainerCgroups(paths.containerName)).toContainEqual(
        expect.stringMatching(new RegExp(`/lxc\\.payload\\.${paths.containerName}$`)),
      );
      const pidNamespace = await fs.readlink(`/proc/${info.initPid}/ns/pid`);
      expect(pidNamespace).not.toBe(await fs.readlink('/proc/self/ns/pid'));

      await session.freeze();
      expect(session.state.name).toBe('frozen');
      expect((await lxcInfo(lxcTargetOf(paths))).state).toBe('FROZEN');
      await session.unfreeze();
      expect((await lxcInfo(lxcTargetOf(paths))).state).toBe('RUNNING');

      const t0 = Date.now();
      await session.stop();
      expect(session.state).toMatchObject({ name: 'stopped', reason: 'stopped' });
      // init handles SIGPWR, so the stop is clean and quick rather than a kill after the timeout.
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(changes).toEqual(['starting', 'running', 'frozen', 'running', 'stopping', 'stopped']);
      await expectNoLeftovers(paths, pidNamespace, mountsBefore);
      expect(readFileSync(paths.consoleLog, 'utf8')).toContain('droidway-init: stopping');
    },
  );

  itNeeds(
    'notices a kill -9 of the container init within a second and cleans up',
    missing,
    async () => {
      const paths = newInstance();
      const session = newSession(paths);
      const mountsBefore = mountTable();
      await session.start();
      const initPid = session.status().initPid!;
      const pidNamespace = await fs.readlink(`/proc/${initPid}/ns/pid`);

      const ended = session.whenEnded();
      const t0 = Date.now();
      process.kill(initPid, 'SIGKILL');
      const state = await ended;
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(state).toMatchObject({ name: 'error', code: 'CONTAINER_DIED' });
      expect(state.reason).toMatch(/killed by signal Killed\(9\)/);
      await expectNoLeftovers(paths, pidNamespace, mountsBefore);
    },
  );

  itNeeds(
    'finds and cleans a stale session left by a crashed host at the next start',
    missing,
    async () => {
      const paths = newInstance();
      const mountsBefore = mountTable();
      // What a host that died with SIGKILL leaves: its record, the runtime files, and a container
      // still running under an orphaned lxc-start.
      await fs.mkdir(paths.containerDir, { recursive: true });
      await fs.mkdir(paths.guestRunDir, { recursive: true });
      await fs.mkdir(paths.logDir, { recursive: true });
      const dead = spawn('true');
      await new Promise((r) => dead.once('exit', r));
      await writeHostRecord(paths.hostRecord, {
        pid: dead.pid!,
        startTime: '1',
        instance: paths.name,
        startedAt: new Date(0).toISOString(),
      });
      const config = minimalLxcConfig({ rootfs: guest.rootfs });
      await fs.writeFile(
        paths.lxcConfigFile,
        withRuntimeAdditions(config, parseLxcConfig(config), {
          guestRunDir: paths.guestRunDir,
          extraMountEntries: guest.mountEntries,
        }),
      );
      const orphan = await spawnLxcStart(lxcTargetOf(paths), {
        configFile: paths.lxcConfigFile,
        logFile: paths.lxcLog,
      });
      for (let i = 0; i < 200 && !existsSync(paths.readyMarker); i++)
        await new Promise((r) => setTimeout(r, 25));
      const info = await lxcInfo(lxcTargetOf(paths));
      expect(info.state).toBe('RUNNING');
      const pidNamespace = await fs.readlink(`/proc/${info.initPid}/ns/pid`);

      const reclaimed = await reclaimInstance(paths);
      expect(reclaimed.kind).toBe('stale');
      await orphan.exited;
      expect(existsSync(paths.runtimeDir)).toBe(false);
      await expectNoLeftovers(paths, pidNamespace, mountsBefore);

      const session = newSession(paths);
      await session.start();
      expect(session.state.name).toBe('running');
      await session.stop();
      expect(session.state.name).toBe('stopped');
      expect(await reclaimInstance(paths)).toEqual({ kind: 'free' });
    },
  );

  itNeeds('reports a failed start with the LXC log tail and cleans up', missing, async () => {
    const paths = newInstance();
    const session = new Session({
      paths,
      lxcConfig: minimalLxcConfig({ rootfs: guest.rootfs, init: '/sbin/no-such-init' }),
      extraMountEntries: guest.mountEntries,
    });
    live.push(session);
    const mountsBefore = mountTable();
    const failure = await session.start().then(
      () => null,
      (e: unknown) => e as RuntimeError,
    );
    expect(failure).toMatchObject({ code: 'LXC_START_FAILED' });
    expect(failure?.logTail).toMatch(/no-such-init/);
    expect(session.state).toMatchObject({ name: 'error', code: 'LXC_START_FAILED' });
    expect(await findContainerCgroups(paths.containerName)).toEqual([]);
    expect(existsSync(paths.lxcPath)).toBe(false);
    expect(mountTable()).toEqual(mountsBefore);
  });

  itNeeds(
    'refuses a rootfs whose /proc is a symlink, leaving nothing behind',
    missing,
    async () => {
      const evil = path.join(tmp, 'evil-rootfs');
      await fs.cp(guest.rootfs, evil, { recursive: true, verbatimSymlinks: true });
      await fs.rmdir(path.join(evil, 'proc'));
      await fs.symlink('/etc', path.join(evil, 'proc'));
      const paths = newInstance();
      const session = newSession(paths, evil);
      await expect(session.start()).rejects.toMatchObject({ code: 'ROOTFS_UNSAFE' });
      expect(session.state).toMatchObject({ name: 'error', code: 'ROOTFS_UNSAFE' });
      expect(session.state.reason).toMatch(/\/proc of the rootfs .* is a symlink/);
      expect(existsSync(paths.lxcPath)).toBe(false);
      expect(await findContainerCgroups(paths.containerName)).toEqual([]);
    },
  );
});
