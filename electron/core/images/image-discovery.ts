/**
 * Finding Android images and describing them without booting or mounting them. Images live in
 * Waydroid's folders (a user who has Waydroid already has one), in Droidway's own store
 * (imported or downloaded), and in folders the user chose. Each is a folder with `system.img`
 * and `vendor.img`; it is described from the files' superblocks and `build.prop`s.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ImageError, shown } from './image-errors.js';
import {
  describeSystemImage,
  describeVendorImage,
  type ImageFilesystem,
  type SystemPartitionInfo,
  type VendorPartitionInfo,
} from './image-inspect.js';
import {
  defaultImageStoreRoot,
  IMAGE_NAME_PATTERN,
  readImageRecord,
  STORE_TEMP_PREFIX,
  SYSTEM_IMG,
  VENDOR_IMG,
  type ImageRecord,
} from './image-store.js';

/** Where an image was found. */
export type ImageSource = 'waydroid' | 'store' | 'user';

/** An image folder found on disk, not yet looked into. */
export interface ImageLocation {
  /** What `session start --image` and `image list` call it (see `waydroidImageName`). */
  name: string;
  source: ImageSource;
  /** Absolute folder holding `system.img` and `vendor.img`. */
  dir: string;
}

/**
 * Waydroid's image folders, in Waydroid's order of preference (`/etc` overrides `/usr/share`,
 * which overrides what `waydroid init` downloaded into `/var/lib/waydroid/images`).
 */
export const WAYDROID_IMAGE_DIRS: readonly string[] = [
  '/etc/waydroid-extra/images',
  '/usr/share/waydroid-extra/images',
  '/var/lib/waydroid/images',
];

/** Names Droidway gives Waydroid's folders. */
const WAYDROID_NAMES: Record<string, string> = {
  '/etc/waydroid-extra/images': 'waydroid-etc',
  '/usr/share/waydroid-extra/images': 'waydroid-usr',
  '/var/lib/waydroid/images': 'waydroid',
};

/** The name of a Waydroid image folder (`waydroid`, `waydroid-etc`, `waydroid-usr`). */
export function waydroidImageName(dir: string): string {
  return WAYDROID_NAMES[dir] ?? `waydroid-${path.basename(path.dirname(dir))}`;
}

/** Where to look; every field defaults to this machine. */
export interface DiscoveryOptions {
  /** Droidway's store root (default `defaultImageStoreRoot()`). */
  storeRoot?: string;
  /** Waydroid's folders (default `WAYDROID_IMAGE_DIRS`). */
  waydroidDirs?: readonly string[];
  /** Folders the user chose: each an image folder, or a folder of image folders. */
  userDirs?: readonly string[];
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isFile() === true;
}

async function holdsImage(dir: string): Promise<boolean> {
  return (await isFile(path.join(dir, SYSTEM_IMG))) || (await isFile(path.join(dir, VENDOR_IMG)));
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Every image folder in the store, Waydroid's folders and the user's folders (in that order);
 * a folder counts when it holds `system.img` or `vendor.img` (a half image is listed so that the
 * user is told what is missing). Never rejects: unreadable folders are skipped.
 */
export async function findImages(options: DiscoveryOptions = {}): Promise<ImageLocation[]> {
  const found: ImageLocation[] = [];
  const storeRoot = options.storeRoot ?? defaultImageStoreRoot();
  for (const name of await subfolders(storeRoot)) {
    if (name.startsWith(STORE_TEMP_PREFIX) || !IMAGE_NAME_PATTERN.test(name)) continue;
    const dir = path.join(storeRoot, name);
    if (await holdsImage(dir)) found.push({ name, source: 'store', dir });
  }
  for (const dir of options.waydroidDirs ?? WAYDROID_IMAGE_DIRS) {
    if (await holdsImage(dir))
      found.push({ name: waydroidImageName(dir), source: 'waydroid', dir });
  }
  for (const userDir of options.userDirs ?? []) {
    const dir = path.resolve(userDir);
    if (await holdsImage(dir)) {
      found.push({ name: dir, source: 'user', dir });
      continue;
    }
    for (const sub of await subfolders(dir)) {
      const subDir = path.join(dir, sub);
      if (await holdsImage(subDir)) found.push({ name: subDir, source: 'user', dir: subDir });
    }
  }
  return found;
}

/** An image described: what `image list` shows and `session start` checks. */
export interface AndroidImage extends ImageLocation {
  /** The system image, or null when the folder has none. */
  system: SystemPartitionInfo | null;
  /** The vendor image, or null when the folder has none. */
  vendor: VendorPartitionInfo | null;
  /** Android version (`ro.build.version.release`), or null when unknown. */
  androidVersion: string | null;
  sdk: number | null;
  /** CPU ABI of the system image (`x86_64`, `arm64-v8a` …). */
  abi: string | null;
  /** Waydroid vendor type (`MAINLINE`, `HALIUM_11` …) from the store record, when known. */
  vendorType: string | null;
  /** Filesystems of system and vendor. */
  filesystems: { system: ImageFilesystem | null; vendor: ImageFilesystem | null };
  /** Bytes of both images. */
  size: number;
  /** Both images present and of a mountable filesystem. */
  usable: boolean;
  /** Why it is not usable, or what could not be read; empty when all is known. */
  problems: string[];
  /** The store's record, for store images. */
  record: ImageRecord | null;
}

const MOUNTABLE: readonly ImageFilesystem[] = ['ext4', 'erofs'];

/**
 * Describes the image at `location` without mounting it. Never rejects for a broken image: what
 * is wrong lands in `problems` and `usable` is false.
 */
export async function describeImage(location: ImageLocation): Promise<AndroidImage> {
  const problems: string[] = [];
  const part = async <T>(file: string, describe: (p: string) => Promise<T>): Promise<T | null> => {
    const p = path.join(location.dir, file);
    if (!(await isFile(p))) {
      problems.push(`no ${file} in ${location.dir}`);
      return null;
    }
    try {
      return await describe(p);
    } catch (e) {
      problems.push(`${file}: ${(e as Error).message}`);
      return null;
    }
  };
  const system = await part(SYSTEM_IMG, describeSystemImage);
  const vendor = await part(VENDOR_IMG, describeVendorImage);
  for (const [file, info] of [
    [SYSTEM_IMG, system],
    [VENDOR_IMG, vendor],
  ] as const) {
    if (info === null) continue;
    if (!MOUNTABLE.includes(info.filesystem))
      problems.push(
        `${file} is ${info.filesystem === 'unknown' ? 'neither ext4 nor erofs' : `an ${info.filesystem} image (expand it with simg2img)`}`,
      );
    else if (info.unreadableReason !== null)
      problems.push(`${file}: version unknown: ${info.unreadableReason}`);
  }
  const record = location.source === 'store' ? await readImageRecord(location.dir) : null;
  return {
    ...location,
    system,
    vendor,
    androidVersion: system?.build?.androidVersion ?? null,
    sdk: system?.build?.sdk ?? null,
    abi: system?.build?.abi ?? null,
    vendorType: record?.vendorType ?? null,
    filesystems: { system: system?.filesystem ?? null, vendor: vendor?.filesystem ?? null },
    size: (system?.size ?? 0) + (vendor?.size ?? 0),
    usable:
      system !== null &&
      vendor !== null &&
      MOUNTABLE.includes(system.filesystem) &&
      MOUNTABLE.includes(vendor.filesystem),
    problems,
    record,
  };
}

/** Finds and describes every image (see `findImages`, `describeImage`). */
export async function discoverImages(options: DiscoveryOptions = {}): Promise<AndroidImage[]> {
  const images: AndroidImage[] = [];
  for (const location of await findImages(options)) images.push(await describeImage(location));
  return images;
}

/**
 * The image `nameOrPath` names: a path (absolute, or starting with `.`) to a folder holding
 * `system.img` and `vendor.img`, or the name of a found image (store names first, then
 * Waydroid's). With no argument, the first usable-looking image: the store's, then Waydroid's in
 * Waydroid's order. Throws `ImageError` `IMAGE_NOT_FOUND` saying where it looked and how to get
 * an image.
 */
export async function resolveImage(
  nameOrPath: string | undefined,
  options: DiscoveryOptions = {},
): Promise<ImageLocation> {
  const howToGet =
    "run `droidway image download` to fetch one from Waydroid's channel, or `droidway image import PATH` " +
    "with a folder holding system.img and vendor.img (or Waydroid's system and vendor zips)";
  if (nameOrPath !== undefined && (nameOrPath.includes('/') || nameOrPath.startsWith('.'))) {
    const dir = path.resolve(nameOrPath);
    const missing = [];
    for (const f of [SYSTEM_IMG, VENDOR_IMG])
      if (!(await isFile(path.join(dir, f)))) missing.push(f);
    if (missing.length > 0) {
      throw new ImageError(
        'IMAGE_NOT_FOUND',
        `${dir} has no ${missing.join(' and no ')}: an image folder holds system.img and vendor.img`,
      );
    }
    return { name: dir, source: 'user', dir };
  }
  const all = await findImages(options);
  const complete: ImageLocation[] = [];
  for (const loc of all) {
    if (
      (await isFile(path.join(loc.dir, SYSTEM_IMG))) &&
      (await isFile(path.join(loc.dir, VENDOR_IMG)))
    )
      complete.push(loc);
  }
  if (nameOrPath === undefined) {
    const pick = complete[0];
    if (pick !== undefined) return pick;
    throw new ImageError(
      'IMAGE_NOT_FOUND',
      `no Android image found (looked in ${options.storeRoot ?? defaultImageStoreRoot()} and ${(options.waydroidDirs ?? WAYDROID_IMAGE_DIRS).join(', ')}): ${howToGet}`,
    );
  }
  const match = complete.find((l) => l.name === nameOrPath);
  if (match !== undefined) return match;
  const partial = all.find((l) => l.name === nameOrPath);
  throw new ImageError(
    'IMAGE_NOT_FOUND',
    partial !== undefined
      ? `image ${shown(nameOrPath)} in ${partial.dir} lacks system.img or vendor.img`
      : `no image named ${shown(nameOrPath)}${complete.length > 0 ? ` (found: ${complete.map((l) => l.name).join(', ')})` : ''}: ${howToGet}`,
  );
}
