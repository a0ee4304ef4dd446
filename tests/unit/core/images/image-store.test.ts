import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { register, type ImageCommandDeps } from '../../../../electron/cli/commands/image.js';
import { runCli } from '../../../../electron/cli/main.js';
import {
  loopBackingFiles,
  removeStoredImage,
} from '../../../../electron/core/images/image-store.js';
import { discoverImages, importImage } from '../../../../electron/core/images/index.js';
import { DEFAULT_CHANNELS } from '../../../../electron/core/images/ota-channel.js';

let root: string;
let store: string;

async function storedImage(name: string): Promise<string> {
  const dir = join(store, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'system.img'), 'system');
  await writeFile(join(dir, 'vendor.img'), 'vendor');
  return dir;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'droidway-image-store-'));
  store = join(root, 'store');
  await mkdir(store);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('removeStoredImage', () => {
  it('removes the folder of a stored image and leaves the others', async () => {
    const dir = await storedImage('lineage-20');
    await storedImage('lineage-21');
    expect(await removeStoredImage(store, 'lineage-20', { backingFiles: async () => [] })).toBe(
      dir,
    );
    expect(existsSync(dir)).toBe(false);
    expect(await readdir(store)).toEqual(['lineage-21']);
  });

  it('refuses an image a session has mounted, and keeps it', async () => {
    const dir = await storedImage('busy');
    await expect(
      removeStoredImage(store, 'busy', {
        backingFiles: async () => ['/var/lib/other/system.img', join(dir, 'system.img')],
      }),
    ).rejects.toMatchObject({
      code: 'IMAGE_IN_USE',
      message: expect.stringContaining('stop the session first') as unknown as string,
    });
    expect(existsSync(join(dir, 'system.img'))).toBe(true);
    // A sibling whose name starts the same is not this image.
    await storedImage('busy2');
    await expect(
      removeStoredImage(store, 'busy', {
        backingFiles: async () => [join(store, 'busy2', 'system.img')],
      }),
    ).resolves.toBe(dir);
  });

  it('refuses names outside the store: paths, dot-dot, symlinks, unknown names', async () => {
    const outside = join(root, 'waydroid');
    await mkdir(outside);
    await writeFile(join(outside, 'system.img'), 'x');
    await symlink(outside, join(store, 'linked'));
    const none = async (): Promise<string[]> => [];
    for (const [name, code] of [
      ['../waydroid', 'IMAGE_NAME_INVALID'],
      [outside, 'IMAGE_NAME_INVALID'],
      ['', 'IMAGE_NAME_INVALID'],
      ['linked', 'IMAGE_NOT_FOUND'],
      ['absent', 'IMAGE_NOT_FOUND'],
    ] as const)
      await expect(
        removeStoredImage(store, name, { backingFiles: none }),
        name,
      ).rejects.toMatchObject({ code });
    expect(existsSync(join(outside, 'system.img'))).toBe(true);
  });

  it('reads loop backing files, ignoring unbacked devices and a missing /sys', async () => {
    const sys = join(root, 'sys-block');
    for (const [dev, backing] of [
      ['loop0', '/srv/img/system.img\n'],
      ['loop1', '/srv/img/vendor.img (deleted)\n'],
      ['loop2', null],
      ['sda', '/not/a/loop\n'],
    ] as const) {
      await mkdir(join(sys, dev, 'loop'), { recursive: true });
      if (backing !== null) await writeFile(join(sys, dev, 'loop', 'backing_file'), backing);
    }
    expect((await loopBackingFiles(sys)).sort()).toEqual([
      '/srv/img/system.img',
      '/srv/img/vendor.img',
    ]);
    expect(await loopBackingFiles(join(root, 'no-sys'))).toEqual([]);
  });
});

describe('droidway image remove', () => {
  async function run(args: string[], deps: Partial<ImageCommandDeps> = {}) {
    const program = new Command('droidway');
    register(program, {
      discover: (o) => discoverImages(o),
      importImage,
      downloadImage: () => Promise.reject(new Error('no download here')),
      removeImage: (s, n) => removeStoredImage(s, n, { backingFiles: async () => [] }),
      channels: () => ({ ...DEFAULT_CHANNELS }),
      interactive: () => false,
      ...deps,
    });
    const r = { out: '', err: '' };
    const code = await runCli(program, ['node', 'droidway', 'image', 'remove', ...args], {
      writeOut: (t) => void (r.out += t),
      writeErr: (t) => void (r.err += t),
      env: {},
    });
    return { code, ...r };
  }

  it('removes a stored image and says from where', async () => {
    const dir = await storedImage('old');
    expect(await run(['old', '--store', store])).toEqual({
      code: 0,
      out: `removed old from ${dir}\n`,
      err: '',
    });
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses Waydroid's image by name, saying where it is (exit 1)", async () => {
    const r = await run(['waydroid-image', '--store', store], {
      discover: async () => [
        {
          name: 'waydroid-image',
          source: 'waydroid',
          dir: '/var/lib/waydroid/images',
        } as Awaited<ReturnType<ImageCommandDeps['discover']>>[number],
      ],
    });
    expect(r).toEqual({
      code: 1,
      out: '',
      err: `droidway: waydroid-image is Waydroid's image in /var/lib/waydroid/images; Droidway removes only images in its own store (${store})\n`,
    });
  });

  it('refuses an image in use (exit 1) and an invalid name (exit 2)', async () => {
    const dir = await storedImage('busy');
    const busy = await run(['busy', '--store', store], {
      removeImage: (s, n) =>
        removeStoredImage(s, n, { backingFiles: async () => [join(dir, 'vendor.img')] }),
    });
    expect(busy.code).toBe(1);
    expect(busy.err).toBe(
      'droidway: image busy is in use by a running session (vendor.img mounted); stop the session first with droidway session stop\n',
    );
    const bad = await run(['../etc', '--store', store]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^droidway: .*invalid/);
  });
});
