import { describe, expect, expectTypeOf, it } from 'vitest';
import { createCoreApi, dispatch } from '../../../electron/core/api.js';
import { checkIpcSender, type IpcSenderFacts } from '../../../electron/main/ipc-sender.js';
import type { DoctorReport } from '../../../electron/shared/doctor.js';
import type { AppDetails } from '../../../electron/shared/apps.js';
import {
  IPC_ARG_VALIDATORS,
  IPC_CHANNELS,
  IPC_EVENTS,
  isIpcChannel,
  type DroidwayApi,
} from '../../../electron/shared/ipc-contract.js';
import type { PolicyInForce } from '../../../electron/shared/policy-view.js';
import { isResult, toResultError, type Result } from '../../../electron/shared/result.js';
import type { Settings } from '../../../electron/shared/settings.js';
import {
  MAX_IPC_STRING_LENGTH,
  ValidationError,
  expectArgs,
  expectBoolean,
  expectInteger,
  expectJsonValue,
  expectOneOf,
  expectPackageName,
  expectPlainObject,
  expectString,
} from '../../../electron/shared/validate.js';

/** Runs `fn`, expects a ValidationError, and returns its message. */
function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('IPC_BAD_ARGS');
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('validators', () => {
  it('expectArgs accepts an exact-length array and rejects anything else', () => {
    expect(expectArgs([1, 'a'], 2)).toEqual([1, 'a']);
    expect(rejection(() => expectArgs('not an array', 0))).toBe(
      'arguments must be an array, got string',
    );
    expect(rejection(() => expectArgs(null, 0))).toBe('arguments must be an array, got null');
    expect(rejection(() => expectArgs([1], 0))).toBe('expected 0 argument(s), got 1');
    expect(rejection(() => expectArgs([], 1))).toBe('expected 1 argument(s), got 0');
  });

  it('expectString rejects wrong types without echoing the value', () => {
    for (const [value, type] of [
      [42, 'number'],
      [null, 'null'],
      [undefined, 'undefined'],
      [{ toString: () => 'x' }, 'object'],
      [['a'], 'array'],
      [true, 'boolean'],
    ] as const) {
      expect(rejection(() => expectString(value, 'path', { maxLength: 10 }))).toBe(
        `path must be a string, got ${type}`,
      );
    }
  });

  it('expectString enforces length limits, the global cap and no NUL', () => {
    expect(expectString('abc', 'name', { maxLength: 3 })).toBe('abc');
    expect(rejection(() => expectString('abcd', 'name', { maxLength: 3 }))).toBe(
      'name is too long: 4 characters, limit 3',
    );
    expect(rejection(() => expectString('', 'name', { minLength: 1, maxLength: 3 }))).toBe(
      'name is too short: 0 characters, minimum 1',
    );
    const huge = 'x'.repeat(MAX_IPC_STRING_LENGTH + 1);
    const message = rejection(() => expectString(huge, 'blob', { maxLength: 1_000_000 }));
    expect(message).toBe(
      `blob is too long: ${MAX_IPC_STRING_LENGTH + 1} characters, limit ${MAX_IPC_STRING_LENGTH}`,
    );
    expect(rejection(() => expectString('a\0b', 'path', { maxLength: 10 }))).toBe(
      'path must not contain NUL characters',
    );
  });

  it('expectString checks the pattern and names it', () => {
    const limits = { maxLength: 10, pattern: /^[a-z]+$/, patternName: 'lower-case letters' };
    expect(expectString('abc', 'id', limits)).toBe('abc');
    expect(rejection(() => expectString('ab1', 'id', limits))).toBe('id is not lower-case letters');
    expect(rejection(() => expectString('AB', 'id', { maxLength: 5, pattern: /^a/ }))).toBe(
      'id is not in the expected format',
    );
  });

  it('expectInteger rejects non-integers, unsafe integers and out-of-range values', () => {
    const range = { min: 1, max: 100 };
    expect(expectInteger(100, 'count', range)).toBe(100);
    for (const [value, type] of [
      [1.5, 'number'],
      [Number.NaN, 'number'],
      [Number.POSITIVE_INFINITY, 'number'],
      [2 ** 53, 'number'],
      ['5', 'string'],
      [5n, 'bigint'],
    ] as const) {
      expect(rejection(() => expectInteger(value, 'count', range))).toBe(
        `count must be an integer, got ${type}`,
      );
    }
    expect(rejection(() => expectInteger(0, 'count', range))).toBe(
      'count must be between 1 and 100',
    );
    expect(rejection(() => expectInteger(101, 'count', range))).toBe(
      'count must be between 1 and 100',
    );
  });

  it('expectBoolean and expectOneOf accept only their values', () => {
    expect(expectBoolean(false, 'flag')).toBe(false);
    expect(rejection(() => expectBoolean('true', 'flag'))).toBe(
      'flag must be a boolean, got string',
    );
    expect(rejection(() => expectBoolean(0, 'flag'))).toBe('flag must be a boolean, got number');
    const modes = ['none', 'nat'] as const;
    expect(expectOneOf('nat', 'network', modes)).toBe('nat');
    expect(rejection(() => expectOneOf('host', 'network', modes))).toBe(
      'network must be one of none, nat',
    );
    expect(rejection(() => expectOneOf(1, 'network', modes))).toBe(
      'network must be one of none, nat',
    );
  });

  it('expectPlainObject rejects arrays, class instances and unknown keys', () => {
    expect(expectPlainObject({ a: 1 }, 'options', ['a', 'b'])).toEqual({ a: 1 });
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 2;
    expect(expectPlainObject(bare, 'options', ['b'])).toBe(bare);
    expect(rejection(() => expectPlainObject([], 'options', []))).toBe(
      'options must be an object, got array',
    );
    expect(rejection(() => expectPlainObject(new Date(0), 'options', []))).toBe(
      'options must be a plain object',
    );
    expect(rejection(() => expectPlainObject({ a: 1, evil: 2 }, 'options', ['a']))).toBe(
      'options has an unknown property (allowed: a)',
    );
  });

  it('expectPackageName accepts Android package names only', () => {
    for (const name of ['com.example.app', 'org.fdroid.fdroid', 'a.b', 'com.ex_ample.App2']) {
      expect(expectPackageName(name, 'pkg')).toBe(name);
    }
    for (const name of [
      'app',
      'com..app',
      '.com.app',
      'com.app.',
      'com.1app',
      'com/app',
      'com.app;rm',
    ]) {
      expect(rejection(() => expectPackageName(name, 'pkg'))).toMatch(
        /^pkg is (not an Android|too short)/,
      );
    }
    const long = `com.${'a'.repeat(252)}`;
    expect(rejection(() => expectPackageName(long, 'pkg'))).toBe(
      'pkg is too long: 256 characters, limit 255',
    );
  });
});

describe('the contract', () => {
  it('has a validator for every channel, and every channel is namespace:verb', () => {
    expect(IPC_CHANNELS).toEqual(
      expect.arrayContaining(['app:info', 'doctor:run', 'settings:set', 'policy:apply']),
    );
    expect(new Set(IPC_CHANNELS).size).toBe(IPC_CHANNELS.length);
    for (const channel of IPC_CHANNELS) {
      expect(channel).toMatch(/^[a-z]+:[a-z][a-zA-Z]*$/);
      expect(typeof IPC_ARG_VALIDATORS[channel]).toBe('function');
    }
  });

  it('isIpcChannel rejects unknown names, inherited properties and non-strings', () => {
    expect(isIpcChannel('doctor:run')).toBe(true);
    for (const name of [
      'doctor:delete',
      'toString',
      '__proto__',
      'constructor',
      '',
      'DOCTOR:RUN',
    ]) {
      expect(isIpcChannel(name)).toBe(false);
    }
    expect(isIpcChannel(42)).toBe(false);
    expect(isIpcChannel(null)).toBe(false);
  });
});

const fakeReport: DoctorReport = {
  generatedAt: '2025-01-01T00:00:00.000Z',
  host: { kernel: '6.1.0', arch: 'x64', distro: 'Debian GNU/Linux 12', uid: 1000 },
  checks: [],
  demoGuest: { canRun: true, blockers: [], summary: 'ok' },
  android: { canRun: true, blockers: [], summary: 'ok' },
};

describe('dispatch', () => {
  it('refuses an unknown channel with IPC_UNKNOWN_CHANNEL and runs nothing', async () => {
    let ran = false;
    const api = createCoreApi({
      runDoctor: async () => {
        ran = true;
        return fakeReport;
      },
    });
    for (const channel of ['shell:exec', 'toString', 7, undefined]) {
      const result = await dispatch(api, channel, []);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('IPC_UNKNOWN_CHANNEL');
    }
    expect(ran).toBe(false);
  });

  it('refuses bad arguments with IPC_BAD_ARGS before the handler runs', async () => {
    let ran = false;
    const api = createCoreApi({
      runDoctor: async () => {
        ran = true;
        return fakeReport;
      },
    });
    expect(await dispatch(api, 'doctor:run', ['unexpected'])).toEqual({
      ok: false,
      error: { code: 'IPC_BAD_ARGS', message: 'expected 0 argument(s), got 1' },
    });
    expect(await dispatch(api, 'doctor:run', 'not-an-array')).toMatchObject({
      ok: false,
      error: { code: 'IPC_BAD_ARGS' },
    });
    expect(ran).toBe(false);
  });

  it('returns the handler value as ok, and its error as code + message without a stack', async () => {
    const okApi = createCoreApi({ runDoctor: async () => fakeReport });
    expect(await dispatch(okApi, 'doctor:run', [])).toEqual({ ok: true, value: fakeReport });

    const coded = createCoreApi({
      runDoctor: async () => {
        throw Object.assign(new Error('lxc-info not found'), { code: 'ENOENT', path: '/secret' });
      },
    });
    const result = await dispatch(coded, 'doctor:run', []);
    expect(result).toEqual({ ok: false, error: { code: 'ENOENT', message: 'lxc-info not found' } });
    expect(isResult(result)).toBe(true);

    const plain = createCoreApi({
      runDoctor: () => {
        throw new TypeError('boom');
      },
    });
    expect(await dispatch(plain, 'doctor:run', [])).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: 'boom' },
    });
  });

  it('app:info reports the name, the version from package.json and the platform', async () => {
    const { readFile } = await import('node:fs/promises');
    const manifest = JSON.parse(
      await readFile(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    expect(await dispatch(createCoreApi(), 'app:info', [])).toEqual({
      ok: true,
      value: { name: 'Droidway', version: manifest.version, platform: process.platform },
    });
  });

  it('toResultError keeps only string codes', () => {
    expect(toResultError(Object.assign(new Error('x'), { code: 42 }))).toEqual({
      code: 'INTERNAL',
      message: 'x',
    });
    expect(toResultError('thrown string')).toEqual({ code: 'INTERNAL', message: 'thrown string' });
  });
});

describe('checkIpcSender', () => {
  const pageUrl = 'file:///opt/droidway/renderer/dist/index.html';
  const policy = { allowedWebContentsIds: new Set([3]), pageUrl };
  const good: IpcSenderFacts = { webContentsId: 3, frameUrl: pageUrl, isMainFrame: true };

  it('accepts the main frame of an app window showing the app page', () => {
    expect(checkIpcSender(good, policy)).toBeNull();
    expect(checkIpcSender({ ...good, frameUrl: `${pageUrl}?x=1#top` }, policy)).toBeNull();
  });

  it.each<[string, Partial<IpcSenderFacts>, string]>([
    [
      'a webContents the app did not create',
      { webContentsId: 4 },
      'webContents 4 is not a window of this app',
    ],
    ['a subframe', { isMainFrame: false }, 'sender is not the main frame'],
    ['a destroyed frame', { frameUrl: null }, 'sender frame is gone'],
    [
      'a web page',
      { frameUrl: 'https://example.com/index.html' },
      'sender is not showing the app page',
    ],
    [
      'the dev server origin',
      { frameUrl: 'http://127.0.0.1:5173/' },
      'sender is not showing the app page',
    ],
    [
      'another local file',
      { frameUrl: 'file:///tmp/evil.html' },
      'sender is not showing the app page',
    ],
    [
      'a file URL with a host',
      { frameUrl: 'file://evil.example/opt/droidway/renderer/dist/index.html' },
      'sender is not showing the app page',
    ],
    ['a malformed URL', { frameUrl: 'not a url' }, 'sender is not showing the app page'],
    ['about:blank', { frameUrl: 'about:blank' }, 'sender is not showing the app page'],
  ])('refuses %s', (_what, change, why) => {
    expect(checkIpcSender({ ...good, ...change }, policy)).toEqual({
      code: 'IPC_FORBIDDEN_SENDER',
      message: `IPC refused: ${why}`,
    });
  });

  it('refuses everyone when no window is allowed or the page URL is not a file URL', () => {
    expect(checkIpcSender(good, { ...policy, allowedWebContentsIds: new Set() })?.code).toBe(
      'IPC_FORBIDDEN_SENDER',
    );
    expect(checkIpcSender(good, { ...policy, pageUrl: 'http://localhost/' })?.message).toBe(
      'IPC refused: the app page URL is not a file: URL',
    );
  });
});

describe('session, settings and policy channels', () => {
  it('settings:set takes a known key and one scalar, nothing else', () => {
    const v = IPC_ARG_VALIDATORS['settings:set'];
    expect(v(['theme', 'dark'])).toEqual(['theme', 'dark']);
    expect(v(['displayScale', 1.5])).toEqual(['displayScale', 1.5]);
    expect(rejection(() => v(['__proto__', 'x']))).toMatch(/key must be one of/);
    expect(rejection(() => v(['theme']))).toMatch(/expected 2/);
    expect(rejection(() => v(['theme', { toString: 1 }]))).toMatch(/string, number or boolean/);
    expect(rejection(() => v(['theme', null]))).toMatch(/string, number or boolean/);
    expect(rejection(() => v(['image', 'x'.repeat(MAX_IPC_STRING_LENGTH + 1)]))).toMatch(
      /too long/,
    );
  });

  it('policy channels take one plain JSON document within limits', () => {
    const v = IPC_ARG_VALIDATORS['policy:validate'];
    expect(v([{ limits: { pidsMax: 100 } }])).toEqual([{ limits: { pidsMax: 100 } }]);
    expect(rejection(() => v([]))).toMatch(/expected 1/);
    expect(rejection(() => v([{ a: Number.NaN }]))).toMatch(/finite/);
    expect(rejection(() => v([{ a: new Date() }]))).toMatch(/plain object/);
    expect(rejection(() => v([{ a: 'x'.repeat(MAX_IPC_STRING_LENGTH + 1) }]))).toMatch(/longer/);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(rejection(() => v([deep]))).toMatch(/nested deeper/);
    expect(rejection(() => v([new Array(30_000).fill(0)]))).toMatch(/more than/);
    expect(rejection(() => expectJsonValue(() => 1, 'doc', { maxDepth: 2, maxNodes: 5 }))).toMatch(
      /JSON data/,
    );
  });

  it('policy:preset takes a short preset-like name only', () => {
    const v = IPC_ARG_VALIDATORS['policy:preset'];
    expect(v(['strict'])).toEqual(['strict']);
    expect(rejection(() => v(['../../etc/passwd']))).toMatch(/preset name/);
    expect(rejection(() => v([7]))).toMatch(/string/);
  });

  it('session channels take no arguments', () => {
    for (const channel of [
      'session:status',
      'session:start',
      'session:stop',
      'session:freeze',
      'session:unfreeze',
      'policy:current',
      'policy:verify',
      'settings:get',
      'notices:pending',
    ] as const) {
      expect(IPC_ARG_VALIDATORS[channel]([])).toEqual([]);
      expect(rejection(() => IPC_ARG_VALIDATORS[channel](['extra']))).toMatch(/expected 0/);
    }
  });

  it('lists every event once, namespaced or `notice`', () => {
    expect(new Set(IPC_EVENTS).size).toBe(IPC_EVENTS.length);
    for (const event of IPC_EVENTS) expect(event).toMatch(/^([a-z]+:[a-z]+|notice)$/);
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

describe('DroidwayApi, derived from the contract', () => {
  // Checked by the type checker (`npm run typecheck`): vitest's expectTypeOf does nothing at run time.
  it('has each channel as namespace.verb with its arguments and result', () => {
    expectTypeOf<DroidwayApi['apps']['info']>().parameters.toEqualTypeOf<[packageName: string]>();
    expectTypeOf<DroidwayApi['apps']['info']>().returns.toEqualTypeOf<
      Promise<Result<AppDetails>>
    >();
    expectTypeOf<DroidwayApi['install']['start']>().parameters.toEqualTypeOf<[paths: string[]]>();
    expectTypeOf<DroidwayApi['policy']['apply']>().returns.toEqualTypeOf<
      Promise<Result<PolicyInForce>>
    >();
    expectTypeOf<keyof DroidwayApi['session']>().toEqualTypeOf<
      'status' | 'start' | 'stop' | 'freeze' | 'unfreeze'
    >();
    // settings.set keeps the value's type tied to the key (a call the type checker judges; never run).
    const typedSet = (api: DroidwayApi): unknown => [
      api.settings.set('theme', 'dark'),
      // @ts-expect-error -- a theme is not a number
      api.settings.set('theme', 3),
    ];
    expectTypeOf(typedSet).parameter(0).toEqualTypeOf<DroidwayApi>();
    expectTypeOf<DroidwayApi['settings']['set']>().returns.toEqualTypeOf<
      Promise<Result<Settings>>
    >();
    // One namespace per channel prefix, plus `on` and `files`.
    const namespaces = [...new Set(IPC_CHANNELS.map((c) => c.split(':')[0]))];
    expectTypeOf<Exclude<keyof DroidwayApi, 'on' | 'files'>>().toEqualTypeOf<
      'app' | 'doctor' | 'apps' | 'install' | 'shm' | 'session' | 'settings' | 'notices' | 'policy'
    >();
    expect(namespaces.sort()).toEqual(
      [
        'app',
        'apps',
        'doctor',
        'install',
        'notices',
        'policy',
        'session',
        'settings',
        'shm',
      ].sort(),
    );
  });
});
