import { describe, expect, it } from 'vitest';
import {
  isPackageName,
  parseAmStart,
  parseCreatedSession,
  parseInstallVerdict,
  parsePackageList,
  parsePackagePaths,
  verbatim,
} from '../../../../electron/core/android/pm-output.js';

describe('parseInstallVerdict', () => {
  it('takes Success with exit 0 as success', () => {
    expect(parseInstallVerdict('Success\n')).toEqual({ ok: true });
    expect(parseInstallVerdict('Performing Streamed Install\r\nSuccess\r\n')).toEqual({ ok: true });
  });

  it('reads the code and detail of a Failure line', () => {
    expect(
      parseInstallVerdict(
        'Failure [INSTALL_FAILED_OLDER_SDK: Failed parse during installPackageLI: /data/app/vmdl1.tmp/base.apk (at Binary XML file line #7): Requires newer sdk version #35 (current version is #34)]\n',
        '',
        1,
      ),
    ).toEqual({
      ok: false,
      code: 'INSTALL_FAILED_OLDER_SDK',
      detail:
        'Failed parse during installPackageLI: /data/app/vmdl1.tmp/base.apk (at Binary XML file line #7): Requires newer sdk version #35 (current version is #34)',
    });
    expect(parseInstallVerdict('Failure [DELETE_FAILED_INTERNAL_ERROR]', '', 1)).toEqual({
      ok: false,
      code: 'DELETE_FAILED_INTERNAL_ERROR',
      detail: '',
    });
  });

  it('lets a Failure win over a Success line printed before it', () => {
    expect(parseInstallVerdict('Success\nFailure [INSTALL_FAILED_ABORTED: x]\n')).toMatchObject({
      ok: false,
      code: 'INSTALL_FAILED_ABORTED',
    });
  });

  it('reads an Error: line as ERROR, from stdout or stderr', () => {
    expect(parseInstallVerdict('', 'Error: Unable to open file: /x.apk\n', 1)).toEqual({
      ok: false,
      code: 'ERROR',
      detail: 'Unable to open file: /x.apk',
    });
  });

  it('does not take Success with a failing exit, or nothing at all, as success', () => {
    expect(parseInstallVerdict('Success\n', '', 1)).toMatchObject({ ok: false, code: 'UNKNOWN' });
    expect(parseInstallVerdict('', '', null)).toEqual({
      ok: false,
      code: 'UNKNOWN',
      detail: 'no answer (exit by signal)',
    });
    expect(parseInstallVerdict('Successful!\n')).toMatchObject({ ok: false, code: 'UNKNOWN' });
  });

  it('keeps malformed failure lines verbatim instead of guessing a code', () => {
    for (const line of [
      'Failure [lowercase_code]',
      'Failure [INSTALL_FAILED_X',
      'Failure INSTALL_FAILED_X',
      `Failure [${'A'.repeat(200)}]`,
    ]) {
      const v = parseInstallVerdict(`${line}\n`, '', 1);
      expect(v, line).toMatchObject({ ok: false, code: 'UNKNOWN' });
    }
  });

  it('caps and cleans what it carries from a hostile guest', () => {
    const v = parseInstallVerdict(`\u001b[31m${'x'.repeat(10_000)}\u0000\n`, '', 1);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.detail.length).toBeLessThanOrEqual(501);
      expect(v.detail).not.toContain('\u0000');
      expect(v.detail).not.toContain('\u001b');
    }
    expect(verbatim('a\u0007b')).toBe('a?b');
  });
});

describe('parseCreatedSession', () => {
  it('reads the session id', () => {
    expect(parseCreatedSession('Success: created install session [1234]\n')).toBe(1234);
  });

  it('refuses ids that are not plausible and other shapes', () => {
    for (const out of [
      '',
      'Success: created install session []',
      'Success: created install session [0]',
      'Success: created install session [99999999999]',
      'Success: created install session [-1]',
      'Success: created install session [12] extra',
      'Error: java.lang.SecurityException',
    ])
      expect(parseCreatedSession(out), out).toBeNull();
  });
});

describe('parsePackageList', () => {
  it('reads names, version codes and paths', () => {
    expect(
      parsePackageList(
        [
          'package:/data/app/~~a==/com.x-b==/base.apk=com.x versionCode:3',
          'package:com.y',
          'package:/system/framework/framework-res.apk=android versionCode:34',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      { packageName: 'com.x', versionCode: 3, apkPath: '/data/app/~~a==/com.x-b==/base.apk' },
      { packageName: 'com.y' },
    ]);
  });

  it('skips hostile and malformed lines, and duplicates', () => {
    const list = parsePackageList(
      [
        'package:../../etc/passwd=com.evil',
        'package:/data/app/../../etc=com.evil2',
        'package:relative/base.apk=com.evil3',
        'package:com.bad name',
        'package:com.x versionCode:99999999999999999999',
        'package:com.ok versionCode:1',
        'package:com.ok versionCode:2',
        'package:/data/app/x\u0000/base.apk=com.nul',
        'garbage',
        'package:',
        'package:=com.emptypath',
        `package:${'a.'.repeat(200)}b`,
        'package:/data/app/a=b/base.apk=com.eq',
      ].join('\n'),
    );
    expect(list).toEqual([
      { packageName: 'com.ok', versionCode: 1 },
      { packageName: 'com.eq', apkPath: '/data/app/a=b/base.apk' },
    ]);
  });

  it('validates package names as Android does', () => {
    expect(isPackageName('com.example.app_2')).toBe(true);
    for (const bad of ['com', '.com.x', 'com..x', '1com.x', 'com.1x', 'com.x-y', 'com.x/y', ''])
      expect(isPackageName(bad), bad).toBe(false);
  });
});

describe('parsePackagePaths', () => {
  it('reads base then splits, skipping anything else', () => {
    expect(
      parsePackagePaths(
        [
          'package:/data/app/~~r/com.x-s/base.apk',
          'package:/data/app/~~r/com.x-s/split_config.x86_64.apk',
          'package:/data/app/../../etc/shadow.apk',
          'package:/data/app/x/notes.txt',
          'package:/data/app/~~r/com.x-s/base.apk',
          'WARNING: linker: something',
        ].join('\n'),
      ),
    ).toEqual(['/data/app/~~r/com.x-s/base.apk', '/data/app/~~r/com.x-s/split_config.x86_64.apk']);
    expect(parsePackagePaths('')).toEqual([]);
  });
});

describe('parseAmStart', () => {
  it('reads the component started', () => {
    expect(parseAmStart('Starting: Intent { cmp=com.x/.Main }\n')).toEqual({
      ok: true,
      component: 'com.x/.Main',
    });
    expect(
      parseAmStart(
        'Starting: Intent { act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] cmp=com.x/com.x.Main }\n',
      ),
    ).toEqual({ ok: true, component: 'com.x/com.x.Main' });
  });

  it('reads the refusal', () => {
    expect(
      parseAmStart(
        'Starting: Intent { cmp=com.x/.Nope }\nError type 3\nError: Activity class {com.x/com.x.Nope} does not exist.\n',
        '',
        1,
      ),
    ).toEqual({ ok: false, message: 'Activity class {com.x/com.x.Nope} does not exist.' });
  });

  it('does not take odd output as a start', () => {
    expect(parseAmStart('Starting: Intent { cmp=com.x/.Main }\n', '', 1).ok).toBe(false);
    expect(parseAmStart('Starting: Intent { cmp=../../x }\n').ok).toBe(false);
    expect(parseAmStart('').ok).toBe(false);
  });
});
