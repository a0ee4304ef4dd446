/**
 * The session host on real LXC: the control socket (owner-only, peer credentials checked,
 * strict requests) drives a running demo guest, and the detached host started by the launcher
 * owns its session until stopped, or leaves a stale session the next start cleans.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { peerCredentials } from '../../electron/core/native/index.js';
import {
  requestAttachExec,
  requestFreeze,
  requestStatus,
  requestStop,
  requestUnfreeze,
} from '../../electron/core/runtime/control-client.js';
import { ensureDemoGuest, type DemoGuest } from '../../electron/core/runtime/demo-guest.js';
import {
  findContainerCgroups,
  processesInPidNamespace,
} from '../../electron/core/runtime/host-cleanup.js';
import { readHostRecord } from '../../electron/core/runtime/host-record.js';
import { instancePaths, type InstancePaths } from '../../electron/core/runtime/instance-paths.js';
import { launchSessionHost } from '../../electron/core/runtime/session-host-launcher.js';
import { SessionHost } from '../../electron/core/runtime/session-host.js';
import { itNeeds, needRoot } from '../helpers/capability.js';
import { minimalLxcConfig } from './helpers/minimal-lxc-config.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const hostBuildDir = path.join(repoRoot, 'tests/artifacts/runtime-host-build');

function needLxcAndAddon(): string | null {
  const root = needRoot();
  if (root) return root;
  try {
    execFileSync('which', ['lxc-start'], { stdio: 'ignore' });
  } catch {
    return 'lxc-start is not installed (Debian: lxc)';
  }
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node'))) {
    return 'the native addon is not built (npm run build:native)';
  }
  return null;
}

const missing = needLxcAndAddon();
let tmp: string;
let guest: DemoGuest;
let counter = 0;
/** Control sockets of hosts a test started; stopped after each test so a failure leaves none running. */
const sockets: string[] = [];

function newInstance(): InstancePaths {
  counter++;
  const paths = instancePaths(`host-${process.pid}-${counter}`, {
    dataRoot: path.join(tmp, 'data'),
    runtimeRoot: path.join(tmp, 'run'),
  });
  sockets.push(paths.controlSocket);
  return paths;
}

/** Sends raw bytes on the control socket and returns the first answer line, parsed. */
function rawRequest(socketPath: string, bytes: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath, () => socket.write(bytes));
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        socket.destroy();
        resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      }
    });
    socket.on('error', reject);
  });
}

describe('session host (root, LXC, native addon)', () => {
  beforeAll(async () => {
    if (missing) return;
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-host-'));
    await fs.chmod(tmp, 0o755);
    guest = await ensureDemoGuest({ rootfs: path.join(tmp, 'guest', 'demo') });
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) await requestStop(socket, 1).catch(() => {});
  });

  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  itNeeds(
    'answers status, attach-exec, freeze, unfreeze and stop over its control socket',
    missing,
    async () => {
      const paths = newInstance();
      const host = await SessionHost.start({
        session: {
          paths,
          lxcConfig: minimalLxcConfig({ rootfs: guest.rootfs, hostname: 'via-socket' }),
          extraMountEntries: guest.mountEntries,
          stopTimeoutSeconds: 5,
        },
        peerCredentials: (fd) => peerCredentials(fd),
      });
      expect(statSync(paths.controlDir).mode & 0o777).toBe(0o700);
      expect(statSync(paths.controlSocket).mode & 0o777).toBe(0o600);
      const record = await readHostRecord(paths.hostRecord);
      expect(record).toMatchObject({ pid: process.pid, instance: paths.name });

      const status = await requestStatus(paths.controlSocket);
      expect(status.state.name).toBe('running');
      const pidNamespace = await fs.readlink(`/proc/${status.initPid}/ns/pid`);

      const run = await requestAttachExec(
        paths.controlSocket,
        ['sh', '-c', 'hostname; cat; echo "PATH=$PATH HOME=${HOME:-unset}"'],
        {
          stdin: Buffer.from('from-stdin\n'),
        },
      );
      expect(run.exitCode).toBe(0);
      const lines = run.stdout.toString().trim().split('\n');
      expect(lines[0]).toBe('via-socket');
      expect(lines[1]).toBe('from-stdin');
      // --clear-env: only the PATH the runtime sets reaches the program.
      expect(lines[2]).toMatch(/^PATH=\S*\/bin\S* HOME=unset$/);

      expect((await requestFreeze(paths.controlSocket)).state.name).toBe('frozen');
      const busy = requestAttachExec(paths.controlSocket, ['true']);
      await expect(busy).rejects.toMatchObject({ code: 'SESSION_BAD_STATE' });
      expect((await requestUnfreeze(paths.controlSocket)).state.name).toBe('running');

      // Malformed and unknown requests are refused with the id echoed when readable; the host lives on.
      expect(await rawRequest(paths.controlSocket, '{"id":7,"method":"reboot"}\n')).toMatchObject({
        id: 7,
        ok: false,
        error: { code: 'CONTROL_BAD_REQUEST' },
      });
      expect(await rawRequest(paths.controlSocket, 'not json\n')).toMatchObject({
        id: null,
        ok: false,
        error: { code: 'CONTROL_BAD_REQUEST' },
      });
      expect(await rawRequest(paths.controlSocket, 'x'.repeat(1024 * 1024 + 10))).toMatchObject({
        ok: false,
        error: { code: 'CONTROL_BAD_REQUEST' },
      });
      expect((await requestStatus(paths.controlSocket)).state.name).toBe('running');

      const stopped = await requestStop(paths.controlSocket, 5);
      expect(stopped.state.name).toBe('stopped');
      expect((await host.whenDone()).name).toBe('stopped');
      expect(existsSync(paths.runtimeDir)).toBe(false);
      expect(await findContainerCgroups(paths.containerName)).toEqual([]);
      expect(await processesInPidNamespace(pidNamespace)).toEqual([]);
      await expect(requestStatus(paths.controlSocket)).rejects.toMatchObject({
        code: 'SESSION_NOT_RUNNING',
      });
    },
  );

  itNeeds('refuses a peer whose uid is not allowed', missing, async () => {
    const paths = newInstance();
    const host = await SessionHost.start({
      session: {
        paths,
        lxcConfig: minimalLxcConfig({ rootfs: guest.rootfs }),
        extraMountEntries: guest.mountEntries,
      },
      peerCredentials: (fd) => peerCredentials(fd),
      // Neither this process's uid (0) nor anything the test runs as.
      allowedUids: [54321],
    });
    try {
      expect(await rawRequest(paths.controlSocket, '{"id":1,"method":"status"}\n')).toMatchObject({
        ok: false,
        error: { code: 'CONTROL_PEER_REFUSED' },
      });
      expect(host.session.state.name).toBe('running');
    } finally {
      await host.stop();
    }
    expect(existsSync(paths.runtimeDir)).toBe(false);
  });

  itNeeds(
    'runs a detached host, refuses a second one, and cleans after a crashed host',
    missing,
    async () => {
      // Builds only the host and what it imports, so unrelated work in progress cannot break this.
      execFileSync(
        process.execPath,
        [
          path.join(repoRoot, 'node_modules/typescript/bin/tsc'),
          '--outDir',
          hostBuildDir,
          '--rootDir',
          repoRoot,
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2023',
          '--strict',
          '--skipLibCheck',
          // As tsconfig.base.json: without them, eliding imports makes tsc analyse the
          // generated validators' code (electron/generated/), deep enough to overflow its stack.
          '--isolatedModules',
          '--verbatimModuleSyntax',
          '--types',
          'node',
          path.join(repoRoot, 'electron/core/runtime/session-host-main.ts'),
        ],
        { cwd: repoRoot, stdio: 'pipe' },
      );
      const hostScript = path.join(hostBuildDir, 'electron/core/runtime/session-host-main.js');
      const paths = newInstance();
      const launch = (): ReturnType<typeof launchSessionHost> =>
        launchSessionHost({
          paths,
          lxcConfig: minimalLxcConfig({ rootfs: guest.rootfs, hostname: 'detached' }),
          extraMountEntries: guest.mountEntries,
          hostScript,
        });

      const first = await launch();
      expect(first.state.name).toBe('running');
      const record = await readHostRecord(paths.hostRecord);
      if (record === null || record === 'corrupt') throw new Error('no host record');
      expect(record.pid).not.toBe(process.pid);
      await expect(launch()).rejects.toMatchObject({ code: 'SESSION_ALREADY_RUNNING' });

      // A host killed outright leaves its container, cgroups and files behind ...
      const pidNamespace = await fs.readlink(`/proc/${first.initPid}/ns/pid`);
      process.kill(record.pid, 'SIGKILL');
      for (let i = 0; i < 100 && existsSync(`/proc/${record.pid}`); i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(await findContainerCgroups(paths.containerName)).not.toEqual([]);
      // ... which the next start finds and cleans before booting a fresh guest.
      const second = await launch();
      expect(second.state.name).toBe('running');
      expect(second.initPid).not.toBe(first.initPid);
      // Namespace inodes are reused: only a namespace the new guest does not have must be empty.
      expect(existsSync(`/proc/${first.initPid}`)).toBe(false);
      if ((await fs.readlink(`/proc/${second.initPid}/ns/pid`)) !== pidNamespace) {
        expect(await processesInPidNamespace(pidNamespace)).toEqual([]);
      }
      expect(readFileSync(paths.hostLog, 'utf8')).toMatch(/cleaned a stale session/);

      const newRecord = await readHostRecord(paths.hostRecord);
      const stopped = await requestStop(paths.controlSocket, 5);
      expect(stopped.state.name).toBe('stopped');
      if (newRecord === null || newRecord === 'corrupt') throw new Error('no host record');
      for (let i = 0; i < 200 && existsSync(`/proc/${newRecord.pid}`); i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(existsSync(`/proc/${newRecord.pid}`)).toBe(false);
      expect(existsSync(paths.runtimeDir)).toBe(false);
      expect(await findContainerCgroups(paths.containerName)).toEqual([]);
    },
  );
});
