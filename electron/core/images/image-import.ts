/**
 * Importing an image into Droidway's store: from a folder holding `system.img` and `vendor.img`,
 * or from the two zips Waydroid's OTA channel ships (a system zip holding `system.img`, a vendor
 * zip holding `vendor.img`). Either way the image is assembled in a temporary folder, its files
 * are checked to be ext4 or erofs, and the folder is renamed into the store only when complete;
 * a failure leaves the store as it was.
 */
import { constants } from 'node:fs';
import { copyFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ImageError } from './image-errors.js';
import { detectFilesystem } from './image-inspect.js';
import {
  defaultImageStoreRoot,
  imageNameFrom,
  stageImage,
  SYSTEM_IMG,
  validateImageName,
  VENDOR_IMG,
  type ImageRecord,
  type StagedImage,
} from './image-store.js';
import { extractZipEntry } from './zip-extract.js';

/** Options of the import functions. */
export interface ImportOptions {
  /** Store root (default `defaultImageStoreRoot()`). */
  storeRoot?: string;
  /** Name in the store; default derived from the folder or zip name. */
  name?: string;
  /** Waydroid vendor type to record (`MAINLINE` …), when known. */
  vendorType?: string | null;
}

/** What an import produced. */
export interface ImportResult {
  name: string;
  dir: string;
}

async function regularFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isFile() === true;
}

/** Throws `IMAGE_INVALID` unless both staged files are ext4 or erofs. */
async function checkStagedFilesystems(dir: string): Promise<void> {
  for (const file of [SYSTEM_IMG, VENDOR_IMG]) {
    const fs = await detectFilesystem(path.join(dir, file));
    if (fs === 'android-sparse')
      throw new ImageError(
        'IMAGE_INVALID',
        `${file} is an Android sparse image: expand it with simg2img first`,
      );
    if (fs === 'unknown')
      throw new ImageError('IMAGE_INVALID', `${file} is neither an ext4 nor an erofs image`);
  }
}

async function withStage<T>(
  root: string,
  name: string,
  fill: (stage: StagedImage) => Promise<T>,
  record: (t: T) => Omit<ImageRecord, 'format' | 'name' | 'addedAt'>,
): Promise<ImportResult> {
  const stage = await stageImage(root, name);
  try {
    const t = await fill(stage);
    await checkStagedFilesystems(stage.dir);
    const dir = await stage.commit(record(t));
    return { name, dir };
  } finally {
    await stage.discard();
  }
}

/**
 * Copies `system.img` and `vendor.img` from folder `source` into the store. Throws `ImageError`
 * `IMAGE_NOT_FOUND` when either is missing, `IMAGE_INVALID` when one is not ext4/erofs,
 * `IMAGE_EXISTS` when the name is taken, `IMAGE_NAME_INVALID` for a bad `name`.
 */
export async function importImageFolder(
  source: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const dir = path.resolve(source);
  const missing = [];
  for (const f of [SYSTEM_IMG, VENDOR_IMG])
    if (!(await regularFile(path.join(dir, f)))) missing.push(f);
  if (missing.length > 0)
    throw new ImageError('IMAGE_NOT_FOUND', `${dir} has no ${missing.join(' and no ')}`);
  const name = validateImageName(options.name ?? imageNameFrom(path.basename(dir)));
  return withStage(
    options.storeRoot ?? defaultImageStoreRoot(),
    name,
    async (stage) => {
      for (const f of [SYSTEM_IMG, VENDOR_IMG]) {
        // A reflink where the filesystem can (instant, no extra space), a copy otherwise.
        await copyFile(path.join(dir, f), path.join(stage.dir, f), constants.COPYFILE_FICLONE);
      }
    },
    () => ({ origin: { kind: 'folder', path: dir }, vendorType: options.vendorType ?? null }),
  );
}

/** A name for an image from its system zip (`lineage-18.1-…-VANILLA-waydroid_x86_64-system.zip`). */
export function imageNameFromZip(zipName: string): string {
  return imageNameFrom(
    path
      .basename(zipName)
      .replace(/\.zip$/i, '')
      .replace(/[-_]system$/i, ''),
  );
}

/**
 * Extracts `system.img` from `systemZip` and `vendor.img` from `vendorZip` into the store (see
 * `extractZipEntry` for the zip rules). Throws `ZIP_INVALID` / `ZIP_MISSING_ENTRY` for a bad zip,
 * and like `importImageFolder` otherwise. `origin` overrides the recorded origin.
 */
export async function importImageZips(
  systemZip: string,
  vendorZip: string,
  options: ImportOptions & { origin?: ImageRecord['origin'] } = {},
): Promise<ImportResult> {
  const name = validateImageName(options.name ?? imageNameFromZip(systemZip));
  return withStage(
    options.storeRoot ?? defaultImageStoreRoot(),
    name,
    async (stage) => {
      await extractZipEntry(systemZip, SYSTEM_IMG, stage.dir);
      await extractZipEntry(vendorZip, VENDOR_IMG, stage.dir);
    },
    () => ({
      origin: options.origin ?? {
        kind: 'zips',
        system: path.resolve(systemZip),
        vendor: path.resolve(vendorZip),
      },
      vendorType: options.vendorType ?? null,
    }),
  );
}

/**
 * Imports whatever `source` is: a folder with `system.img` + `vendor.img`; a folder with exactly
 * one `*system*.zip` and one `*vendor*.zip`; or a system zip, with `vendorZip` naming its vendor
 * zip. Throws `IMAGE_NOT_FOUND` saying what was expected when it is none of these.
 */
export async function importImage(
  source: string,
  options: ImportOptions & { vendorZip?: string } = {},
): Promise<ImportResult> {
  const s = await stat(source).catch(() => null);
  if (s === null) throw new ImageError('IMAGE_NOT_FOUND', `${source} does not exist`);
  if (s.isFile()) {
    if (options.vendorZip === undefined)
      throw new ImageError(
        'IMAGE_NOT_FOUND',
        `${source} is a file: give the vendor zip too (image import SYSTEM.zip VENDOR.zip)`,
      );
    return importImageZips(source, options.vendorZip, options);
  }
  if (!s.isDirectory())
    throw new ImageError('IMAGE_NOT_FOUND', `${source} is neither a folder nor a zip file`);
  if (
    (await regularFile(path.join(source, SYSTEM_IMG))) ||
    (await regularFile(path.join(source, VENDOR_IMG)))
  )
    return importImageFolder(source, options);
  const names = await readdir(source);
  const zips = names.filter((n) => /\.zip$/i.test(n));
  const system = zips.filter((n) => /system/i.test(n));
  const vendor = zips.filter((n) => /vendor/i.test(n));
  if (system.length === 1 && vendor.length === 1) {
    return importImageZips(path.join(source, system[0]!), path.join(source, vendor[0]!), {
      ...options,
      name: options.name ?? imageNameFromZip(system[0]!),
    });
  }
  throw new ImageError(
    'IMAGE_NOT_FOUND',
    `${source} holds neither system.img + vendor.img nor one system zip and one vendor zip` +
      (zips.length > 0 ? ` (zips found: ${zips.slice(0, 5).join(', ')})` : ''),
  );
}
