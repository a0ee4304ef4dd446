import fs from 'node:fs/promises';
import { closeSync, fstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openGuestData,
  parseFdChannelRequest,
} from '../../../../electron/core/runtime/fd-channel.js';

const bytes = (v: unknown): Uint8Array =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseFdChannelRequest', () => {
  it('accepts exec and open-data requests', () => {
    expect(
      parseFdChannelRequest(bytes({ op: 'exec', argv: ['cmd', 'package', 'path', 'a.b'] })),
    ).toEqual({
      op: 'exec',
      argv: ['cmd', 'package', 'path', 'a.b'],
    });
    expect(
      parseFdChannelRequest(bytes({ op: 'exec', argv: ['am'], timeoutMs: 5000 })),
    ).toMatchObject({
      timeoutMs: 5000,
    });
    expect(parseFdChannelRequest(bytes({ op: 'open-data', path: '/data/app/x/base.apk' }))).toEqual(
      {
        op: 'open-data',
        path: '/data/app/x/base.apk',
      },
    );
  });

  it('refuses malformed and hostile requests with CONTROL_BAD_REQUEST', () => {
    const bad: unknown[] = [
      '',
      'not json',
      '\u0000',
      'null',
      '[]',
      { op: 'exec' },
      { op: 'exec', argv: [] },
      { op: 'exec', argv: 'sh -c id' },
      { op: 'exec', argv: [1, 2] },
      { op: 'exec', argv: ['sh\u0000'] },
      { op: 'exec', argv: Array.from({ length: 300 }, () => 'x') },
      { op: 'exec', argv: ['x'.repeat(5000)] },
      { op: 'exec', argv: ['a'], timeoutMs: -1 },
      { op: 'exec', argv: ['a'], timeoutMs: 1e12 },
      { op: 'exec', argv: ['a'], extra: true },
      { op: 'open-data' },
      { op: 'open-data', path: '' },
      { op: 'open-data', path: 'x'.repeat(5000) },
      { op: 'shell', argv: ['sh'] },
    ];
    for (const b of bad)
      expect(() => parseFdChannelRequest(bytes(b)), JSON.stringify(b)).toThrow(
        expect.objectContaining({ code: 'CONTROL_BAD_REQUEST' }),
      );
  });
});

describe('openGuestData', () => {
  let data: string;
  beforeAll(async () => {
    data = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-fdch-'));
    await fs.mkdir(path.join(data, 'app', 'x'), { recursive: true });
    await fs.writeFile(path.join(data, 'app', 'x', 'base.apk'), 'PK');
    await fs.symlink('/etc/passwd', path.join(data, 'app', 'x', 'link.apk'));
    await fs.symlink('/etc', path.join(data, 'app', 'evil'));
    await fs.mkdir(path.join(data, 'app', 'dir.apk'));
  });
  afterAll(async () => {
    await fs.rm(data, { recursive: true, force: true });
  });

  it('opens a regular file under /data read-only and hands over its fd', async () => {
    const { fd, size } = await openGuestData(data, '/data/app/x/base.apk');
    try {
      expect(size).toBe(2);
      expect(fstatSync(fd).isFile()).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it('refuses paths outside /data, dot components, symlinks and non-files', async () => {
    for (const [p, why] of [
      ['/etc/passwd', /not under \/data/],
      ['/data/../etc/passwd', /\. or \.\. component/],
      ['/data/app/./x/base.apk', /\. or \.\. component/],
      ['/data/app/x/link.apk', /symlink/],
      ['/data/app/evil/passwd', /real folder/],
      ['/data/app/dir.apk', /not a regular file/],
      ['/data/app/x/missing.apk', /cannot be opened/],
      ['/data/app/x/base.apk\n', /control character/],
    ] as const)
      await expect(openGuestData(data, p), p).rejects.toThrow(why);
  });
});
