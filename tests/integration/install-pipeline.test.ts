/**
 * The install pipeline end to end: a demo guest started with `session start --android-tools`
 * (the fixture `pm`/`am`/`cmd` at `/system/bin`, a persistent `/data`), real APKs built by aapt
 * and signed by apksigner, streamed into the guest through `lxc-attach`. Each of Android's
 * refusals the fixture reproduces comes back as a typed error with a plain message; the staging
 * folder is always empty afterwards; cancelling mid-copy or mid-stream installs nothing; bad
 * inputs are refused before anything is staged.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  findRunningGuest,
  lxcGuestExecutor,
  type GuestExecutor,
} from '../../electron/core/android/guest-exec.js';
import { guestDataPathToHost } from '../../electron/core/android/guest-data.js';
import {
  listPackages,
  packagePaths,
  startActivity,
  uninstallPackage,
} from '../../electron/core/android/package-manager.js';
import { parseInstallVerdict } from '../../electron/core/android/pm-output.js';
import {
  installFile,
  type InstallOptions,
  type InstallProgress,
  type InstalledEvent,
} from '../../electron/core/install/install-pipeline.js';
import { InstallQueue } from '../../electron/core/install/install-queue.js';
import { instancePaths } from '../../electron/core/runtime/instance-paths.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { ApkBuilder, apkToolsMissing } from '../fixtures/android-guest/build-apks.js';
import { buildCli, droidway, repoRoot } from './helpers/cli.js';
import { fixtureInstanceName, useFixtureSession } from './helpers/fixture-session.js';

const INSTANCE = fixtureInstanceName('install-it');

function needs(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(['lxc-start', 'lxc-attach', 'openssl', 'unzip']);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node')))
    return 'the native addon is not built (npm run build:native)';
  return apkToolsMissing();
}

const missing = needs();
const paths = instancePaths(INSTANCE);

let work: string;
let staging: string;
let apks: ApkBuilder;
let exec: GuestExecutor;
const files: Record<string, string> = {};

function sha256(file: string): Promise<string> {
  return fs.readFile(file).then((b) => createHash('sha256').update(b).digest('hex'));
}

async function stagingEntries(): Promise<string[]> {
  return fs.readdir(staging).catch(() => []);
}

async function callsLog(): Promise<string> {
  const host = await guestDataPathToHost(INSTANCE, '/data/droidway-fixture/calls.log');
  return fs.readFile(host, 'utf8').catch(() => '');
}

/** The log without the read-only check each install starts with (`requirePackageManager`). */
async function changingCalls(): Promise<string> {
  return (await callsLog())
    .split('\n')
    .filter((line) => !line.endsWith(' cmd package list packages android'))
    .join('\n');
}

async function install(
  file: string,
  extra: Partial<InstallOptions> = {},
): Promise<{
  events: InstallProgress[];
  installed: InstalledEvent[];
  result: Awaited<ReturnType<typeof installFile>> | null;
  error: { code: string; message: string } | null;
}> {
  const events: InstallProgress[] = [];
  const installed: InstalledEvent[] = [];
  try {
    const result = await installFile(file, {
      exec,
      stagingRoot: staging,
      onProgress: (e) => events.push(e),
      onInstalled: (e) => installed.push(e),
      ...extra,
    });
    return { events, installed, result, error: null };
  } catch (e) {
    const err = e as { code: string; message: string };
    return { events, installed, result: null, error: { code: err.code, message: err.message } };
  }
}

describe('app install into the demo guest with the fixture Android tools (root, LXC)', () => {
  beforeAll(async () => {
    if (missing) return;
    buildCli();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'install-it-'));
    staging = path.join(work, 'staging');
    apks = new ApkBuilder(path.join(work, 'apks'));
    const build = async (key: string, spec: Parameters<ApkBuilder['build']>[0]): Promise<void> => {
      files[key] = await apks.build(spec);
    };
    await build('hello7', { name: 'hello7', pkg: 'org.example.hello', versionCode: 7 });
    await build('hello3', { name: 'hello3', pkg: 'org.example.hello', versionCode: 3 });
    await build('hello9bob', {
      name: 'hello9bob',
      pkg: 'org.example.hello',
      versionCode: 9,
      key: 'bob',
    });
    await build('hello8v2', {
      name: 'hello8v2',
      pkg: 'org.example.hello',
      versionCode: 8,
      schemes: 'v2',
    });
    await build('hello10v1', {
      name: 'hello10v1',
      pkg: 'org.example.hello',
      versionCode: 10,
      schemes: 'v1',
      // Android 11+ refuses a v1-only APK that targets 30 or later (so does the reader).
      targetSdk: 29,
    });
    await build('hello11bobv2', {
      name: 'hello11bobv2',
      pkg: 'org.example.hello',
      versionCode: 11,
      key: 'bob',
      schemes: 'v2',
    });
    await build('newsdk', {
      name: 'newsdk',
      pkg: 'org.example.newsdk',
      versionCode: 1,
      minSdk: 35,
    });
    await build('arm', {
      name: 'arm',
      pkg: 'org.example.arm',
      versionCode: 1,
      abis: ['arm64-v8a', 'armeabi-v7a'],
    });
    await build('fat', {
      name: 'fat',
      pkg: 'org.example.fat',
      versionCode: 2,
      abis: ['arm64-v8a', 'x86_64'],
    });
    await build('unsigned', {
      name: 'unsigned',
      pkg: 'org.example.unsigned',
      versionCode: 1,
      key: null,
    });
    await build('two', { name: 'two', pkg: 'org.example.two', versionCode: 1 });
    await build('three', { name: 'three', pkg: 'org.example.three', versionCode: 1 });
    await build('splitBase', { name: 'split-base', pkg: 'org.example.split', versionCode: 4 });
    await build('splitAbi', {
      name: 'split-abi',
      pkg: 'org.example.split',
      versionCode: 4,
      split: 'config.x86_64',
      abis: ['x86_64'],
    });
    await build('big', {
      name: 'big',
      pkg: 'org.example.big',
      versionCode: 1,
      key: null,
      padTo: 160 * 1024 * 1024,
    });
    files.bundle = apks.bundle('split.apks', {
      'base.apk': files.splitBase!,
      'splits/config.x86_64.apk': files.splitAbi!,
    });
    files.noBase = apks.bundle('nobase.xapk', { 'config.x86_64.apk': files.splitAbi! });
    files.notApk = path.join(work, 'notes.apk');
    await fs.writeFile(files.notApk, 'this is not a zip file\n'.repeat(100));
  }, 300_000);
  // Runs after the session's own afterAll (hooks after the tests run in reverse order).
  afterAll(async () => {
    if (missing) return;
    await fs.rm(work, { recursive: true, force: true });
  });

  useFixtureSession(missing, { instance: INSTANCE, androidTools: true });
  beforeAll(async () => {
    if (missing) return;
    exec = lxcGuestExecutor(await findRunningGuest({ instance: INSTANCE }));
  });

  itNeeds(
    'installs an APK: the file in the guest /data/app equals the source',
    missing,
    async () => {
      const r = await install(files.hello7!);
      expect(r.error).toBeNull();
      expect(r.result).toMatchObject({
        packageName: 'org.example.hello',
        versionCode: 7,
        apkCount: 1,
      });
      expect(r.installed).toEqual([{ pkg: 'org.example.hello', versionCode: 7 }]);
      const stages = [...new Set(r.events.map((e) => e.stage))];
      expect(stages).toEqual(['copying', 'checking', 'installing', 'done']);
      const last = r.events.at(-1)!;
      expect(last.bytes).toBe(last.totalBytes);

      const guestPaths = await packagePaths(exec, 'org.example.hello');
      expect(guestPaths).toHaveLength(1);
      expect(guestPaths[0]).toMatch(
        /^\/data\/app\/~~[A-Za-z0-9_-]+\/org\.example\.hello-[A-Za-z0-9_-]+\/base\.apk$/,
      );
      const host = await guestDataPathToHost(INSTANCE, guestPaths[0]!);
      const source = await sha256(files.hello7!);
      expect(await sha256(host)).toBe(source);
      expect(r.result?.sha256).toBe(source);
      expect(await callsLog()).toContain(
        `cmd package install -S ${(await fs.stat(files.hello7!)).size}`,
      );
      expect(await stagingEntries()).toEqual([]);

      const listed = await listPackages(exec, { thirdPartyOnly: true });
      expect(listed).toContainEqual({
        packageName: 'org.example.hello',
        versionCode: 7,
        apkPath: guestPaths[0],
      });
    },
  );

  itNeeds('launches the installed activity and refuses a missing one', missing, async () => {
    expect(await startActivity(exec, 'org.example.hello', '.Main')).toBe('org.example.hello/.Main');
    await expect(startActivity(exec, 'org.example.hello', '.Nope')).rejects.toMatchObject({
      code: 'ACTIVITY_NOT_FOUND',
      message: expect.stringContaining(
        'Activity class {org.example.hello/org.example.hello.Nope} does not exist',
      ),
    });
  });

  itNeeds('refuses a downgrade and an update signed by someone else', missing, async () => {
    const down = await install(files.hello3!);
    expect(down.error?.code).toBe('INSTALL_FAILED_VERSION_DOWNGRADE');
    expect(down.error?.message).toBe(
      'a newer version of org.example.hello is installed (version code 7; this file has 3)',
    );
    const other = await install(files.hello9bob!);
    expect(other.error?.code).toBe('INSTALL_FAILED_UPDATE_INCOMPATIBLE');
    expect(other.error?.message).toMatch(/signed by a different developer/);
    expect(down.installed).toEqual([]);
    expect(other.installed).toEqual([]);
    const listed = await listPackages(exec, { thirdPartyOnly: true });
    expect(listed.find((p) => p.packageName === 'org.example.hello')?.versionCode).toBe(7);
    expect(await stagingEntries()).toEqual([]);
  });

  itNeeds(
    'accepts updates by the same signer whatever the scheme (v2 only, v1 only); refuses another signer',
    missing,
    async () => {
      expect((await install(files.hello8v2!)).error).toBeNull();
      expect((await install(files.hello10v1!)).error).toBeNull();
      const other = await install(files.hello11bobv2!);
      expect(other.error?.code).toBe('INSTALL_FAILED_UPDATE_INCOMPATIBLE');
      const listed = await listPackages(exec, { thirdPartyOnly: true });
      expect(listed.find((p) => p.packageName === 'org.example.hello')?.versionCode).toBe(10);
    },
  );

  itNeeds('refuses an app for a newer Android, naming both versions', missing, async () => {
    const r = await install(files.newsdk!);
    expect(r.error).toEqual({
      code: 'INSTALL_FAILED_OLDER_SDK',
      message: 'org.example.newsdk needs Android 15 (API 35); this guest runs Android 14 (API 34)',
    });
    expect(r.events.at(-1)?.stage).toBe('failed');
  });

  itNeeds(
    'refuses native code for other processors; accepts a fat APK with x86_64',
    missing,
    async () => {
      const arm = await install(files.arm!);
      expect(arm.error?.code).toBe('INSTALL_FAILED_NO_MATCHING_ABIS');
      expect(arm.error?.message).toContain('(arm64-v8a, armeabi-v7a)');
      const fat = await install(files.fat!);
      expect(fat.error).toBeNull();
    },
  );

  itNeeds(
    'refuses an unsigned APK and one that does not fit in the guest storage',
    missing,
    async () => {
      const unsigned = await install(files.unsigned!);
      expect(unsigned.error?.code).toBe('INSTALL_PARSE_FAILED_NO_CERTIFICATES');
      const free = await guestDataPathToHost(INSTANCE, '/data/droidway-fixture/free-bytes');
      await fs.writeFile(free, '1000\n');
      try {
        const full = await install(files.two!);
        expect(full.error?.code).toBe('INSTALL_FAILED_INSUFFICIENT_STORAGE');
        expect(full.error?.message).toBe(
          'the guest does not have enough free storage for org.example.two',
        );
      } finally {
        await fs.rm(free);
      }
      expect(await packagePaths(exec, 'org.example.two')).toEqual([]);
    },
  );

  itNeeds(
    'refuses a file that is not an APK before the guest sees it; the guest agrees',
    missing,
    async () => {
      const before = await changingCalls();
      const r = await install(files.notApk!);
      expect(r.error?.code).toMatch(/^APK_/);
      expect(r.events.at(-1)?.stage).toBe('failed');
      expect(await changingCalls()).toBe(before);
      // The fixture's own check, fed the same bytes directly.
      const bytes = await fs.readFile(files.notApk!);
      const raw = await exec(['cmd', 'package', 'install', '-S', String(bytes.length)], {
        stdin: Readable.from([bytes]),
      });
      const verdict = parseInstallVerdict(raw.stdout, raw.stderr, raw.exitCode);
      expect(verdict).toMatchObject({ ok: false, code: 'INSTALL_PARSE_FAILED_NOT_APK' });
    },
  );

  itNeeds(
    'installs a split bundle (.apks); refuses one without a base (.xapk)',
    missing,
    async () => {
      const r = await install(files.bundle!);
      expect(r.error).toBeNull();
      expect(r.result).toMatchObject({
        packageName: 'org.example.split',
        versionCode: 4,
        apkCount: 2,
      });
      const guestPaths = await packagePaths(exec, 'org.example.split');
      expect(guestPaths).toHaveLength(2);
      expect(guestPaths[1]).toMatch(/\/split_config\.x86_64\.apk$/);
      expect(await sha256(await guestDataPathToHost(INSTANCE, guestPaths[1]!))).toBe(
        await sha256(files.splitAbi!),
      );
      expect(await callsLog()).toMatch(/cmd package install-commit \d+/);

      const noBase = await install(files.noBase!);
      expect(noBase.error).toMatchObject({
        code: 'INSTALL_FAILED_INVALID_APK',
        message: 'the bundle has split APKs but no base APK',
      });
      const sessions = await guestDataPathToHost(INSTANCE, '/data/droidway-fixture/sessions');
      expect(await fs.readdir(sessions)).toEqual([]);
      expect(await stagingEntries()).toEqual([]);
    },
  );

  itNeeds('a queue of three with one bad: the other two install', missing, async () => {
    const queue = new InstallQueue({ exec, stagingRoot: staging });
    const installed: InstalledEvent[] = [];
    queue.on('installed', (e) => installed.push(e));
    queue.add(files.two!);
    queue.add(files.arm!);
    queue.add(files.three!);
    const outcomes = await queue.settled();
    expect(outcomes.map((o) => [o.id, o.ok])).toEqual([
      ['1', true],
      ['2', false],
      ['3', true],
    ]);
    expect(outcomes[1]).toMatchObject({ error: { code: 'INSTALL_FAILED_NO_MATCHING_ABIS' } });
    expect(installed.map((e) => e.pkg)).toEqual(['org.example.two', 'org.example.three']);
    expect(await stagingEntries()).toEqual([]);
  });

  itNeeds('cancelling mid-copy leaves no staging and installs nothing', missing, async () => {
    const controller = new AbortController();
    const seen: InstallProgress[] = [];
    const before = await changingCalls();
    const r = await install(files.big!, {
      signal: controller.signal,
      onProgress: (e) => {
        seen.push(e);
        if (e.stage === 'copying' && e.bytes > 0) controller.abort();
      },
    });
    expect(r.error?.code).toBe('CANCELLED');
    expect(seen.at(-1)?.stage).toBe('cancelled');
    const copied = seen.filter((e) => e.stage === 'copying').at(-1)!;
    expect(copied.bytes).toBeLessThan(copied.totalBytes);
    expect(await stagingEntries()).toEqual([]);
    expect(await changingCalls()).toBe(before);
    expect(await packagePaths(exec, 'org.example.big')).toEqual([]);
  });

  itNeeds('cancelling mid-stream kills the attach and installs nothing', missing, async () => {
    const controller = new AbortController();
    const seen: InstallProgress[] = [];
    const started = Date.now();
    const r = await install(files.big!, {
      signal: controller.signal,
      onProgress: (e) => {
        seen.push(e);
        // Well into the stream: the guest's pm is reading by then (the pipe holds far less).
        if (e.stage === 'installing' && e.bytes >= 32 * 1024 * 1024) controller.abort();
      },
    });
    expect(r.error?.code).toBe('CANCELLED');
    expect(seen.at(-1)?.stage).toBe('cancelled');
    const sent = seen.filter((e) => e.stage === 'installing').at(-1)!;
    expect(sent.bytes).toBeLessThan(sent.totalBytes);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await stagingEntries()).toEqual([]);
    expect(await callsLog()).toContain(
      `cmd package install -S ${(await fs.stat(files.big!)).size}`,
    );
    // The guest saw a short stream: it refuses, and cleans its temporary folder.
    const fixtureDir = await guestDataPathToHost(INSTANCE, '/data/droidway-fixture');
    for (let i = 0; i < 100; i++) {
      if (!(await fs.readdir(fixtureDir)).some((n) => n.startsWith('tmp.'))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await fs.readdir(fixtureDir)).filter((n) => n.startsWith('tmp.'))).toEqual([]);
    expect(await packagePaths(exec, 'org.example.big')).toEqual([]);
  });

  itNeeds(
    'refuses a folder, a FIFO, a symlink to /dev/zero and an oversized file before staging',
    missing,
    async () => {
      const fifo = path.join(work, 'pipe.apk');
      execFileSync('mkfifo', [fifo]);
      const link = path.join(work, 'zero.apk');
      await fs.symlink('/dev/zero', link);
      const dir = path.join(work, 'folder.apk');
      await fs.mkdir(dir);
      await fs.rm(staging, { recursive: true, force: true });
      const before = await changingCalls();
      for (const [file, code] of [
        [dir, 'APK_NOT_A_FILE'],
        [fifo, 'APK_NOT_A_FILE'],
        [link, 'APK_NOT_A_FILE'],
        ['/nonexistent/x.apk', 'APK_NOT_A_FILE'],
      ] as const) {
        const r = await install(file);
        expect(r.error?.code, file).toBe(code);
      }
      const big = await install(files.two!, { maxBytes: 1000 });
      expect(big.error?.code).toBe('APK_TOO_LARGE');
      expect(existsSync(staging)).toBe(false);
      expect(await changingCalls()).toBe(before);
    },
  );

  itNeeds('uninstalls; a second uninstall fails as Android does', missing, async () => {
    expect(await uninstallPackage(exec, 'org.example.three')).toEqual({ ok: true });
    expect(await uninstallPackage(exec, 'org.example.three')).toMatchObject({
      ok: false,
      code: 'DELETE_FAILED_INTERNAL_ERROR',
    });
    expect(await packagePaths(exec, 'org.example.three')).toEqual([]);
  });

  itNeeds(
    'guest paths reaching through a symlink the guest planted are refused',
    missing,
    async () => {
      const r = await exec(['ln', '-s', '/', '/data/escape']);
      expect(r.exitCode).toBe(0);
      await expect(guestDataPathToHost(INSTANCE, '/data/escape/etc/passwd')).rejects.toMatchObject({
        code: 'GUEST_PATH_UNSAFE',
      });
    },
  );

  itNeeds(
    'droidway app install: a result per file, progress on stderr, exit 1 when one failed',
    missing,
    async () => {
      const run = await droidway(
        'app',
        'install',
        files.fat!,
        files.newsdk!,
        '--instance',
        INSTANCE,
        '--json',
      );
      expect(run.code).toBe(1);
      const parsed = JSON.parse(run.stdout) as {
        ok: boolean;
        results: Array<{ ok: boolean; error?: { code: string } }>;
      };
      expect(parsed.ok).toBe(false);
      expect(parsed.results.map((r) => r.ok)).toEqual([true, false]);
      expect(parsed.results[1]?.error?.code).toBe('INSTALL_FAILED_OLDER_SDK');
      expect(run.stderr).toContain('[1/2] fat.apk: copying 0%');
      expect(run.stderr).toContain('[1/2] fat.apk: done');
      // The code is in the JSON; the line a person reads has only words.
      expect(run.stderr).toMatch(/\[2\/2\] newsdk\.apk: failed: .+ needs Android /);

      const ok = await droidway('app', 'install', files.two!, '--instance', INSTANCE);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe('two.apk: installed org.example.two (version code 1)\n');
      const stagingDir = path.join(paths.dataDir, 'install-staging');
      expect(await fs.readdir(stagingDir).catch(() => [])).toEqual([]);

      const badTools = await droidway(
        'session',
        'start',
        '--instance',
        'install-none',
        '--android-tools',
        path.join(work, 'no-such-folder'),
      );
      expect(badTools.code).toBe(1);
      expect(badTools.stderr).toMatch(/^droidway: --android-tools .* is not a folder/);

      const none = await droidway('app', 'install', files.two!, '--instance', 'install-none');
      // No session is an answer (exit 1), as for every other command.
      expect(none.code).toBe(1);
      expect(none.stderr).toBe(
        'droidway: no session is running for instance install-none; start one with droidway session start --instance install-none\n',
      );
    },
  );
});
