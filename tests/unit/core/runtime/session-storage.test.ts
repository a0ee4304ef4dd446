/** The session's writable layers: the crossing value's parser, and the copy into a layer. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  copyShifted,
  parseSessionStorage,
  splitReadOnlyBinds,
  type SessionStorage,
} from '../../../../electron/core/runtime/session-storage.js';

const good: SessionStorage = {
  rootfsSource: '/var/lib/droidway/guest/demo-v2',
  rootfsMaxBytes: 67108864,
  consoleMaxBytes: 1048576,
  hostBase: 1879048192,
  idCount: 131072,
};

describe('parseSessionStorage', () => {
  it('accepts the exact shape, with and without a user namespace', () => {
    expect(parseSessionStorage(JSON.stringify(good))).toEqual(good);
    const privileged = { ...good, hostBase: 0, idCount: 0 };
    expect(parseSessionStorage(JSON.stringify(privileged))).toEqual(privileged);
  });

  it('refuses malformed values, naming the field', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /not valid JSON/],
      ['{', /not valid JSON/],
      ['[]', /not an object/],
      ['null', /not an object/],
      [JSON.stringify({ ...good, extra: 1 }), /unknown field "extra"/],
      [JSON.stringify({ ...good, rootfsSource: 'relative' }), /rootfsSource/],
      [JSON.stringify({ ...good, rootfsSource: '/a/../b' }), /rootfsSource/],
      [JSON.stringify({ ...good, rootfsSource: '/a b' }), /rootfsSource/],
      [JSON.stringify({ ...good, rootfsSource: '/a\nlxc.x = 1' }), /rootfsSource/],
      [JSON.stringify({ ...good, rootfsMaxBytes: 1024 }), /rootfsMaxBytes/],
      [JSON.stringify({ ...good, rootfsMaxBytes: '64M' }), /rootfsMaxBytes/],
      [JSON.stringify({ ...good, consoleMaxBytes: 1.5e6 + 0.5 }), /consoleMaxBytes/],
      [JSON.stringify({ ...good, hostBase: -1 }), /hostBase/],
      [JSON.stringify({ ...good, idCount: 100 }), /idCount must be at least 65536/],
      [JSON.stringify({ ...good, hostBase: 4294967000 }), /range must end below/],
      [JSON.stringify({ ...good, rootfsSource: `/${'a'.repeat(9000)}` }), /longer than 8192/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseSessionStorage(text), text.slice(0, 80)).toThrow(
        expect.objectContaining({
          code: 'STORAGE_SETUP_FAILED',
          message: expect.stringMatching(message),
        }),
      );
    }
    const { hostBase: _omitted, ...missing } = good;
    expect(() => parseSessionStorage(JSON.stringify(missing))).toThrow(/hostBase/);
  });
});

describe('splitReadOnlyBinds', () => {
  it('takes read-only binds of host paths, leaving kernel file systems, tmpfs and writable binds to LXC', () => {
    const entries = [
      '/work/native/probe/build opt/droidway/probe none bind,ro,nosuid,nodev,create=dir 0 0',
      '/home/me/My\\040Files mnt/files none bind,create=dir,nosuid,nodev,ro 0 0',
      '/srv/data data none bind,rw,nosuid,nodev,create=dir 0 0',
      'tmpfs tmp tmpfs rw,nosuid,nodev,mode=1777,size=1024,create=dir 0 0',
      '/proc/bus proc/bus none bind,ro,optional 0 0',
      '/run/x/masked proc/kcore none bind,ro,optional 0 0',
      'tmpfs sys/firmware tmpfs ro,nosuid,nodev,noexec,size=4k,mode=0555,optional 0 0',
      '/dev/fuse dev/fuse none bind,create=file,optional 0 0',
      '/run/x/xdg run/xdg none bind,ro,create=dir 0 0',
      '/srv/t tmp/t none bind,ro,create=dir 0 0',
    ];
    const { binds, rest } = splitReadOnlyBinds(entries);
    expect(binds).toEqual([
      {
        entry: entries[0],
        source: '/work/native/probe/build',
        target: 'opt/droidway/probe',
        options: ['bind', 'ro', 'nosuid', 'nodev', 'create=dir'],
      },
      {
        entry: entries[1],
        source: '/home/me/My Files',
        target: 'mnt/files',
        options: ['bind', 'create=dir', 'nosuid', 'nodev', 'ro'],
      },
    ]);
    expect(rest).toEqual(entries.slice(2));
  });

  it('refuses a target that climbs out of the rootfs', () => {
    for (const target of ['opt/../../etc', './x', 'a//b'])
      expect(() => splitReadOnlyBinds([`/src ${target} none bind,ro 0 0`])).toThrow(
        expect.objectContaining({ code: 'STORAGE_SETUP_FAILED' }),
      );
  });
});

describe('copyShifted', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-storage-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('copies files, folders and symlinks with their modes; skips fifos', async () => {
    const src = path.join(tmp, 'src');
    const dst = path.join(tmp, 'dst');
    await fs.mkdir(path.join(src, 'bin'), { recursive: true });
    await fs.mkdir(dst);
    await fs.writeFile(path.join(src, 'bin', 'tool'), 'x'.repeat(1000), { mode: 0o755 });
    await fs.chmod(path.join(src, 'bin', 'tool'), 0o755);
    await fs.symlink('tool', path.join(src, 'bin', 'link'));
    await fs.mkdir(path.join(src, 'tmp'));
    await fs.chmod(path.join(src, 'tmp'), 0o1777);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(src, 'fifo')]);
    const uid = process.getuid!();
    const bytes = await copyShifted(src, dst, {
      ...good,
      rootfsSource: src,
      hostBase: 0,
      idCount: 0,
    });
    expect(bytes).toBe(1000);
    expect((await fs.readdir(dst)).sort()).toEqual(['bin', 'tmp']);
    expect((await fs.stat(path.join(dst, 'bin', 'tool'))).mode & 0o7777).toBe(0o755);
    expect((await fs.stat(path.join(dst, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(await fs.readlink(path.join(dst, 'bin', 'link'))).toBe('tool');
    expect((await fs.lstat(path.join(dst, 'bin', 'tool'))).uid).toBe(uid);
    // A second copy into a folder already filled is refused rather than merged.
    await expect(
      copyShifted(src, dst, { ...good, rootfsSource: src, hostBase: 0, idCount: 0 }),
    ).rejects.toMatchObject({ code: 'STORAGE_SETUP_FAILED' });
  });
});
