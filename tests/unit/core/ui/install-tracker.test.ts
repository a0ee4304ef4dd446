import { describe, expect, it } from 'vitest';
import { bridgeClientSummary } from '../../../../electron/core/session/shm-report.js';
import { MAX_ICON_BYTES, pngDataUrl } from '../../../../electron/core/ui/apps-service.js';
import { InstallTracker, type Installer } from '../../../../electron/core/ui/install-tracker.js';
import { IPC_ARG_VALIDATORS } from '../../../../electron/shared/ipc-contract.js';
import { isInstallableName, type InstallItem } from '../../../../electron/shared/apps.js';

/** An installer driven by the test: each call waits until the test settles it. */
function controlledInstaller(): {
  installer: Installer;
  calls: {
    path: string;
    resolve: (pkg: string) => void;
    reject: (e: unknown) => void;
    signal: AbortSignal;
    progress: Parameters<Installer>[1]['progress'];
  }[];
} {
  const calls: ReturnType<typeof controlledInstaller>['calls'] = [];
  const installer: Installer = (path, context) =>
    new Promise((resolve, reject) => {
      context.signal.addEventListener('abort', () => reject(context.signal.reason));
      calls.push({
        path,
        signal: context.signal,
        progress: context.progress,
        resolve: (pkg) =>
          resolve({ packageName: pkg, message: `Installed ${pkg}.`, verdict: 'Success' }),
        reject,
      });
    });
  return { installer, calls };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('InstallTracker', () => {
  it('refuses non-APK names at once and runs the others one at a time', async () => {
    const { installer, calls } = controlledInstaller();
    const tracker = new InstallTracker(installer);
    const events: InstallItem[] = [];
    tracker.on('progress', (item) => events.push(item));
    const items = tracker.start(['/a/one.apk', '/a/notes.txt', '/a/two.XAPK', '/a/.apk']);
    expect(items.map((i) => [i.fileName, i.stage])).toEqual([
      ['one.apk', 'queued'],
      ['notes.txt', 'refused'],
      ['two.XAPK', 'queued'],
      ['.apk', 'refused'],
    ]);
    expect(items[1]?.message).toBe(
      'Not an Android app: only .apk, .apks, .xapk files can be installed.',
    );
    await tick();
    expect(calls.map((c) => c.path)).toEqual(['/a/one.apk']);
    calls[0]!.progress('copying', 10, 100);
    calls[0]!.progress('installing', 100, 100);
    calls[0]!.resolve('org.example.one');
    await tick();
    await tick();
    expect(calls.map((c) => c.path)).toEqual(['/a/one.apk', '/a/two.XAPK']);
    calls[1]!.reject(
      Object.assign(new Error('Needs Android 15.'), {
        verdict: 'Failure [INSTALL_FAILED_OLDER_SDK]',
      }),
    );
    await tick();
    const list = tracker.list();
    expect(list.map((i) => [i.stage, i.message, i.verdict])).toEqual([
      ['done', 'Installed org.example.one.', 'Success'],
      ['refused', expect.any(String), null],
      ['failed', 'Needs Android 15.', 'Failure [INSTALL_FAILED_OLDER_SDK]'],
      ['refused', expect.any(String), null],
    ]);
    expect(list[0]?.bytes).toBe(100);
    expect(events.filter((e) => e.fileName === 'one.apk').map((e) => e.stage)).toEqual([
      'queued',
      'copying',
      'installing',
      'done',
    ]);
  });

  it('cancels a queued item without running it, and a running one through its signal', async () => {
    const { installer, calls } = controlledInstaller();
    const tracker = new InstallTracker(installer);
    const [running, queued] = tracker.start(['/a/one.apk', '/a/two.apk']);
    await tick();
    expect(tracker.cancel(queued!.id)).toBe(true);
    expect(tracker.cancel(queued!.id)).toBe(false);
    expect(tracker.cancel(running!.id)).toBe(true);
    expect(calls[0]!.signal.aborted).toBe(true);
    await tick();
    await tick();
    expect(tracker.list().map((i) => i.stage)).toEqual(['cancelled', 'cancelled']);
    expect(calls).toHaveLength(1);
    // Progress after a cancel changes nothing.
    calls[0]!.progress('installing', 5, 10);
    expect(tracker.list()[0]?.stage).toBe('cancelled');
    expect(tracker.cancel('install-999')).toBe(false);
  });
});

describe('isInstallableName', () => {
  it('takes .apk, .apks and .xapk in any case, with a name before the dot', () => {
    expect(['a.apk', 'B.APKS', 'c.xapk', 'x.y.Apk'].every(isInstallableName)).toBe(true);
    expect(['.apk', 'apk', 'a.apk.txt', 'a.zip', '', 'a.apk '].some(isInstallableName)).toBe(false);
  });
});

describe('pngDataUrl', () => {
  const png = Uint8Array.from([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...new Array(16).fill(0),
  ]);
  it('makes a data: URL of PNG bytes only, within the size cap', () => {
    expect(pngDataUrl(png)).toBe(`data:image/png;base64,${Buffer.from(png).toString('base64')}`);
    expect(pngDataUrl(null)).toBeNull();
    expect(pngDataUrl(new Uint8Array(24))).toBeNull();
    expect(pngDataUrl(png.subarray(0, 8))).toBeNull();
    const big = new Uint8Array(MAX_ICON_BYTES + 1);
    big.set(png);
    expect(pngDataUrl(big)).toBeNull();
    // An SVG (or HTML) never becomes an image URL, whatever it claims.
    expect(
      pngDataUrl(new TextEncoder().encode('<svg onload="alert(1)"></svg>'.padEnd(40))),
    ).toBeNull();
  });
});

describe('bridgeClientSummary', () => {
  it('sums the violations into rejections and drops bogus counts', () => {
    const summary = bridgeClientSummary({
      clientId: 3,
      pid: 42,
      uid: 0,
      connected: false,
      disconnectReason: 'violation:unsealed',
      commits: 9,
      buffersForwarded: { shm: 7, dmabuf: 1 },
      bytesCopied: 0,
      damageRectsDropped: 0,
      objects: 1,
      pools: 1,
      buffers: 1,
      surfaces: 1,
      fdsRejected: { unsealed: 2 },
      violations: { unsealed: 2, 'too-small': 1, bogus: -4, nan: Number.NaN },
    });
    expect(summary).toEqual({
      clientId: 3,
      pid: 42,
      connected: false,
      disconnectReason: 'violation:unsealed',
      buffersForwarded: { shm: 7, dmabuf: 1 },
      bytesCopied: 0,
      rejections: 3,
      rejectionsByReason: { unsealed: 2, 'too-small': 1 },
    });
  });
});

describe('IPC validators of the apps, install and shm channels', () => {
  it('accept good arguments', () => {
    expect(IPC_ARG_VALIDATORS['apps:launch'](['org.example.hello'])).toEqual(['org.example.hello']);
    expect(IPC_ARG_VALIDATORS['install:start']([['/tmp/a.apk', '/tmp/b.txt']])).toEqual([
      ['/tmp/a.apk', '/tmp/b.txt'],
    ]);
    expect(IPC_ARG_VALIDATORS['install:cancel'](['install-3'])).toEqual(['install-3']);
    expect(IPC_ARG_VALIDATORS['shm:inspect']([])).toEqual([]);
  });

  it('reject wrong types, bad names, relative or oversize paths and too many files', () => {
    const bad: [keyof typeof IPC_ARG_VALIDATORS, unknown][] = [
      ['apps:launch', ['not a package']],
      ['apps:launch', ['../../etc']],
      ['apps:remove', [42]],
      ['apps:info', []],
      ['apps:pin', ['a.b', 'extra']],
      ['install:start', ['/tmp/a.apk']],
      ['install:start', [[]]],
      ['install:start', [['relative/a.apk']]],
      ['install:start', [['/tmp/a\0.apk']]],
      ['install:start', [[`/${'a'.repeat(5000)}`]]],
      ['install:start', [Array.from({ length: 65 }, (_, i) => `/tmp/${i}.apk`)]],
      ['install:start', [[{ path: '/tmp/a.apk' }]]],
      ['install:cancel', ['Install 1']],
      ['install:cancel', ['x'.repeat(65)]],
      ['shm:inspect', [1]],
    ];
    for (const [channel, args] of bad) {
      expect(
        () => IPC_ARG_VALIDATORS[channel](args),
        `${channel} ${JSON.stringify(args).slice(0, 60)}`,
      ).toThrow(expect.objectContaining({ code: 'IPC_BAD_ARGS' }));
    }
  });
});
