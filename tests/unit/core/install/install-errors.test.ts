import { describe, expect, it } from 'vitest';
import {
  androidVersionName,
  verdictError,
} from '../../../../electron/core/install/install-errors.js';

describe('verdictError', () => {
  it('explains an older SDK with both Android versions', () => {
    const e = verdictError(
      {
        ok: false,
        code: 'INSTALL_FAILED_OLDER_SDK',
        detail: 'Failed parse: Requires newer sdk version #35 (current version is #34)',
      },
      { packageName: 'com.x' },
    );
    expect(e.code).toBe('INSTALL_FAILED_OLDER_SDK');
    expect(e.message).toBe('com.x needs Android 15 (API 35); this guest runs Android 14 (API 34)');
    expect(e.guestDetail).toContain('#35');
  });

  it('falls back to the manifest minSdk when Android gives no numbers', () => {
    const e = verdictError(
      { ok: false, code: 'INSTALL_FAILED_OLDER_SDK', detail: '' },
      { minSdkVersion: 99 },
    );
    expect(e.message).toBe('this app needs API level 99; this guest runs an older Android version');
  });

  it('names the ABIs the app was built for', () => {
    const e = verdictError(
      { ok: false, code: 'INSTALL_FAILED_NO_MATCHING_ABIS', detail: 'res=-113' },
      { packageName: 'com.x', nativeAbis: ['arm64-v8a'] },
    );
    expect(e.message).toBe(
      'com.x contains native code only for other processors (arm64-v8a); this guest runs x86_64/x86 code',
    );
  });

  it('explains signature, downgrade, storage, not-an-APK and missing-base refusals', () => {
    const ctx = { packageName: 'com.x' };
    const msg = (code: string, detail = ''): string =>
      verdictError({ ok: false, code, detail }, ctx).message;
    expect(msg('INSTALL_FAILED_UPDATE_INCOMPATIBLE')).toMatch(/signed by a different developer/);
    expect(
      msg(
        'INSTALL_FAILED_VERSION_DOWNGRADE',
        'Downgrade detected: Update version code 3 is older than current 7',
      ),
    ).toBe('a newer version of com.x is installed (version code 7; this file has 3)');
    expect(msg('INSTALL_FAILED_VERSION_DOWNGRADE')).toBe(
      'a newer version of com.x is already installed',
    );
    expect(msg('INSTALL_FAILED_INSUFFICIENT_STORAGE')).toBe(
      'the guest does not have enough free storage for com.x',
    );
    expect(msg('INSTALL_PARSE_FAILED_NOT_APK')).toBe('the file is not an Android app (APK)');
    expect(msg('INSTALL_FAILED_INVALID_APK', 'Full install must include a base package')).toBe(
      'the bundle has split APKs but no base APK',
    );
    expect(msg('INSTALL_PARSE_FAILED_NO_CERTIFICATES')).toMatch(/not signed/);
  });

  it('keeps unknown verdicts verbatim', () => {
    const e = verdictError({ ok: false, code: 'INSTALL_FAILED_WEIRD', detail: 'why: because' });
    expect(e.code).toBe('INSTALL_FAILED_WEIRD');
    expect(e.message).toBe('Android refused the install: INSTALL_FAILED_WEIRD: why: because');
    expect(verdictError({ ok: false, code: 'UNKNOWN', detail: 'segfault' }).message).toBe(
      'Android refused the install: UNKNOWN: segfault',
    );
  });

  it('names Android versions', () => {
    expect(androidVersionName(34)).toBe('Android 14 (API 34)');
    expect(androidVersionName(32)).toBe('Android 12L (API 32)');
    expect(androidVersionName(1000)).toBe('API level 1000');
  });
});
