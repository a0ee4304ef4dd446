/**
 * `session start --image NAME|PATH` for Android images, end to end as far as this kernel allows.
 *
 * - Through the built CLI, on a kernel without binder: the start is refused with the exact
 *   kernel support missing (and, for an unknown name, how to get an image), exit 1, before
 *   anything is mounted or written; a `strict` policy is refused for Android with its reasons.
 * - Through `startSession` with only the binder piece of the readiness check waived (the
 *   test-only `androidReadinessForTests`; everything else is the real check, including name
 *   resolution through discovery): a fixture image whose `/init` is a busybox script writing the
 *   runtime's ready marker boots through the same path a real image takes — mount, properties,
 *   policy compiled with the merged root and `/init`, the detached session host — and
 *   `lxc-attach` sees `/system/build.prop`, `/vendor/build.prop` and the properties file. Stop,
 *   a failed start and a host that never starts each leave no mount, no loop device and no
 *   runtime folder behind, and the image files are unchanged.
 *
 * Not covered here (no binder in this kernel): `prepareBinder` and the binder nodes in the
 * compiled policy; a real Android init.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAndroidReadiness } from '../../electron/core/images/android-readiness.js';
import type { ReadinessOptions } from '../../electron/core/images/android-readiness.js';
import { loadPreset } from '../../electron/core/policy/presets.js';
import { androidMountDir } from '../../electron/core/runtime/android-mounts.js';
import { allocateIdRange } from '../../electron/core/runtime/id-ranges.js';
import { requestAttachExec } from '../../electron/core/runtime/control-client.js';
import {
  androidPolicyProblems,
  hostDeviceNode,
  type ServiceLocations,
} from '../../electron/core/session/plan.js';
import { sessionPaths, stopSession } from '../../electron/core/runtime/session-client.js';
import { startSession } from '../../electron/core/session/start.js';
import {
  makeExt4Image,
  writeSystemTree,
  writeVendorTree,
} from '../fixtures/images/fixture-images.js';
import { itNeeds, needRoot } from '../helpers/capability.js';
import { buildCli, droidway, mountTable, repoRoot } from './helpers/cli.js';

function which(tool: string): boolean {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hostHasBinder(): boolean {
  return /\sbinder$/m.test(readFileSync('/proc/filesystems', 'utf8')) || existsSync('/dev/binder');
}

function needAndroidSessionHost(): string | null {
  const root = needRoot();
  if (root) return root;
  for (const tool of ['lxc-start', 'lxc-attach', 'lxc-stop', 'mkfs.ext4', 'losetup']) {
    if (!which(tool) && !existsSync(`/usr/sbin/${tool}`) && !existsSync(`/sbin/${tool}`))
      return `${tool} is not installed`;
  }
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node')))
    return 'the native addon is not built (npm run build:native)';
  if (!/\soverlay$/m.test(readFileSync('/proc/filesystems', 'utf8')))
    return 'no overlayfs in /proc/filesystems';
  return null;
}

const missing = needAndroidSessionHost();
const refusalMissing =
  missing ?? (hostHasBinder() ? 'this host has binder: there is nothing to refuse' : null);

/** `losetup -a` lines naming a file under `dir`. */
function loopDevicesOn(dir: string): string[] {
  return execFileSync('losetup', ['-a'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir));
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** An init that writes the runtime's ready marker and waits for lxc-stop's SIGPWR. */
const READY_INIT = `#!/bin/busybox sh
# Fixture stand-in for Android's init: what the runtime waits for, nothing more.
/bin/busybox mkdir -p /run/droidway
echo "pid=$$" >/run/droidway/ready.tmp && /bin/busybox mv /run/droidway/ready.tmp /run/droidway/ready
trap 'exit 0' PWR TERM INT
while :; do
  /bin/busybox sleep 3600 &
  wait $!
done
`;

/** An init that fails at once: the start must fail and release everything. */
const FAILING_INIT = `#!/bin/busybox sh
echo "fixture init giving up"
exit 3
`;

/** A fixture image folder `dir` whose `/init` (→ `/system/bin/init`) is `init`, with busybox. */
function makeBootableImage(work: string, dir: string, init: string): void {
  const systemTree = path.join(work, `${path.basename(dir)}-system`);
  const vendorTree = path.join(work, `${path.basename(dir)}-vendor`);
  writeSystemTree(systemTree, { release: '11', sdk: 30, abi: 'x86_64' });
  writeFileSync(path.join(systemTree, 'system', 'bin', 'init'), init, { mode: 0o755 });
  execFileSync('mkdir', ['-p', path.join(systemTree, 'bin')]);
  copyFileSync('/bin/busybox', path.join(systemTree, 'bin', 'busybox'));
  execFileSync('chmod', ['0755', path.join(systemTree, 'bin', 'busybox')]);
  writeVendorTree(vendorTree, 30);
  execFileSync('mkdir', ['-p', dir]);
  makeExt4Image(systemTree, path.join(dir, 'system.img'), 32);
  makeExt4Image(vendorTree, path.join(dir, 'vendor.img'), 8);
}

/** The real readiness check with only the binder piece waived (this kernel has none). */
async function readyExceptBinder(options: ReadinessOptions) {
  const r = await checkAndroidReadiness(options);
  const rest = r.missing.filter((m) => m.id !== 'binder');
  return { ...r, missing: rest, ready: rest.length === 0, binder: null };
}

describe('Android policies and host devices', () => {
  it('the android preset can boot Android; strict cannot, and says why', () => {
    expect(androidPolicyProblems(loadPreset('android'))).toEqual([]);
    const strict = androidPolicyProblems(loadPreset('strict'));
    expect(strict.join('\n')).toMatch(/CAP_SYS_ADMIN/);
    expect(strict.join('\n')).toMatch(/denies mount\(2\)/);
    expect(strict.join('\n')).toMatch(/binder/);
  });

  it('reads device numbers of character devices only', async () => {
    expect(await hostDeviceNode('/dev/null', '/dev/null')).toEqual({
      hostPath: '/dev/null',
      guestPath: '/dev/null',
      major: 1,
      minor: 3,
    });
    expect(await hostDeviceNode('/etc/hostname', '/dev/x')).toBeNull();
    expect(await hostDeviceNode('/nonexistent', '/dev/x')).toBeNull();
  });
});

describe('droidway session start --image (root, LXC, fixture images)', () => {
  let tmp = '';
  let imageDir = '';
  let failingDir = '';
  let locations: ServiceLocations = {};

  beforeAll(async () => {
    if (missing) return;
    buildCli();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-session-android-'));
    // The guest's mapped root mounts its folders and must traverse the path to them.
    await fs.chmod(tmp, 0o755);
    imageDir = path.join(tmp, 'store', 'fixture11');
    failingDir = path.join(tmp, 'failing');
    makeBootableImage(tmp, imageDir, READY_INIT);
    makeBootableImage(tmp, failingDir, FAILING_INIT);
    locations = {
      dataRoot: path.join(tmp, 'data'),
      runtimeRoot: path.join(tmp, 'run'),
      imageDiscovery: { storeRoot: path.join(tmp, 'store'), waydroidDirs: [], userDirs: [] },
    };
  });

  afterAll(async () => {
    if (missing || !tmp) return;
    await stopSession({ ...locations, instance: 'android-boot' }, 2).catch(() => {});
    await fs.rm(tmp, { recursive: true, force: true });
  });

  itNeeds(
    'refuses on a kernel without binder, naming the kernel support, before anything is touched',
    refusalMissing,
    async () => {
      const instance = `it-android-${process.pid}`;
      const paths = sessionPaths(instance);
      const mountsBefore = mountTable();
      const loopsBefore = execFileSync('losetup', ['-a'], { encoding: 'utf8' });

      const run = await droidway('session', 'start', '--instance', instance, '--image', imageDir);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^droidway: Android cannot start on this host:/);
      expect(run.stderr).toMatch(/no binderfs in \/proc\/filesystems; no binder devices/);
      expect(run.stderr).toMatch(/fix: .*(CONFIG_ANDROID_BINDERFS|modprobe binder_linux)/);
      expect(run.stderr).not.toMatch(/image/i);

      const unknown = await droidway(
        'session',
        'start',
        '--instance',
        instance,
        '--image',
        'no-such-image',
        '--json',
      );
      expect(unknown.code).toBe(1);
      const answer = JSON.parse(unknown.stdout) as {
        ok: boolean;
        error: { code: string; message: string };
      };
      expect(answer.ok).toBe(false);
      expect(answer.error.code).toBe('ANDROID_NOT_READY');
      expect(answer.error.message).toMatch(/binder/);
      expect(answer.error.message).toMatch(/no image named "no-such-image"/);
      expect(answer.error.message).toMatch(/droidway image download/);

      const strict = await droidway(
        'session',
        'start',
        '--instance',
        instance,
        '--image',
        imageDir,
        '--preset',
        'strict',
      );
      expect(strict.code).toBe(1);
      expect(strict.stderr).toMatch(
        /^droidway: policy strict cannot boot Android: it drops CAP_SYS_ADMIN/,
      );

      expect(mountTable()).toEqual(mountsBefore);
      expect(execFileSync('losetup', ['-a'], { encoding: 'utf8' })).toBe(loopsBefore);
      for (const dir of [paths.dataDir, paths.runtimeDir, androidMountDir(paths)])
        expect(existsSync(dir), dir).toBe(false);
    },
  );

  itNeeds(
    'boots a fixture image by name through the session path; stop releases every mount and loop device',
    missing,
    async () => {
      const instance = 'android-boot';
      const paths = sessionPaths(instance, locations);
      const hashes = ['system.img', 'vendor.img'].map((f) => sha256(path.join(imageDir, f)));
      const mountsBefore = mountTable();

      const started = await startSession({
        ...locations,
        instance,
        image: 'fixture11',
        policy: { preset: 'android' },
        androidReadinessForTests: readyExceptBinder,
      });
      expect(started.status.state.name).toBe('running');
      expect(started.policyName).toBe('android');
      expect(started.notes.map((n) => n.message).join('\n')).toMatch(/binder is allowed but/);
      expect(loopDevicesOn(imageDir)).toHaveLength(2);
      const config = await fs.readFile(paths.lxcConfigFile, 'utf8');
      expect(config).toMatch(
        new RegExp(`^lxc\\.rootfs\\.path = dir:${androidMountDir(paths)}/android/rootfs$`, 'm'),
      );
      expect(config).toMatch(/^lxc\.init\.cmd = \/init$/m);

      const cat = async (file: string): Promise<string> => {
        const r = await requestAttachExec(paths.controlSocket, ['/bin/busybox', 'cat', file]);
        expect(r.exitCode, `${file}: ${r.stderr.toString()}`).toBe(0);
        return r.stdout.toString('utf8');
      };
      expect(await cat('/system/build.prop')).toMatch(/^ro\.build\.version\.release=11$/m);
      expect(await cat('/vendor/build.prop')).toMatch(/^ro\.vendor\.build\.version\.sdk=30$/m);
      const props = await cat('/vendor/waydroid.prop');
      expect(props).toMatch(/^waydroid\.wayland_display=wayland-0$/m);
      if (!existsSync('/dev/ashmem')) expect(props).toMatch(/^sys\.use_memfd=true$/m);
      expect(await cat('/proc/1/cmdline')).toMatch(/^\/bin\/busybox\0sh\0\/init\0/);
      // /data is the instance's; the properties file is not writable, and neither is the image's
      // /system: its files are host root's, and the guest's root is not (user namespace).
      const write = await requestAttachExec(paths.controlSocket, [
        '/bin/busybox',
        'sh',
        '-c',
        'echo y >/data/kept && ! echo z >/vendor/waydroid.prop && ! echo x >/system/added',
      ]);
      expect(write.exitCode, write.stderr.toString()).toBe(0);
      const uid = await requestAttachExec(paths.controlSocket, [
        '/bin/busybox',
        'stat',
        '-c',
        '%u',
        '/proc/1',
      ]);
      expect(uid.stdout.toString().trim()).toBe('0');

      const stopped = await stopSession({ ...locations, instance }, 5);
      expect(stopped.state.name).toBe('stopped');
      expect(mountTable()).toEqual(mountsBefore);
      expect(loopDevicesOn(imageDir)).toEqual([]);
      expect(existsSync(paths.runtimeDir)).toBe(false);
      expect(existsSync(androidMountDir(paths))).toBe(false);
      // Changes went to the instance's data folder, owned by its range; the images are untouched.
      expect(existsSync(path.join(paths.dataDir, 'overlay/system/upper/system/added'))).toBe(false);
      expect(readFileSync(path.join(paths.dataDir, 'data/kept'), 'utf8')).toBe('y\n');
      expect(statSync(path.join(paths.dataDir, 'data/kept')).uid).toBe(
        (await allocateIdRange(paths.dataDir)).hostBase,
      );
      expect(['system.img', 'vendor.img'].map((f) => sha256(path.join(imageDir, f)))).toEqual(
        hashes,
      );
    },
  );

  itNeeds(
    'a failed start and a host that never starts leave no mount, loop device or runtime folder',
    missing,
    async () => {
      const mountsBefore = mountTable();
      const failing = sessionPaths('android-fail', locations);
      const failed = await startSession({
        ...locations,
        instance: 'android-fail',
        image: failingDir,
        policy: { preset: 'android' },
        readyTimeoutMs: 10_000,
        androidReadinessForTests: readyExceptBinder,
      }).catch((e: unknown) => e as Error & { code?: string });
      expect(failed).toMatchObject({ code: 'LXC_START_FAILED' });
      // The fixture's init ran (from the mounted image) and gave up; nothing else failed.
      expect((failed as Error).message).toMatch(/the session (host exited|failed to start)/);
      expect(await fs.readFile(failing.consoleLog, 'utf8')).toMatch(/fixture init giving up/);
      expect(mountTable()).toEqual(mountsBefore);
      expect(loopDevicesOn(failingDir)).toEqual([]);
      expect(existsSync(failing.runtimeDir)).toBe(false);
      expect(existsSync(androidMountDir(failing))).toBe(false);

      const hostless = sessionPaths('android-nohost', locations);
      await expect(
        startSession({
          ...locations,
          instance: 'android-nohost',
          image: imageDir,
          policy: { preset: 'android' },
          hostScript: path.join(tmp, 'no-such-host.js'),
          androidReadinessForTests: readyExceptBinder,
        }),
      ).rejects.toMatchObject({ code: 'LXC_START_FAILED' });
      expect(mountTable()).toEqual(mountsBefore);
      expect(loopDevicesOn(imageDir)).toEqual([]);
      expect(existsSync(hostless.runtimeDir)).toBe(false);
      expect(existsSync(androidMountDir(hostless))).toBe(false);
    },
  );
});
