import { describe, expect, it } from 'vitest';
import {
  channelJsonUrls,
  channelsFromSetting,
  DEFAULT_CHANNELS,
  MAX_CHANNEL_BYTES,
  MAX_DOWNLOAD_BYTES,
  newestChannelEntry,
  parseChannel,
  validateChannelSettings,
  waydroidArch,
} from '../../../../electron/core/images/ota-channel.js';

const CHANNEL = 'https://ota.example/system/lineage/waydroid_x86_64/VANILLA.json';
const SHA = 'a'.repeat(64);

function entry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    datetime: 1_700_000_000,
    filename: 'lineage-18.1-20231114-VANILLA-waydroid_x86_64-system.zip',
    id: SHA,
    romtype: 'VANILLA',
    size: 812_345_678,
    url: 'https://sourceforge.net/projects/waydroid/files/images/system/lineage/waydroid_x86_64/lineage-18.1-20231114-VANILLA-waydroid_x86_64-system.zip/download',
    version: '18.1',
    ...overrides,
  };
}

function channel(...entries: unknown[]): string {
  return JSON.stringify({ response: entries });
}

describe('parseChannel', () => {
  it("reads Waydroid's format and picks the newest entry", () => {
    const newest = newestChannelEntry(
      channel(
        entry({ datetime: 1_600_000_000, filename: 'old.zip' }),
        entry({ datetime: 1_700_000_000, filename: 'new.zip', id: 'B'.repeat(64) }),
        entry({ datetime: 1_650_000_000, filename: 'mid.zip' }),
      ),
      CHANNEL,
    );
    expect(newest).toMatchObject({
      filename: 'new.zip',
      datetime: 1_700_000_000,
      sha256: 'b'.repeat(64),
      size: 812_345_678,
      romtype: 'VANILLA',
      version: '18.1',
    });
  });

  it("keeps the channel's order among equal datetimes, and ignores extra fields", () => {
    const list = parseChannel(
      channel(
        entry({ filename: 'first.zip', extra: { nested: true } }),
        entry({ filename: 'second.zip' }),
      ),
      CHANNEL,
    );
    expect(list.map((e) => e.filename)).toEqual(['first.zip', 'second.zip']);
  });

  it('accepts a numeric version and absent optional fields', () => {
    const e = entry({ version: 18.1 });
    delete e.romtype;
    expect(newestChannelEntry(channel(e), CHANNEL)).toMatchObject({
      version: '18.1',
      romtype: null,
    });
  });

  it.each([
    ['not JSON', '{"response": [', /not valid JSON/],
    ['a list at the top', '[]', /not an object/],
    ['no response', '{}', /no "response" list/],
    ['response not a list', '{"response": {}}', /no "response" list/],
    ['an empty list', '{"response": []}', /lists no images/],
    ['an entry that is not an object', channel('x'), /response\[0\] is not an object/],
    [
      'a string datetime',
      channel(entry({ datetime: '1700000000' })),
      /datetime must be a whole number/,
    ],
    ['a negative datetime', channel(entry({ datetime: -1 })), /datetime/],
    [
      'a huge size',
      channel(entry({ size: MAX_DOWNLOAD_BYTES + 1 })),
      /more than the 17179869184 bytes/,
    ],
    ['an unsafe size', channel(entry({ size: 2 ** 60 })), /size must be a positive whole number/],
    ['a fractional size', channel(entry({ size: 1.5 })), /size must be a positive whole number/],
    ['a zero size', channel(entry({ size: 0 })), /size must be a positive/],
    ['a string size', channel(entry({ size: '100' })), /size must be a positive/],
    [
      'a relative URL',
      channel(entry({ url: '/images/system.zip' })),
      /response\[0\]\.url "\/images\/system\.zip" is not an absolute URL/,
    ],
    [
      'a file: URL',
      channel(entry({ url: 'file:///etc/shadow' })),
      /is not http or https \(file:\)/,
    ],
    ['a javascript: URL', channel(entry({ url: 'javascript:alert(1)' })), /is not http or https/],
    [
      'an ftp URL',
      channel(entry({ url: 'ftp://example.org/x.zip' })),
      /is not http or https \(ftp:\)/,
    ],
    [
      'credentials in the URL',
      channel(entry({ url: 'https://u:p@example.org/x.zip' })),
      /carries credentials/,
    ],
    ['a URL that is not a string', channel(entry({ url: 42 })), /url is not a string/],
    ['a short id', channel(entry({ id: 'abc' })), /id must be a sha256/],
    ['an id that is not hex', channel(entry({ id: 'g'.repeat(64) })), /id must be a sha256/],
    [
      'an md5 id',
      channel(entry({ id: '5eb63bbbe01eeed093cb22bb8f5acdc3' })),
      /id must be a sha256/,
    ],
    [
      'a filename with a path',
      channel(entry({ filename: '../../etc/x.zip' })),
      /filename must be a plain file name/,
    ],
    [
      'a filename that is not a zip',
      channel(entry({ filename: 'system.img' })),
      /filename must be a plain file name/,
    ],
    [
      'a version with a newline',
      channel(entry({ version: '18.1\nx' })),
      /version must be a short line/,
    ],
    [
      'a version that is an object',
      channel(entry({ version: {} })),
      /version must be a short line/,
    ],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseChannel(text, CHANNEL)).toThrow(
      expect.objectContaining({
        code: 'CHANNEL_INVALID',
        message: expect.stringMatching(message),
      }),
    );
  });

  it('names the channel in the error', () => {
    expect(() => parseChannel('{}', CHANNEL)).toThrow(`channel ${CHANNEL}: has no "response" list`);
  });

  it('refuses more than the size cap before parsing', () => {
    const text = `{"response": [], "pad": "${'x'.repeat(MAX_CHANNEL_BYTES)}"}`;
    expect(() => parseChannel(text, CHANNEL)).toThrow(/larger than 1048576 bytes/);
  });

  it('refuses more than 1000 entries', () => {
    const text = channel(...Array.from({ length: 1001 }, () => entry()));
    expect(() => parseChannel(text, CHANNEL)).toThrow(/more than 1000 images/);
  });
});

describe('channel settings', () => {
  it("defaults to Waydroid's channels and builds its URLs", () => {
    const settings = validateChannelSettings({});
    expect(settings).toEqual(DEFAULT_CHANNELS);
    expect(channelJsonUrls(settings, 'x86_64')).toEqual({
      system: 'https://ota.waydro.id/system/lineage/waydroid_x86_64/VANILLA.json',
      vendor: 'https://ota.waydro.id/vendor/waydroid_x86_64/MAINLINE.json',
    });
  });

  it('uses a .json channel as it is, and strips a trailing slash from a base', () => {
    const settings = validateChannelSettings({
      system: 'http://127.0.0.1:8080/sys.json',
      vendor: 'http://127.0.0.1:8080/vendor/',
      systemType: 'GAPPS',
    });
    expect(channelJsonUrls(settings, 'arm64')).toEqual({
      system: 'http://127.0.0.1:8080/sys.json',
      vendor: 'http://127.0.0.1:8080/vendor/waydroid_arm64/MAINLINE.json',
    });
  });

  it.each([
    [{ system: 'ota.waydro.id/system' }, 'CHANNEL_URL_INVALID', /not an absolute URL/],
    [{ vendor: 'file:///srv/vendor' }, 'CHANNEL_URL_INVALID', /not http or https/],
    [{ system: 7 }, 'CHANNEL_URL_INVALID', /not a string/],
    [{ systemType: '../GAPPS' }, 'CHANNEL_INVALID', /channels\.systemType/],
    [{ vendorType: 'HALIUM 11' }, 'CHANNEL_INVALID', /channels\.vendorType/],
    [[], 'CHANNEL_INVALID', /must be an object/],
  ])('refuses %j', (value, code, message) => {
    expect(() => validateChannelSettings(value)).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });

  it('names architectures as Waydroid does', () => {
    expect(waydroidArch('x86_64')).toBe('x86_64');
    expect(waydroidArch('aarch64')).toBe('arm64');
    expect(waydroidArch('i686')).toBe('x86');
    expect(waydroidArch('armv7l')).toBe('arm');
  });
});

describe("channelsFromSetting (Settings' Image channel URL)", () => {
  it("uses the server's /system and /vendor channels; empty means the defaults", () => {
    expect(channelsFromSetting('')).toEqual(DEFAULT_CHANNELS);
    expect(channelsFromSetting('  ')).toEqual(DEFAULT_CHANNELS);
    expect(channelsFromSetting('https://ota.example.org/')).toEqual({
      ...DEFAULT_CHANNELS,
      system: 'https://ota.example.org/system',
      vendor: 'https://ota.example.org/vendor',
    });
    expect(channelsFromSetting('http://mirror.lan/waydroid//').system).toBe(
      'http://mirror.lan/waydroid/system',
    );
  });

  it('refuses a URL that is not plain http(s)', () => {
    for (const bad of ['ftp://x/y', 'https://u:p@x/', 'not a url', `https://x/${'a'.repeat(3000)}`])
      expect(() => channelsFromSetting(bad), bad).toThrow(
        expect.objectContaining({ code: 'CHANNEL_URL_INVALID' }),
      );
  });
});
