import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { AndroidError } from '../../../../electron/core/android/android-errors.js';
import type {
  GuestExecOptions,
  GuestExecResult,
  GuestExecutor,
} from '../../../../electron/core/android/guest-exec.js';
import type { ApkInfo } from '../../../../electron/core/apk/apk-reader.js';
import { InstallError } from '../../../../electron/core/install/install-errors.js';
import {
  installFile,
  type InstallOptions,
  type InstallProgress,
  type InstallResult,
} from '../../../../electron/core/install/install-pipeline.js';
import {
  androidVerdict,
  InstallQueue,
  sentence,
} from '../../../../electron/core/install/install-queue.js';
import type { InstallItem } from '../../../../electron/shared/apps.js';

let dir: string;
let staging: string;

/** The facts the pipeline uses; the rest of `ApkInfo` does not matter here. */
function info(pkg: string, versionCode = 1): ApkInfo {
  const used: Pick<ApkInfo, 'packageName' | 'versionCode' | 'minSdkVersion' | 'nativeAbis'> = {
    packageName: pkg,
    versionCode,
    minSdkVersion: 21,
    nativeAbis: [],
  };
  return used as ApkInfo;
}

/** Reads a stream to the end, or until the signal aborts (then rejects like lxc-attach would). */
async function drain(stream: Readable, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for await (const chunk of stream) {
    if (signal?.aborted) throw new AndroidError('CANCELLED', 'cancelled');
    n += (chunk as Buffer).length;
  }
  return n;
}

/**
 * A fake guest: `cmd package install -S N` reads stdin and answers Success when N bytes came
 * and the content does not start with "bad"; files starting with "slow" wait for an abort.
 */
/** The package-manager check every install starts with (`requirePackageManager`). */
const CHECK = 'cmd package list packages android';

function fakeGuest(calls: string[]): GuestExecutor {
  return async (argv: readonly string[], options: GuestExecOptions = {}) => {
    calls.push(argv.join(' '));
    const answer = (stdout: string, exitCode = 0): GuestExecResult => ({
      exitCode,
      signal: null,
      stdout,
      stderr: '',
      stdoutTruncated: false,
      stderrTruncated: false,
    });
    // Android's answer to the package-manager check (`requirePackageManager`).
    if (argv.join(' ') === CHECK) return answer('package:com.android.shell\npackage:android\n');
    if (argv[2] !== 'install') return answer('Error: unexpected', 1);
    const stdin = options.stdin!;
    if (options.signal?.aborted) {
      stdin.destroy();
      throw new AndroidError('CANCELLED', 'cancelled');
    }
    const first = await new Promise<Buffer>((resolve) => stdin.once('data', resolve));
    if (first.toString().startsWith('slow')) {
      await new Promise((_, reject) => {
        const cancel = (): void => {
          stdin.destroy();
          reject(new AndroidError('CANCELLED', 'cancelled'));
        };
        if (options.signal?.aborted) cancel();
        options.signal?.addEventListener('abort', cancel);
      });
    }
    const total = first.length + (await drain(stdin, options.signal));
    if (String(total) !== argv[4]) return answer('Error: short stream', 1);
    if (first.toString().startsWith('bad'))
      return answer(
        'Failure [INSTALL_FAILED_NO_MATCHING_ABIS: Failed to extract native libraries, res=-113]\n',
        1,
      );
    return answer('Success\n');
  };
}

const readApk = async (file: string): Promise<ApkInfo> => {
  const text = (await fs.readFile(file, 'utf8')).slice(0, 20);
  if (text.startsWith('corrupt'))
    throw Object.assign(new Error('not a zip'), { code: 'APK_ZIP_INVALID' });
  return info(`com.example.${text.replace(/[^a-z]/g, '') || 'x'}`, 3);
};

async function file(name: string, content: string | Buffer): Promise<string> {
  const f = path.join(dir, name);
  await fs.writeFile(f, content);
  return f;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'install-queue-'));
  staging = path.join(dir, 'staging');
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('installFile with a fake guest', () => {
  it('goes through copying, checking, installing and done, then reports the package', async () => {
    const calls: string[] = [];
    const events: InstallProgress[] = [];
    const installed: unknown[] = [];
    const f = await file('good.apk', `good${'x'.repeat(3 * 1024 * 1024)}`);
    const r = await installFile(f, {
      exec: fakeGuest(calls),
      stagingRoot: staging,
      readApk,
      onProgress: (e) => events.push(e),
      onInstalled: (e) => installed.push(e),
    });
    expect(r).toMatchObject({ packageName: 'com.example.goodxxxxxxxxxxxxxxxx', versionCode: 3 });
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(calls).toEqual([CHECK, `cmd package install -S ${3 * 1024 * 1024 + 4}`]);
    expect([...new Set(events.map((e) => e.stage))]).toEqual([
      'copying',
      'checking',
      'installing',
      'done',
    ]);
    expect(events.filter((e) => e.stage === 'installing').at(-1)?.bytes).toBe(3 * 1024 * 1024 + 4);
    expect(installed).toHaveLength(1);
    expect(await fs.readdir(staging)).toEqual([]);
  });

  it('installs nothing into the guest when the reader refuses the file', async () => {
    const calls: string[] = [];
    const f = await file('corrupt.apk', 'corrupt data');
    await expect(
      installFile(f, { exec: fakeGuest(calls), stagingRoot: staging, readApk }),
    ).rejects.toMatchObject({ code: 'APK_ZIP_INVALID' });
    // Only the read-only check that the guest has a package manager ran.
    expect(calls).toEqual([CHECK]);
    expect(await fs.readdir(staging)).toEqual([]);
  });

  it('refuses at once, copying nothing, when the guest has no Android', async () => {
    const calls: string[] = [];
    // A demo guest: lxc-attach cannot exec cmd there.
    const demo: GuestExecutor = async (argv) => {
      calls.push(argv.join(' '));
      return {
        exitCode: 1,
        signal: null,
        stdout: '',
        stderr: 'lxc-attach: demo: attach.c: 1451 Failed to exec "cmd"\n',
        stdoutTruncated: false,
        stderrTruncated: false,
      };
    };
    const events: InstallProgress[] = [];
    const error = await installFile(await file('hello.apk', 'good'), {
      exec: demo,
      stagingRoot: staging,
      readApk,
      onProgress: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GUEST_NOT_ANDROID' });
    expect((error as Error).message).not.toContain('lxc-attach');
    expect(calls).toEqual([CHECK]);
    expect(events.map((e) => e.stage)).toEqual(['failed']);
    expect(await fs.readdir(staging)).toEqual([]);
  });

  it("names the person's file in a refusal, never the staging copy", async () => {
    const f = await file('fake.apk', 'corrupt data');
    const naming = async (staged: string): Promise<ApkInfo> => {
      throw Object.assign(new Error(`${path.basename(staged)}: no end of central directory`), {
        code: 'APK_ZIP_INVALID',
      });
    };
    const events: InstallProgress[] = [];
    await expect(
      installFile(f, {
        exec: fakeGuest([]),
        stagingRoot: staging,
        readApk: naming,
        onProgress: (e) => events.push(e),
      }),
    ).rejects.toMatchObject({
      code: 'APK_ZIP_INVALID',
      message: 'fake.apk: no end of central directory',
    });
    expect(events.at(-1)?.error?.message).toBe('fake.apk: no end of central directory');
    expect(await fs.readdir(staging)).toEqual([]);
  });

  it('is cancelled at once when the signal is already aborted', async () => {
    const events: InstallProgress[] = [];
    await expect(
      installFile(await file('pre.apk', 'good'), {
        exec: fakeGuest([]),
        stagingRoot: staging,
        readApk,
        signal: AbortSignal.abort(),
        onProgress: (e) => events.push(e),
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(events.map((e) => e.stage)).toEqual(['cancelled']);
  });

  it('turns a guest that cannot run into a failure, not a crash', async () => {
    const exec: GuestExecutor = () =>
      Promise.reject(new AndroidError('GUEST_EXEC_TIMEOUT', 'cmd package did not finish'));
    await expect(
      installFile(await file('t.apk', 'good'), { exec, stagingRoot: staging, readApk }),
    ).rejects.toMatchObject({ code: 'GUEST_EXEC_TIMEOUT' });
    expect(await fs.readdir(staging)).toEqual([]);
  });
});

describe('InstallQueue', () => {
  it('installs one file after another; a failure does not stop the rest', async () => {
    const calls: string[] = [];
    const queue = new InstallQueue({ exec: fakeGuest(calls), stagingRoot: staging, readApk });
    const installed: string[] = [];
    const stages: string[] = [];
    queue.on('installed', (e) => installed.push(e.pkg));
    queue.on('progress', (e) => stages.push(`${e.id}:${e.stage}`));
    const ids = [
      queue.add(await file('one.apk', 'one')),
      queue.add(await file('bad.apk', 'bad')),
      queue.add(await file('corrupt2.apk', 'corrupt')),
      queue.add(await file('two.apk', 'two')),
    ];
    expect(ids).toEqual(['1', '2', '3', '4']);
    const outcomes = await queue.settled();
    expect(outcomes.map((o) => [o.id, o.ok, o.ok ? o.value.packageName : o.error.code])).toEqual([
      ['1', true, 'com.example.one'],
      ['2', false, 'INSTALL_FAILED_NO_MATCHING_ABIS'],
      ['3', false, 'APK_ZIP_INVALID'],
      ['4', true, 'com.example.two'],
    ]);
    expect(installed).toEqual(['com.example.one', 'com.example.two']);
    // Sequential: every stage of file 1 comes before any of file 2.
    const firstOf2 = stages.indexOf('2:copying');
    expect(stages.slice(0, firstOf2).every((s) => s.startsWith('1:'))).toBe(true);
    // Four checks; three files reach the installer (the corrupt one is refused first).
    expect(calls.filter((c) => c === CHECK)).toHaveLength(4);
    expect(calls.filter((c) => c !== CHECK)).toHaveLength(3);
    expect(queue.idle).toBe(true);
    expect(await fs.readdir(staging)).toEqual([]);
  });

  it('cancels the running install and a queued one; the rest still install', async () => {
    const calls: string[] = [];
    const queue = new InstallQueue({ exec: fakeGuest(calls), stagingRoot: staging, readApk });
    queue.on('progress', (e) => {
      if (e.id === '1' && e.stage === 'installing' && e.bytes > 0) queue.cancel('1');
    });
    queue.add(await file('slow.apk', `slow${'x'.repeat(1024 * 1024)}`));
    const queued = queue.add(await file('three.apk', 'three'));
    queue.add(await file('four.apk', 'four'));
    expect(queue.cancel(queued)).toBe(true);
    expect(queue.cancel('99')).toBe(false);
    const outcomes = await queue.settled();
    expect(
      outcomes
        .map((o) => [o.id, o.ok ? 'ok' : o.error.code])
        .sort((a, b) => a[0]!.localeCompare(b[0]!)),
    ).toEqual([
      ['1', 'CANCELLED'],
      ['2', 'CANCELLED'],
      ['3', 'ok'],
    ]);
    expect(await fs.readdir(staging)).toEqual([]);
  });

  it('cancelAll ends everything; a retry of the same file then works', async () => {
    const calls: string[] = [];
    const queue = new InstallQueue({ exec: fakeGuest(calls), stagingRoot: staging, readApk });
    const slow = await file('slow2.apk', `slow${'y'.repeat(1024)}`);
    queue.on('progress', (e) => {
      if (e.stage === 'installing' && e.bytes > 0) queue.cancelAll();
    });
    queue.add(slow);
    queue.add(await file('five.apk', 'five'));
    const outcomes = await queue.settled();
    expect(outcomes.every((o) => !o.ok && o.error.code === 'CANCELLED')).toBe(true);
    expect(await fs.readdir(staging)).toEqual([]);

    const retry = new InstallQueue({ exec: fakeGuest(calls), stagingRoot: staging, readApk });
    retry.add(await file('five.apk', 'five'));
    expect((await retry.settled()).map((o) => o.ok)).toEqual([true]);
  });

  it('settles at once when idle', async () => {
    const queue = new InstallQueue({ exec: fakeGuest([]), stagingRoot: staging, readApk });
    expect(await queue.settled()).toEqual([]);
  });
});

/** An installer driven by the test: each call waits until the test settles it. */
function controlledInstall(): {
  install: typeof installFile;
  calls: {
    file: string;
    options: InstallOptions;
    resolve: (pkg: string, versionName?: string) => void;
    reject: (e: unknown) => void;
  }[];
} {
  const calls: ReturnType<typeof controlledInstall>['calls'] = [];
  const install = (file: string, options: InstallOptions): Promise<InstallResult> =>
    new Promise((resolve, reject) => {
      options.signal?.addEventListener('abort', () =>
        reject(new InstallError('CANCELLED', 'cancelled')),
      );
      calls.push({
        file,
        options,
        resolve: (pkg, versionName) =>
          resolve({
            id: options.id ?? '',
            file,
            packageName: pkg,
            versionCode: 7,
            ...(versionName !== undefined ? { versionName } : {}),
            sha256: '0'.repeat(64),
            bytes: 100,
            apkCount: 1,
          }),
        reject,
      });
    });
  return { install, calls };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("InstallQueue's items (what the window shows)", () => {
  it('refuses non-APK names at once and runs the others one at a time', async () => {
    const { install, calls } = controlledInstall();
    const queue = new InstallQueue({ exec: fakeGuest([]), stagingRoot: staging, install });
    const events: InstallItem[] = [];
    queue.on('item', (item) => events.push(item));
    const items = queue.start(['/a/one.apk', '/a/notes.txt', '/a/two.XAPK', '/a/.apk']);
    expect(items.map((i) => [i.fileName, i.stage])).toEqual([
      ['one.apk', 'queued'],
      ['notes.txt', 'refused'],
      ['two.XAPK', 'queued'],
      ['.apk', 'refused'],
    ]);
    expect(new Set(items.map((i) => i.id)).size).toBe(4);
    expect(items[1]?.message).toBe(
      'Not an Android app: only .apk, .apks, .xapk files can be installed.',
    );
    await tick();
    expect(calls.map((c) => c.file)).toEqual(['/a/one.apk']);
    const progress = (stage: InstallProgress['stage'], bytes: number): void =>
      calls[0]!.options.onProgress?.({
        id: calls[0]!.options.id!,
        file: '/a/one.apk',
        stage,
        bytes,
        totalBytes: 100,
      });
    progress('copying', 10);
    progress('installing', 60);
    progress('done', 100);
    calls[0]!.resolve('org.example.one', '1.2');
    await tick();
    await tick();
    expect(calls.map((c) => c.file)).toEqual(['/a/one.apk', '/a/two.XAPK']);
    calls[1]!.reject(
      new InstallError('INSTALL_FAILED_OLDER_SDK', 'needs Android 15', {
        guestDetail: 'Requires newer sdk version #35',
      }),
    );
    await queue.settled();
    const list = queue.list();
    expect(list.map((i) => [i.stage, i.message, i.verdict])).toEqual([
      ['done', 'Installed org.example.one 1.2.', 'Success'],
      ['refused', expect.any(String), null],
      [
        'failed',
        'Needs Android 15.',
        'Failure [INSTALL_FAILED_OLDER_SDK: Requires newer sdk version #35]',
      ],
      ['refused', expect.any(String), null],
    ]);
    expect(list[0]).toMatchObject({ packageName: 'org.example.one', bytes: 100, totalBytes: 100 });
    expect(events.filter((e) => e.fileName === 'one.apk').map((e) => e.stage)).toEqual([
      'queued',
      'copying',
      'installing',
      'done',
    ]);
  });

  it('cancels a queued item without running it, and a running one through its signal', async () => {
    const { install, calls } = controlledInstall();
    const queue = new InstallQueue({ exec: fakeGuest([]), stagingRoot: staging, install });
    const [running, queued] = queue.start(['/a/one.apk', '/a/two.apk']);
    await tick();
    expect(queue.cancel(queued!.id)).toBe(true);
    expect(queue.cancel(queued!.id)).toBe(false);
    expect(queue.cancel(running!.id)).toBe(true);
    expect(calls[0]!.options.signal?.aborted).toBe(true);
    await queue.settled();
    expect(queue.list().map((i) => [i.stage, i.message])).toEqual([
      ['cancelled', 'Cancelled; nothing was installed.'],
      ['cancelled', 'Cancelled before it started.'],
    ]);
    expect(calls).toHaveLength(1);
    // Progress after a cancel changes nothing.
    calls[0]!.options.onProgress?.({
      id: running!.id,
      file: '/a/one.apk',
      stage: 'installing',
      bytes: 5,
      totalBytes: 10,
    });
    expect(queue.list()[0]?.stage).toBe('cancelled');
    expect(queue.cancel('999')).toBe(false);
  });

  it('asks for the target of each file when it starts, and fails the file when there is none', async () => {
    const { install, calls } = controlledInstall();
    let running = false;
    const queue = new InstallQueue({
      install,
      target: async () => {
        if (!running)
          throw Object.assign(new Error('no session is running for instance x'), {
            code: 'GUEST_NOT_RUNNING',
          });
        return { exec: fakeGuest([]), stagingRoot: staging };
      },
    });
    queue.start(['/a/early.apk']);
    await queue.settled();
    expect(queue.list()[0]).toMatchObject({
      stage: 'failed',
      message: 'No session is running for instance x.',
      verdict: null,
    });
    running = true;
    queue.start(['/a/late.apk']);
    await tick();
    await tick();
    expect(calls.map((c) => [c.file, c.options.stagingRoot])).toEqual([['/a/late.apk', staging]]);
    calls[0]!.resolve('org.example.late');
    await queue.settled();
    expect(queue.list()[1]).toMatchObject({
      stage: 'done',
      message: 'Installed org.example.late version code 7.',
    });
  });

  it('keeps at most 200 items, dropping the oldest finished ones', () => {
    const queue = new InstallQueue({ exec: fakeGuest([]), stagingRoot: staging });
    queue.start(Array.from({ length: 64 }, (_, i) => `/a/${i}.txt`));
    queue.start(Array.from({ length: 64 }, (_, i) => `/b/${i}.txt`));
    queue.start(Array.from({ length: 64 }, (_, i) => `/c/${i}.txt`));
    queue.start(Array.from({ length: 64 }, (_, i) => `/d/${i}.txt`));
    const list = queue.list();
    expect(list).toHaveLength(200);
    expect(list[0]?.id).toBe('57');
    expect(list.at(-1)?.id).toBe('256');
  });
});

describe('androidVerdict', () => {
  it("gives Android's verdict only for Android's own codes", () => {
    expect(androidVerdict(new InstallError('INSTALL_FAILED_NO_MATCHING_ABIS', 'x'))).toBe(
      'Failure [INSTALL_FAILED_NO_MATCHING_ABIS]',
    );
    expect(androidVerdict(new InstallError('APK_ZIP_INVALID', 'x'))).toBeNull();
    expect(androidVerdict(null)).toBeNull();
    expect(androidVerdict('INSTALL_FAILED_X')).toBeNull();
    expect(androidVerdict({ code: 'INSTALL_FAILED_X\n]', guestDetail: 7 })).toBe(
      'Failure [INSTALL_FAILED_X\n]]',
    );
  });
});

describe('sentence', () => {
  it('capitalises words and ends with a full stop', () => {
    expect(sentence('the file is not an APK')).toBe('The file is not an APK.');
    expect(sentence('  done!  ')).toBe('Done!');
    expect(sentence('')).toBe('The install failed.');
  });

  it('never capitalises a file name the message starts with', () => {
    expect(sentence('does-not-exist.apk does not exist')).toBe(
      'does-not-exist.apk does not exist.',
    );
    expect(sentence('my.apks: not a bundle')).toBe('my.apks: not a bundle.');
    expect(sentence('fake.apk: not installed: the file is not a ZIP archive.')).toBe(
      'fake.apk: not installed: the file is not a ZIP archive.',
    );
    expect(sentence('/tmp/x.apk is a folder')).toBe('/tmp/x.apk is a folder.');
  });
});
