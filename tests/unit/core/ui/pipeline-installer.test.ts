import { describe, expect, it } from 'vitest';
import { sentence } from '../../../../electron/core/ui/pipeline-installer.js';

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
