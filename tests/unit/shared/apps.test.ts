import { describe, expect, it } from 'vitest';
import { isInstallableName } from '../../../electron/shared/apps.js';

describe('isInstallableName', () => {
  it('takes .apk, .apks and .xapk in any case, with a name before the dot', () => {
    expect(['a.apk', 'B.APKS', 'c.xapk', 'x.y.Apk'].every(isInstallableName)).toBe(true);
    expect(['.apk', 'apk', 'a.apk.txt', 'a.zip', '', 'a.apk '].some(isInstallableName)).toBe(false);
  });
});
