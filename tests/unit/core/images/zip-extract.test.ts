import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractZipEntry, unsafeEntryName } from '../../../../electron/core/images/zip-extract.js';
import { makeZip } from '../../../fixtures/images/fixture-images.js';

describe('unsafeEntryName', () => {
  it.each(['system.img', 'images/system.img', 'a..b', '...', 'dir/'])('accepts %j', (name) => {
    expect(unsafeEntryName(name)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['../system.img', /escapes/],
    ['images/../../system.img', /escapes/],
    ['..', /escapes/],
    ['/etc/passwd', /absolute/],
    ['C:system.img', /absolute/],
    ['images\\..\\system.img', /backslash/],
    ['system.img\u0000.txt', /control character/],
    ['line\nbreak', /control character/],
    ['x'.repeat(513), /longer than 512/],
  ])('refuses %j', (name, why) => {
    expect(unsafeEntryName(name)).toMatch(why);
  });
});

describe('extractZipEntry', () => {
  let dir: string;
  let out: string;
  const payload = Buffer.from('ext4 image bytes '.repeat(1000));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'droidway-zip-'));
    out = join(dir, 'out');
    mkdirSync(out);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function zipFile(name: string, data: Buffer): string {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  }

  it('extracts a deflated and a stored entry, byte for byte', async () => {
    const deflated = zipFile('s.zip', makeZip([{ name: 'system.img', data: payload }]));
    await expect(extractZipEntry(deflated, 'system.img', out)).resolves.toEqual({
      path: join(out, 'system.img'),
      size: payload.length,
    });
    expect(readFileSync(join(out, 'system.img')).equals(payload)).toBe(true);
    const stored = zipFile('v.zip', makeZip([{ name: 'vendor.img', data: payload, method: 0 }]));
    await extractZipEntry(stored, 'vendor.img', out);
    expect(readFileSync(join(out, 'vendor.img')).equals(payload)).toBe(true);
  });

  it('refuses a zip with a name escaping the target, writing nothing', async () => {
    const z = zipFile(
      'evil.zip',
      makeZip([
        { name: 'system.img', data: payload },
        { name: '../../escaped.txt', data: Buffer.from('owned') },
      ]),
    );
    await expect(extractZipEntry(z, 'system.img', out)).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringMatching(/evil\.zip: unsafe entry name.*\.\.\/\.\.\/escaped\.txt/),
    });
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(join(dir, '..', 'escaped.txt'))).toBe(false);
  });

  it.each([
    ['an absolute name', '/tmp/evil'],
    ['a backslash name', '..\\evil'],
  ])('refuses %s', async (_what, name) => {
    const z = zipFile(
      'bad.zip',
      makeZip([
        { name, data: payload },
        { name: 'system.img', data: payload },
      ]),
    );
    await expect(extractZipEntry(z, 'system.img', out)).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringMatching(/unsafe entry name/),
    });
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a truncated zip (no central directory)', async () => {
    const whole = makeZip([{ name: 'system.img', data: payload }]);
    const z = zipFile('cut.zip', whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(extractZipEntry(z, 'system.img', out)).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringMatching(/cut\.zip: not a zip file, or truncated/),
    });
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses data that does not match the CRC-32, leaving no file', async () => {
    const z = zipFile('crc.zip', makeZip([{ name: 'system.img', data: payload, crc: 0x12345678 }]));
    await expect(extractZipEntry(z, 'system.img', out)).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringMatching(/CRC-32 does not match/),
    });
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses an entry larger than the cap', async () => {
    const z = zipFile('big.zip', makeZip([{ name: 'system.img', data: payload }]));
    await expect(extractZipEntry(z, 'system.img', out, { maxBytes: 1000 })).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringMatching(/more than the 1000 accepted/),
    });
  });

  it('refuses a duplicated entry', async () => {
    const z = zipFile(
      'dup.zip',
      makeZip([
        { name: 'system.img', data: payload },
        { name: 'system.img', data: Buffer.from('other') },
      ]),
    );
    await expect(extractZipEntry(z, 'system.img', out)).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringMatching(/appears 2 times/),
    });
  });

  it('says which entries there are when the wanted one is missing', async () => {
    const z = zipFile('v.zip', makeZip([{ name: 'vendor.img', data: payload }]));
    await expect(extractZipEntry(z, 'system.img', out)).rejects.toMatchObject({
      code: 'ZIP_MISSING_ENTRY',
      message: 'v.zip has no system.img (it holds "vendor.img")',
    });
  });

  it('refuses a file that is not a zip', async () => {
    const z = zipFile('text.zip', Buffer.from('just text, no zip here'));
    await expect(extractZipEntry(z, 'system.img', out)).rejects.toMatchObject({
      code: 'ZIP_INVALID',
    });
  });
});
