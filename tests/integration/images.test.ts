import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  androidPropsText,
  assertAndroidReady,
  checkAndroidReadiness,
  cleanupImageMounts,
  discoverImages,
  importImage,
  mountAndroidImage,
  resolveImage,
} from '../../electron/core/images/index.js';
import { itNeeds, needRoot } from '../helpers/capability.js';
import {
  makeExt4Image,
  makeImageFolder,
  makeZip,
  toolPath,
  writeSystemTree,
  writeVendorTree,
} from '../fixtures/images/fixture-images.js';

/**
 * Android images on this machine, with fixture images the test builds (`mkfs.ext4 -d`, and
 * `mkfs.erofs` when installed): discovery without mounting, import into the store, the mount
 * layout Android expects (root), release of every mount and loop device, and the readiness
 * check that refuses before mounting.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const shim = join(root, 'electron/cli/droidway.js');
// The shim runs the bundle when there is one: rebuild it (with the tsc output) when stale.
const builtMain = join(root, 'out/cli/droidway.js');

let work: string;
let store: string;
let user: string;
const A11 = { release: '11', sdk: 30, abi: 'x86_64' };
const A13 = { release: '13', sdk: 33, abi: 'x86_64' };

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

function loopDevices(): string {
  return spawnSync(toolPath('losetup') ?? 'losetup', ['-a'], { encoding: 'utf8' }).stdout;
}

const needMkfs = toolPath('mkfs.ext4') === null ? 'needs mkfs.ext4 (e2fsprogs)' : null;
const needDebugfs = toolPath('debugfs') === null ? 'needs debugfs (e2fsprogs)' : null;
const needMount = needRoot() ?? needMkfs ?? (toolPath('losetup') === null ? 'needs losetup' : null);

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

beforeAll(() => {
  // The CLI test runs the built CLI: rebuild it when a source is newer (as doctor-cli does).
  if (
    !existsSync(builtMain) ||
    statSync(builtMain).mtimeMs < newestSource(join(root, 'electron'))
  ) {
    spawnSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
        timeout: 170_000,
      },
    );
    spawnSync(process.execPath, [join(root, 'build/scripts/bundle-cli.js')], {
      cwd: root,
      timeout: 120_000,
    });
  }
  work = mkdtempSync(join(tmpdir(), 'droidway-images-'));
  store = join(work, 'store');
  user = join(work, 'user');
  if (needMkfs !== null) return;
  makeImageFolder(work, join(user, 'a11'), A11);
  makeImageFolder(work, join(user, 'a13'), A13);
});

afterAll(() => {
  if (work !== undefined && mountsUnder(work).length === 0)
    rmSync(work, { recursive: true, force: true });
});

describe('discovery without mounting', () => {
  itNeeds(
    'reports version, SDK, ABI, filesystem and size of ext4 images',
    needMkfs ?? needDebugfs,
    async () => {
      const before = readFileSync('/proc/self/mountinfo', 'utf8');
      const images = await discoverImages({ storeRoot: store, waydroidDirs: [], userDirs: [user] });
      expect(images.map((i) => [i.name, i.androidVersion, i.sdk, i.abi])).toEqual([
        [join(user, 'a11'), '11', 30, 'x86_64'],
        [join(user, 'a13'), '13', 33, 'x86_64'],
      ]);
      const a11 = images[0]!;
      expect(a11).toMatchObject({
        source: 'user',
        usable: true,
        problems: [],
        filesystems: { system: 'ext4', vendor: 'ext4' },
        size:
          statSync(join(user, 'a11/system.img')).size + statSync(join(user, 'a11/vendor.img')).size,
      });
      expect(a11.system).toMatchObject({
        buildPropPath: '/system/build.prop',
        skippedPropLines: 0,
      });
      expect(a11.system?.build?.lineageVersion).toBe('18.1');
      expect(a11.vendor?.build).toEqual({
        device: 'waydroid_x86_64',
        product: 'lineage_waydroid_x86_64',
        sdk: 30,
        vndkVersion: '30',
      });
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(before);
    },
  );

  itNeeds(
    'describes erofs images, or says why their version is unknown',
    toolPath('mkfs.erofs') === null ? 'needs mkfs.erofs (erofs-utils)' : null,
    async () => {
      const dir = join(work, 'erofs', 'a11');
      makeImageFolder(work, dir, A11, 'erofs');
      const [image] = await discoverImages({ storeRoot: store, waydroidDirs: [], userDirs: [dir] });
      expect(image?.filesystems).toEqual({ system: 'erofs', vendor: 'erofs' });
      expect(image?.usable).toBe(true);
      const help = spawnSync(toolPath('dump.erofs') ?? 'dump.erofs', ['--help'], {
        encoding: 'utf8',
      });
      if (`${help.stdout}${help.stderr}`.includes('--cat')) {
        expect([image?.androidVersion, image?.sdk]).toEqual(['11', 30]);
      } else {
        expect(image?.androidVersion).toBeNull();
        expect(image?.system?.unreadableReason).toMatch(
          /dump\.erofs with --cat \(erofs-utils 1\.8 or newer\)/,
        );
        expect(image?.problems.join('\n')).toMatch(/system\.img: version unknown/);
      }
    },
  );

  itNeeds('lists a half image and a non-image with what is wrong', needMkfs, async () => {
    const half = join(work, 'half');
    mkdirSync(half, { recursive: true });
    writeFileSync(join(half, 'system.img'), Buffer.alloc(4096));
    const [image] = await discoverImages({ storeRoot: store, waydroidDirs: [], userDirs: [half] });
    expect(image).toMatchObject({
      usable: false,
      filesystems: { system: 'unknown', vendor: null },
    });
    expect(image?.problems).toEqual([
      `no vendor.img in ${half}`,
      'system.img is neither ext4 nor erofs',
    ]);
    await expect(resolveImage(half)).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      message: `${half} has no vendor.img: an image folder holds system.img and vendor.img`,
    });
  });
});

describe('import into the store', () => {
  itNeeds('imports a folder and the zips Waydroid ships, atomically', needMkfs, async () => {
    const folder = await importImage(join(user, 'a11'), { storeRoot: store, name: 'lineage-18' });
    expect(folder).toEqual({ name: 'lineage-18', dir: join(store, 'lineage-18') });
    expect(sha256(join(folder.dir, 'system.img'))).toBe(sha256(join(user, 'a11/system.img')));
    const zips = join(work, 'zips');
    mkdirSync(zips, { recursive: true });
    writeFileSync(
      join(zips, 'lineage-20-20240101-VANILLA-waydroid_x86_64-system.zip'),
      makeZip([{ name: 'system.img', data: readFileSync(join(user, 'a13/system.img')) }]),
    );
    writeFileSync(
      join(zips, 'lineage-20-20240101-MAINLINE-waydroid_x86_64-vendor.zip'),
      makeZip([{ name: 'vendor.img', data: readFileSync(join(user, 'a13/vendor.img')) }]),
    );
    const fromZips = await importImage(zips, { storeRoot: store });
    expect(fromZips.name).toBe('lineage-20-20240101-vanilla-waydroid_x86_64');
    const images = await discoverImages({ storeRoot: store, waydroidDirs: [] });
    expect(images.map((i) => [i.name, i.source, i.androidVersion, i.record?.origin.kind])).toEqual([
      ['lineage-18', 'store', '11', 'folder'],
      ['lineage-20-20240101-vanilla-waydroid_x86_64', 'store', '13', 'zips'],
    ]);
    await expect(
      importImage(join(user, 'a11'), { storeRoot: store, name: 'lineage-18' }),
    ).rejects.toMatchObject({
      code: 'IMAGE_EXISTS',
    });
    expect(readdirSync(store).filter((n) => n.startsWith('.incoming-'))).toEqual([]);
    await expect(
      resolveImage('lineage-18', { storeRoot: store, waydroidDirs: [] }),
    ).resolves.toMatchObject({
      dir: join(store, 'lineage-18'),
    });
  });

  itNeeds(
    'refuses a folder whose images are not ext4 or erofs, leaving the store as it was',
    needMkfs,
    async () => {
      const bad = join(work, 'bad');
      mkdirSync(bad, { recursive: true });
      writeFileSync(join(bad, 'system.img'), Buffer.alloc(8192));
      writeFileSync(join(bad, 'vendor.img'), Buffer.alloc(8192));
      const before = existsSync(store) ? readdirSync(store) : [];
      await expect(importImage(bad, { storeRoot: store })).rejects.toMatchObject({
        code: 'IMAGE_INVALID',
        message: 'system.img is neither an ext4 nor an erofs image',
      });
      expect(readdirSync(store)).toEqual(before);
    },
  );

  itNeeds(
    'droidway image list --json shows the store and the given folders',
    needMkfs ?? (existsSync(builtMain) ? null : 'needs the built CLI (npm run build:ts)'),
    () => {
      const run = spawnSync(
        process.execPath,
        [shim, 'image', 'list', '--json', '--store', store, '--dir', user],
        { encoding: 'utf8', timeout: 30_000 },
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const images = JSON.parse(run.stdout) as {
        name: string;
        source: string;
        androidVersion: string;
      }[];
      const mine = images.filter((i) => i.source !== 'waydroid');
      expect(mine.map((i) => [i.name, i.source, i.androidVersion])).toEqual([
        ['lineage-18', 'store', '11'],
        ['lineage-20-20240101-vanilla-waydroid_x86_64', 'store', '13'],
        [join(user, 'a11'), 'user', '11'],
        [join(user, 'a13'), 'user', '13'],
      ]);
    },
  );
});

describe('mounting the image', () => {
  const props = androidPropsText({
    hasAshmem: false,
    renderNode: null,
    scale: 1.5,
    multiWindows: true,
  });

  itNeeds(
    'gives Android its layout, writable overlays, untouched images, and releases everything',
    needMount,
    async () => {
      const image = join(user, 'a11');
      const sums = [sha256(join(image, 'system.img')), sha256(join(image, 'vendor.img'))];
      const loopsBefore = loopDevices();
      const instance = join(work, 'instance-1');
      const dataDir = join(instance, 'data');
      const runtimeDir = join(instance, 'run');
      const mounted = await mountAndroidImage({
        systemImage: join(image, 'system.img'),
        vendorImage: join(image, 'vendor.img'),
        dataDir,
        runtimeDir,
        propsText: props,
      });
      try {
        const r = mounted.rootfs;
        expect(r).toBe(join(runtimeDir, 'android/rootfs'));
        expect(lstatSync(join(r, 'init')).isSymbolicLink()).toBe(true);
        expect(readlinkSync(join(r, 'init'))).toBe('/system/bin/init');
        expect(readFileSync(join(r, 'system/build.prop'), 'utf8')).toContain(
          'ro.build.version.release=11',
        );
        expect(readFileSync(join(r, 'vendor/build.prop'), 'utf8')).toContain(
          'ro.product.vendor.device=waydroid_x86_64',
        );
        expect(readFileSync(join(r, 'vendor/waydroid.prop'), 'utf8')).toBe(props);
        expect(props).toContain('ro.sf.lcd_density=240\n');
        expect(mounted.loopDevices).toHaveLength(2);
        for (const dev of mounted.loopDevices) expect(dev).toMatch(/^\/dev\/loop\d+$/);
        expect(mountsUnder(instance).sort()).toEqual(
          [
            join(runtimeDir, 'android/system'),
            join(runtimeDir, 'android/vendor'),
            r,
            join(r, 'vendor'),
            join(r, 'data'),
            join(r, 'vendor/waydroid.prop'),
          ].sort(),
        );
        // Writes land in the instance's overlay uppers and data folder, never in the images.
        writeFileSync(join(r, 'system/added-by-user'), 'system change');
        writeFileSync(join(r, 'vendor/added-by-user'), 'vendor change');
        writeFileSync(join(r, 'data/app-data'), 'data');
        expect(
          readFileSync(join(dataDir, 'overlay/system/upper/system/added-by-user'), 'utf8'),
        ).toBe('system change');
        expect(readFileSync(join(dataDir, 'overlay/vendor/upper/added-by-user'), 'utf8')).toBe(
          'vendor change',
        );
        expect(readFileSync(join(dataDir, 'data/app-data'), 'utf8')).toBe('data');
        expect(() => writeFileSync(join(runtimeDir, 'android/system/x'), 'x')).toThrow(/EROFS/);
        expect(() => writeFileSync(join(r, 'vendor/waydroid.prop'), 'x')).toThrow(/EROFS/);
        const record = JSON.parse(readFileSync(join(runtimeDir, 'mounts.json'), 'utf8')) as {
          mounts: unknown[];
        };
        expect(record.mounts).toHaveLength(6);
      } finally {
        const report = await mounted.unmountAll();
        expect(report.problems).toEqual([]);
      }
      expect(mountsUnder(instance)).toEqual([]);
      expect(loopDevices()).toBe(loopsBefore);
      expect(existsSync(join(runtimeDir, 'mounts.json'))).toBe(false);
      expect([sha256(join(image, 'system.img')), sha256(join(image, 'vendor.img'))]).toEqual(sums);
      expect(readFileSync(join(dataDir, 'data/app-data'), 'utf8')).toBe('data');
      // Idempotent.
      await expect(mounted.unmountAll()).resolves.toEqual({
        unmounted: [],
        loopDevicesDetached: [],
        problems: [],
      });
    },
  );

  itNeeds('cleans what a crashed session left, from mounts.json', needMount, async () => {
    const image = join(user, 'a13');
    const loopsBefore = loopDevices();
    const instance = join(work, 'instance-2');
    const options = {
      systemImage: join(image, 'system.img'),
      vendorImage: join(image, 'vendor.img'),
      dataDir: join(instance, 'data'),
      runtimeDir: join(instance, 'run'),
      propsText: props,
    };
    await mountAndroidImage(options); // the handle is dropped: the host "crashed"
    expect(mountsUnder(instance)).toHaveLength(6);
    // The next start cleans the stale mounts first, then mounts again.
    const again = await mountAndroidImage(options);
    expect(mountsUnder(instance)).toHaveLength(6);
    // A later host finds only the record.
    const report = await cleanupImageMounts(options.runtimeDir, options.dataDir);
    expect(report.problems).toEqual([]);
    expect(report.unmounted).toHaveLength(6);
    expect(mountsUnder(instance)).toEqual([]);
    expect(loopDevices()).toBe(loopsBefore);
    await expect(again.unmountAll()).resolves.toMatchObject({ unmounted: [], problems: [] });
  });

  itNeeds('releases everything when a mount fails half-way', needMount, async () => {
    const loopsBefore = loopDevices();
    const bad = join(work, 'corrupt-vendor');
    mkdirSync(bad, { recursive: true });
    const fake = Buffer.alloc(2 * 1024 * 1024);
    fake.writeUInt16LE(0xef53, 1080); // ext4 magic, nothing else
    writeFileSync(join(bad, 'vendor.img'), fake);
    const instance = join(work, 'instance-3');
    await expect(
      mountAndroidImage({
        systemImage: join(user, 'a11/system.img'),
        vendorImage: join(bad, 'vendor.img'),
        dataDir: join(instance, 'data'),
        runtimeDir: join(instance, 'run'),
        propsText: props,
      }),
    ).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      message: expect.stringMatching(/mounting .*vendor\.img: mount exited/),
    });
    expect(mountsUnder(instance)).toEqual([]);
    expect(loopDevices()).toBe(loopsBefore);
  });

  itNeeds('refuses to mount over a symlink the image plants at /data', needMount, async () => {
    const tree = join(work, 'evil-tree');
    writeSystemTree(tree, A11);
    rmSync(join(tree, 'data'), { recursive: true });
    symlinkSync('/etc', join(tree, 'data'));
    const evil = join(work, 'evil');
    mkdirSync(evil, { recursive: true });
    makeExt4Image(tree, join(evil, 'system.img'));
    const vendorTree = join(work, 'evil-vendor-tree');
    writeVendorTree(vendorTree, 30);
    makeExt4Image(vendorTree, join(evil, 'vendor.img'));
    const loopsBefore = loopDevices();
    const instance = join(work, 'instance-4');
    await expect(
      mountAndroidImage({
        systemImage: join(evil, 'system.img'),
        vendorImage: join(evil, 'vendor.img'),
        dataDir: join(instance, 'data'),
        runtimeDir: join(instance, 'run'),
        propsText: props,
      }),
    ).rejects.toMatchObject({
      code: 'MOUNT_FAILED',
      message: expect.stringMatching(/data is a symlink in the image/),
    });
    expect(mountsUnder(instance)).toEqual([]);
    expect(mountsUnder('/etc')).toEqual([]);
    expect(loopDevices()).toBe(loopsBefore);
  });
});

describe('readiness', () => {
  const hasBinder =
    /\tbinder$/m.test(readFileSync('/proc/filesystems', 'utf8')) ||
    ['/dev/binder', '/dev/hwbinder', '/dev/vndbinder'].every((d) => existsSync(d));

  it('on a host without binder: names the missing kernel support, and mounts nothing', async () => {
    const before = readFileSync('/proc/self/mountinfo', 'utf8');
    const readiness = await checkAndroidReadiness({
      image: needMkfs === null ? join(user, 'a11') : undefined,
      discovery: { storeRoot: store, waydroidDirs: [] },
    });
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(before);
    const binder = readiness.missing.find((m) => m.id === 'binder');
    if (hasBinder) {
      expect(binder).toBeUndefined();
    } else {
      expect(readiness.ready).toBe(false);
      expect(binder?.fix).toMatch(/binder_linux|CONFIG_ANDROID_BINDER_IPC/);
      expect(() => assertAndroidReady(readiness)).toThrow(
        expect.objectContaining({
          code: 'ANDROID_NOT_READY',
          message: expect.stringMatching(/binder/),
        }),
      );
    }
  });

  it('without any image: says how to get one', async () => {
    const readiness = await checkAndroidReadiness({
      discovery: {
        storeRoot: join(work, 'empty-store'),
        waydroidDirs: [join(work, 'no-waydroid')],
      },
    });
    const missing = readiness.missing.find((m) => m.id === 'image');
    expect(missing?.what).toMatch(/no Android image found/);
    expect(missing?.fix).toMatch(/droidway image download/);
    expect(readiness.image).toBeNull();
  });
});
