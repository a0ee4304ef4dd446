import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestDataPathToHost } from '../../../../electron/core/android/guest-data.js';

let root: string;
let data: string;
const roots = (): { dataRoot: string; runtimeRoot: string } => ({
  dataRoot: root,
  runtimeRoot: path.join(root, 'run'),
});

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'guest-data-'));
  data = path.join(root, 'inst', 'data');
  await fs.mkdir(path.join(data, 'app', '~~a', 'com.x-b'), { recursive: true });
  await fs.writeFile(path.join(data, 'app', '~~a', 'com.x-b', 'base.apk'), 'apk');
  await fs.symlink('/etc', path.join(data, 'escape'));
  await fs.symlink('/etc/passwd', path.join(data, 'app', 'passwd.apk'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('guestDataPathToHost', () => {
  it('maps a path under /data into the instance data folder', async () => {
    expect(await guestDataPathToHost('inst', '/data/app/~~a/com.x-b/base.apk', roots())).toBe(
      path.join(data, 'app/~~a/com.x-b/base.apk'),
    );
    expect(await guestDataPathToHost('inst', '/data', roots())).toBe(data);
    expect(await guestDataPathToHost('inst', '//data//app//new.apk', roots())).toBe(
      path.join(data, 'app/new.apk'),
    );
  });

  it('refuses paths outside /data, relative ones, dot components and control characters', async () => {
    for (const p of [
      '/etc/passwd',
      '/database/x',
      'data/app',
      '/data/../etc/passwd',
      '/data/app/../../etc',
      '/data/./app',
      '/data/app/x\u0000.apk',
      '/data/app/x\n.apk',
      '',
      `/data/${'a'.repeat(5000)}`,
    ]) {
      await expect(
        guestDataPathToHost('inst', p, roots()),
        JSON.stringify(p),
      ).rejects.toMatchObject({
        code: 'GUEST_PATH_UNSAFE',
      });
    }
  });

  it('refuses a path through or to a symlink the guest planted', async () => {
    await expect(guestDataPathToHost('inst', '/data/escape/passwd', roots())).rejects.toMatchObject(
      {
        code: 'GUEST_PATH_UNSAFE',
        message: expect.stringContaining('symbolic link'),
      },
    );
    await expect(
      guestDataPathToHost('inst', '/data/app/passwd.apk', roots()),
    ).rejects.toMatchObject({
      code: 'GUEST_PATH_UNSAFE',
    });
  });

  it('refuses a path going through a file', async () => {
    await expect(
      guestDataPathToHost('inst', '/data/app/~~a/com.x-b/base.apk/more', roots()),
    ).rejects.toMatchObject({ code: 'GUEST_PATH_UNSAFE' });
  });

  it('refuses an invalid instance name', async () => {
    await expect(guestDataPathToHost('../x', '/data/a', roots())).rejects.toMatchObject({
      code: 'INSTANCE_NAME_INVALID',
    });
  });
});
