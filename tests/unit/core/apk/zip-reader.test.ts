import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApkError } from '../../../../electron/core/apk/apk-errors.js';
import { openApkZip, unsafeEntryName } from '../../../../electron/core/apk/zip-reader.js';
import { craftZip, type CraftEntry } from './zip-writer.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apk-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(bytes: Buffer): Promise<string> {
  const file = path.join(dir, `z${n++}.apk`);
  await writeFile(file, bytes);
  return file;
}

async function refused(bytes: Buffer, code: string, message?: RegExp): Promise<void> {
  const file = await write(bytes);
  const started = Date.now();
  const err = await openApkZip(file).then(
    async (z) => {
      await z.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApkError);
  expect((err as ApkError).code).toBe(code);
  if (message !== undefined) expect((err as ApkError).message).toMatch(message);
  expect(Date.now() - started).toBeLessThan(2000);
}

const manifest = (extra: Partial<CraftEntry> = {}): CraftEntry => ({
  name: 'AndroidManifest.xml',
  data: Buffer.from('manifest bytes'),
  ...extra,
});

describe('openApkZip', () => {
  it('lists and reads entries of a well-formed zip, stored and deflated', async () => {
    const big = Buffer.alloc(50_000, 'a');
    const file = await write(
      craftZip([manifest(), { name: 'lib/x86_64/libx.so', data: big, method: 8 }]),
    );
    const zip = await openApkZip(file);
    try {
      expect([...zip.entries.keys()]).toEqual(['AndroidManifest.xml', 'lib/x86_64/libx.so']);
      expect((await zip.readEntry('AndroidManifest.xml')).toString()).toBe('manifest bytes');
      expect((await zip.readEntry('lib/x86_64/libx.so')).equals(big)).toBe(true);
      await expect(zip.readEntry('lib/x86_64/libx.so', { maxBytes: 1000 })).rejects.toMatchObject({
        code: 'APK_TOO_LARGE',
      });
      await expect(zip.readEntry('classes.dex')).rejects.toMatchObject({
        code: 'APK_MISSING_ENTRY',
      });
    } finally {
      await zip.close();
    }
  });

  it('refuses a duplicate AndroidManifest.xml (Master Key)', async () => {
    await refused(
      craftZip([manifest(), manifest({ data: Buffer.from('evil') })]),
      'APK_DUPLICATE_ENTRY',
      /AndroidManifest\.xml/,
    );
  });

  it('refuses two central entries sharing one local header', async () => {
    // Same name bytes in both local headers, but the second central entry points at the first.
    const a = manifest();
    const b: CraftEntry = {
      name: 'AndroidManifest.xml',
      data: Buffer.from('manifest bytes'),
      central: { localIndex: 0 },
    };
    const bytes = craftZip([a, { ...b }]);
    // Rename the second central entry to keep names unique while pointing at the same header.
    const renamed = Buffer.from(bytes);
    const cd = renamed.lastIndexOf(Buffer.from('PK\x01\x02', 'latin1'));
    renamed.write('B', cd + 46, 'latin1');
    await refused(renamed, 'APK_HEADER_MISMATCH');
  });

  it('refuses entries whose data ranges overlap', async () => {
    // The second entry's local header sits inside the first entry's declared data.
    const bytes = craftZip([
      { name: 'a', data: Buffer.alloc(100, 1) },
      { name: 'b', data: Buffer.from('x') },
    ]);
    const cd = bytes.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    const local2 = bytes.indexOf(Buffer.from('PK\x03\x04', 'latin1'), 1);
    const patched = Buffer.from(bytes);
    // Central entry a claims its data runs 10 bytes into b's local header.
    patched.writeUInt32LE(110, cd + 20);
    patched.writeUInt32LE(110, cd + 24);
    patched.writeUInt32LE(110, 18);
    patched.writeUInt32LE(110, 22);
    expect(local2).toBeGreaterThan(0);
    await refused(patched, 'APK_OVERLAPPING_ENTRIES', /"a" and "b" overlap/);
  });

  it('refuses bytes before the first local header', async () => {
    await refused(
      craftZip([manifest()], { prefix: Buffer.from('#!/bin/sh\nexit 0\n') }),
      'APK_PREPENDED_DATA',
    );
  });

  it('refuses a local header that disagrees with the central directory', async () => {
    await refused(
      craftZip([manifest({ local: { name: Buffer.from('AndroidManifest.xmX') } })]),
      'APK_HEADER_MISMATCH',
      /names another file/,
    );
    await refused(craftZip([manifest({ local: { method: 8 } })]), 'APK_HEADER_MISMATCH');
    await refused(craftZip([manifest({ local: { size: 3 } })]), 'APK_HEADER_MISMATCH');
    await refused(craftZip([manifest({ local: { crc: 1 } })]), 'APK_HEADER_MISMATCH');
  });

  it.each([
    ['../evil', /"\.\."/],
    ['a/../../evil', /"\.\."/],
    ['/etc/passwd', /absolute/],
    ['a\\b', /backslash/],
    ['a\u0000b', /NUL/],
    ['a\u0007b', /control/],
  ])('refuses the hostile name %j', async (name, why) => {
    await refused(craftZip([{ name, data: Buffer.from('x') }]), 'APK_UNSAFE_ENTRY_NAME', why);
  });

  it('refuses a name that is not valid UTF-8', async () => {
    await refused(
      craftZip([{ name: Buffer.from([0x61, 0xff, 0xfe]), data: Buffer.from('x') }]),
      'APK_UNSAFE_ENTRY_NAME',
      /UTF-8/,
    );
  });

  it('accepts a highly compressible entry, stops a bomb at the inflation budget, refuses by declared size', async () => {
    // 4 MiB of zeros deflates about 1000:1: real APKs ship such assets.
    const zeros = Buffer.alloc(4 * 1024 * 1024);
    const ok = await openApkZip(await write(craftZip([{ name: 'z', data: zeros, method: 8 }])));
    try {
      expect((await ok.readEntry('z')).equals(zeros)).toBe(true);
    } finally {
      await ok.close();
    }
    const bomb = await write(
      craftZip([
        { name: 'b1', data: zeros, method: 8 },
        { name: 'b2', data: zeros, method: 8 },
      ]),
    );
    const zip = await openApkZip(bomb, {
      inflateBaseBytes: 6 * 1024 * 1024,
      inflatePerFileByte: 0,
    });
    try {
      await zip.readEntry('b1');
      await expect(zip.readEntry('b2')).rejects.toMatchObject({
        code: 'APK_TOO_LARGE',
        message: expect.stringMatching(/budget \(a compression bomb\?\)/) as unknown,
      });
    } finally {
      await zip.close();
    }
    const file = await write(craftZip([{ name: 'big', data: Buffer.alloc(4096) }]));
    await expect(openApkZip(file, { maxEntryBytes: 1024 })).rejects.toMatchObject({
      code: 'APK_TOO_LARGE',
    });
    await expect(openApkZip(file, { maxEntries: 0 })).rejects.toMatchObject({
      code: 'APK_TOO_LARGE',
    });
  });

  it('stops inflating when the data is longer than the declared size', async () => {
    // Central and local both declare 10 bytes; the deflate stream holds 1 MiB.
    const bytes = craftZip([
      {
        name: 'liar',
        data: Buffer.alloc(1024 * 1024, 7),
        method: 8,
        local: { size: 10 },
        central: { size: 10 },
      },
    ]);
    const file = await write(bytes);
    const zip = await openApkZip(file);
    try {
      await expect(zip.readEntry('liar')).rejects.toMatchObject({
        code: 'APK_ZIP_INVALID',
        message: expect.stringMatching(/too many bytes/) as unknown,
      });
    } finally {
      await zip.close();
    }
  });

  it('refuses a truncated zip and a non-zip', async () => {
    const bytes = craftZip([manifest()]);
    await refused(bytes.subarray(0, bytes.length - 10), 'APK_ZIP_INVALID');
    await refused(Buffer.from('<manifest/>'), 'APK_ZIP_INVALID', /not a zip/);
    // Central directory cut short: the EOCD points past what is there.
    const cut = Buffer.concat([bytes.subarray(0, 20), bytes.subarray(bytes.length - 22)]);
    await refused(cut, 'APK_ZIP_INVALID');
  });

  it('refuses encrypted entries and unknown methods', async () => {
    await refused(
      craftZip([manifest({ method: 8, local: { flags: 0x801 }, central: { flags: 0x801 } })]),
      'APK_UNSUPPORTED_ENTRY',
      /encrypted/,
    );
    const bzip2 = craftZip([manifest({ method: 8 })]);
    const cd = bzip2.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    bzip2.writeUInt16LE(12, 8);
    bzip2.writeUInt16LE(12, cd + 10);
    await refused(bzip2, 'APK_UNSUPPORTED_ENTRY', /method 12/);
  });
});

describe('file descriptors', () => {
  it('are all released after refusals and after reads', async () => {
    const { readdir } = await import('node:fs/promises');
    const count = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
    const good = await write(craftZip([manifest({ method: 8 })]));
    const bad = [
      await write(craftZip([manifest(), manifest()])),
      await write(Buffer.from('not a zip at all, not even close')),
      await write(craftZip([manifest({ local: { crc: 1 } })])),
    ];
    const before = await count();
    for (let i = 0; i < 20; i++) {
      for (const file of bad) await openApkZip(file).catch(() => undefined);
      const zip = await openApkZip(good);
      await zip.readEntry('AndroidManifest.xml');
      await zip.close();
    }
    // yauzl closes the fd once the last read stream has ended; give the loop a turn.
    await new Promise((r) => setTimeout(r, 50));
    expect(await count()).toBe(before);
  });
});

describe('unsafeEntryName', () => {
  it('accepts ordinary APK names', () => {
    for (const ok of ['AndroidManifest.xml', 'res/mipmap-hdpi-v4/ic.png', 'lib/arm64-v8a/a.so'])
      expect(unsafeEntryName(ok)).toBeNull();
    expect(unsafeEntryName('')).toBe('empty name');
    expect(unsafeEntryName('C:x')).toBe('absolute path');
  });
});

/** Where `craftZip`'s central directory is: [offset, size, count]. */
function cdOf(zip: Buffer): { offset: number; size: number; count: number } {
  const e = zip.length - 22;
  return {
    offset: zip.readUInt32LE(e + 16),
    size: zip.readUInt32LE(e + 12),
    count: zip.readUInt16LE(e + 10),
  };
}

/**
 * Rewrites `zip` with zip64 end records: the zip64 record names `cd64` (default: the real
 * directory), the classic record keeps `classic` (default: zip64 markers).
 */
function withZip64(
  zip: Buffer,
  options: {
    cd64?: { offset: number; size: number; count: number };
    classic?: 'markers' | 'real';
    gap?: number;
    extraCd?: Buffer;
  } = {},
): Buffer {
  const real = cdOf(zip);
  const body = zip.subarray(0, real.offset + real.size);
  const extra = options.extraCd ?? Buffer.alloc(0);
  const cd64 = options.cd64 ?? real;
  const recordOffset = body.length + extra.length;
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(cd64.count), 24);
  record.writeBigUInt64LE(BigInt(cd64.count), 32);
  record.writeBigUInt64LE(BigInt(cd64.size), 40);
  record.writeBigUInt64LE(BigInt(cd64.offset), 48);
  const gap = Buffer.alloc(options.gap ?? 0);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(recordOffset), 8);
  locator.writeUInt32LE(1, 16);
  const eocd = Buffer.from(zip.subarray(zip.length - 22));
  if (options.classic !== 'real') {
    eocd.writeUInt16LE(0xffff, 8);
    eocd.writeUInt16LE(0xffff, 10);
    eocd.writeUInt32LE(0xffffffff, 12);
    eocd.writeUInt32LE(0xffffffff, 16);
  }
  return Buffer.concat([body, extra, record, gap, locator, eocd]);
}

describe('one view of the zip', () => {
  it('accepts consistent zip64 end records and reports them', async () => {
    const zip = craftZip([manifest(), { name: 'a', data: Buffer.from('x') }]);
    for (const classic of ['markers', 'real'] as const) {
      const z = await openApkZip(await write(withZip64(zip, { classic })));
      try {
        expect(z.geometry.zip64).toBe(true);
        expect(z.geometry.centralOffset).toBe(cdOf(zip).offset);
        expect([...z.entries.keys()]).toEqual(['AndroidManifest.xml', 'a']);
      } finally {
        await z.close();
      }
    }
  });

  it('refuses a zip64 record that names another central directory than the classic record (split view)', async () => {
    const a = craftZip([manifest(), { name: 'a', data: Buffer.from('x') }]);
    // A second, different central directory placed after the first: the zip64 record points
    // at it, the classic record at the first one.
    const b = craftZip([manifest({ data: Buffer.from('other manifest') })]);
    const bCd = b.subarray(cdOf(b).offset, cdOf(b).offset + cdOf(b).size);
    const realA = cdOf(a);
    const split = withZip64(a, {
      classic: 'real',
      extraCd: bCd,
      cd64: { offset: realA.offset + realA.size, size: bCd.length, count: 1 },
    });
    await refused(split, 'APK_ZIP_INVALID', /split view/);
    // Entry count differing between the two records.
    await refused(
      withZip64(a, { classic: 'real', cd64: { ...realA, count: 1 } }),
      'APK_ZIP_INVALID',
      /split view/,
    );
  });

  it('refuses a zip64 record not followed directly by its locator, and markers without zip64', async () => {
    const a = craftZip([manifest()]);
    await refused(withZip64(a, { gap: 8 }), 'APK_ZIP_INVALID', /split view|locator/);
    const markers = Buffer.from(a);
    markers.writeUInt32LE(0xffffffff, markers.length - 22 + 16);
    await refused(markers, 'APK_ZIP_INVALID');
  });

  it('refuses a zip64 locator whose record offset is past the locator or past 2^53 (found by fuzzing)', async () => {
    const z = withZip64(craftZip([manifest()]));
    const locatorOffset = z.length - 22 - 20 + 8;
    for (const offset of [0xff00000000000000n, 1n << 53n, BigInt(z.length)]) {
      const bad = Buffer.from(z);
      bad.writeBigUInt64LE(offset, locatorOffset);
      await refused(bad, 'APK_ZIP_INVALID', /locator points at no zip64 end record/);
    }
  });

  it('refuses bytes between the central directory and its end record, and a size that lies', async () => {
    const a = craftZip([manifest(), { name: 'a', data: Buffer.from('x') }]);
    const cd = cdOf(a);
    const gap = Buffer.concat([
      a.subarray(0, a.length - 22),
      Buffer.alloc(16),
      a.subarray(a.length - 22),
    ]);
    await refused(gap, 'APK_ZIP_INVALID', /does not end where its end record begins/);
    // The size says 16 more bytes than the two entries hold (and the offset accounts for it).
    const padded = Buffer.concat([
      a.subarray(0, a.length - 22),
      Buffer.alloc(16),
      a.subarray(a.length - 22),
    ]);
    padded.writeUInt32LE(cd.size + 16, padded.length - 22 + 12);
    await refused(padded, 'APK_ZIP_INVALID', /size disagrees with the entries/);
  });

  it('refuses trailing bytes after the end record', async () => {
    const a = craftZip([manifest()]);
    await refused(Buffer.concat([a, Buffer.from('trailer')]), 'APK_ZIP_INVALID');
  });

  it('refuses a data descriptor that disagrees with the central directory', async () => {
    const data = Buffer.from('manifest bytes');
    const good = craftZip([manifest({ local: { flags: 0x808, crc: 0, size: 0 } })]);
    // craftZip writes no descriptor: insert one after the data, then fix the offsets.
    const withDescriptor = (crc: number): Buffer => {
      const cd = cdOf(good);
      const d = Buffer.alloc(16);
      d.writeUInt32LE(0x08074b50, 0);
      d.writeUInt32LE(crc, 4);
      d.writeUInt32LE(data.length, 8);
      d.writeUInt32LE(data.length, 12);
      const out = Buffer.concat([good.subarray(0, cd.offset), d, good.subarray(cd.offset)]);
      out.writeUInt32LE(cd.offset + 16, out.length - 22 + 16);
      // The local header's compressed size stays; a descriptor entry's local sizes are zero.
      out.writeUInt32LE(0, 18);
      return out;
    };
    const realCrc = good.readUInt32LE(good.length - 22 - cdOf(good).size + 16);
    const ok = await openApkZip(await write(withDescriptor(realCrc)));
    await ok.close();
    await refused(withDescriptor(realCrc ^ 1), 'APK_HEADER_MISMATCH', /data descriptor/);
  });

  it('refuses an entry that runs into the APK Signing Block', async () => {
    const a = craftZip([manifest()]);
    const cd = cdOf(a);
    // A "signing block" of 48 bytes whose declared size reaches back over the entry's data.
    const block = Buffer.alloc(48);
    block.writeBigUInt64LE(40n, 0);
    block.writeBigUInt64LE(40n + 20n, 24);
    Buffer.from('APK Sig Block 42', 'latin1').copy(block, 32);
    const out = Buffer.concat([a.subarray(0, cd.offset), block, a.subarray(cd.offset)]);
    out.writeUInt32LE(cd.offset + 48, out.length - 22 + 16);
    await refused(out, 'APK_OVERLAPPING_ENTRIES', /Signing Block/);
  });

  it('refuses malformed central directory records', async () => {
    const a = craftZip([manifest(), { name: 'a', data: Buffer.from('x') }]);
    const cd = cdOf(a).offset;
    const badSignature = Buffer.from(a);
    badSignature.writeUInt32LE(0x02014b51, cd);
    await refused(badSignature, 'APK_ZIP_INVALID', /invalid central directory record signature/);
    // A zip64 marker in the size with no zip64 extra field to hold the real size.
    const marker = Buffer.from(a);
    marker.writeUInt32LE(0xffffffff, cd + 24);
    await refused(marker, 'APK_ZIP_INVALID', /zip64 extra field lacks the uncompressed size/);
    const disk = Buffer.from(a);
    disk.writeUInt16LE(1, cd + 34);
    await refused(disk, 'APK_ZIP_INVALID', /multi-disk/);
    // A name length that runs past the directory.
    const long = Buffer.from(a);
    long.writeUInt16LE(0xfff0, cd + 28);
    await refused(long, 'APK_ZIP_INVALID', /runs past the directory/);
  });

  it('refuses a local zip64 marker without the zip64 extra field that would hold the size', async () => {
    const a = craftZip([manifest()]);
    const local = Buffer.from(a);
    local.writeUInt32LE(0xffffffff, 22);
    await refused(local, 'APK_HEADER_MISMATCH', /local zip64 extra field/);
  });
});
