/**
 * Droidway's own image store: one folder per image, `<root>/<name>/` holding `system.img`,
 * `vendor.img` and `image.json` (where the image came from). The root is
 * `/var/lib/droidway/images` as root, else `$XDG_DATA_HOME/droidway/images`. Images enter the
 * store only whole: they are assembled in a hidden temporary folder beside the target, synced,
 * and renamed into place, so a crash never leaves a half-written image under a real name.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageError, isErrnoCode, shown } from './image-errors.js';

/** Image names: lowercase, usable as a folder name and on a command line. */
export const IMAGE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** File names of the two partitions in every image folder. */
export const SYSTEM_IMG = 'system.img';
export const VENDOR_IMG = 'vendor.img';
/** The store's record of an image. */
export const RECORD_FILE = 'image.json';
/** Largest `image.json` read. */
const MAX_RECORD_BYTES = 64 * 1024;

/** Prefix of temporary folders in the store root; never listed as images. */
export const STORE_TEMP_PREFIX = '.incoming-';

/**
 * Checks an image name and returns it. Throws `ImageError` `IMAGE_NAME_INVALID` for anything
 * but 1–64 characters of `[a-z0-9._-]` starting with a letter or digit.
 */
export function validateImageName(name: unknown): string {
  if (typeof name !== 'string' || !IMAGE_NAME_PATTERN.test(name)) {
    throw new ImageError(
      'IMAGE_NAME_INVALID',
      `image name ${typeof name === 'string' ? shown(name) : typeof name} is invalid: use 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit`,
    );
  }
  return name;
}

/**
 * A valid image name made from free text (a folder or zip name): lowercased, other characters
 * turned into `-`, trimmed to 64 characters; `fallback` when nothing usable is left.
 */
export function imageNameFrom(text: string, fallback = 'android'): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64)
    .replace(/[^a-z0-9]+$/, '');
  return IMAGE_NAME_PATTERN.test(name) ? name : fallback;
}

/** The store root for this user (see the module doc). */
export function defaultImageStoreRoot(): string {
  if (process.getuid?.() === 0) return '/var/lib/droidway/images';
  const xdg = process.env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'droidway', 'images');
}

/** Where a channel image came from: the channel entry it was chosen from. */
export interface ChannelOrigin {
  channelUrl: string;
  url: string;
  filename: string;
  sha256: string;
  datetime: number;
  version: string | null;
  romtype: string | null;
}

/** `image.json`: where an image in the store came from. */
export interface ImageRecord {
  format: 1;
  name: string;
  /** ISO-8601 time it entered the store. */
  addedAt: string;
  origin:
    | { kind: 'folder'; path: string }
    | { kind: 'zips'; system: string; vendor: string }
    | { kind: 'channel'; system: ChannelOrigin; vendor: ChannelOrigin };
  /** Waydroid's vendor type (`MAINLINE`, `HALIUM_11` …) when known. */
  vendorType: string | null;
}

/**
 * Reads `<dir>/image.json`. Returns null when there is none, or when it is unreadable or not a
 * record of this format (an image stays usable without its record).
 */
export async function readImageRecord(dir: string): Promise<ImageRecord | null> {
  let text: string;
  try {
    const data = await readFile(path.join(dir, RECORD_FILE));
    if (data.length > MAX_RECORD_BYTES) return null;
    text = data.toString('utf8');
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as Partial<ImageRecord> | null;
    if (
      value === null ||
      typeof value !== 'object' ||
      value.format !== 1 ||
      typeof value.name !== 'string' ||
      typeof value.addedAt !== 'string' ||
      typeof value.origin !== 'object' ||
      value.origin === null ||
      !['folder', 'zips', 'channel'].includes((value.origin as { kind?: unknown }).kind as string)
    )
      return null;
    return {
      format: 1,
      name: value.name,
      addedAt: value.addedAt,
      origin: value.origin,
      vendorType: typeof value.vendorType === 'string' ? value.vendorType : null,
    };
  } catch {
    return null;
  }
}

async function fsyncPath(p: string): Promise<void> {
  const handle = await open(p, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A folder being filled; `commit` moves it into the store, `discard` removes it. */
export interface StagedImage {
  /** The temporary folder to write `system.img` and `vendor.img` into. */
  dir: string;
  /** Syncs the files, writes `image.json`, and renames the folder to `<root>/<name>`. */
  commit(record: Omit<ImageRecord, 'format' | 'name' | 'addedAt'>): Promise<string>;
  /** Removes the temporary folder and everything in it. Safe to call twice or after commit. */
  discard(): Promise<void>;
}

/**
 * Starts adding image `name` to the store at `root`: creates a hidden temporary folder there
 * (same filesystem, so the final rename is atomic). Throws `IMAGE_EXISTS` when `name` is taken.
 */
export async function stageImage(root: string, name: string): Promise<StagedImage> {
  validateImageName(name);
  const target = path.join(root, name);
  await mkdir(root, { recursive: true, mode: 0o755 });
  if (
    await lstat(target)
      .then(() => true)
      .catch(() => false)
  ) {
    throw new ImageError('IMAGE_EXISTS', `the image store already has an image named ${name}`);
  }
  const dir = path.join(root, `${STORE_TEMP_PREFIX}${name}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o755 });
  let done = false;
  return {
    dir,
    async commit(record) {
      if (done) throw new ImageError('IMAGE_INVALID', 'this staged image was already committed');
      for (const f of [SYSTEM_IMG, VENDOR_IMG]) await fsyncPath(path.join(dir, f));
      const full: ImageRecord = {
        format: 1,
        name,
        addedAt: new Date().toISOString(),
        ...record,
      };
      await writeFile(path.join(dir, RECORD_FILE), `${JSON.stringify(full, null, 2)}\n`, {
        mode: 0o644,
      });
      await fsyncPath(path.join(dir, RECORD_FILE));
      await fsyncPath(dir);
      try {
        // rename(2) onto an existing non-empty folder fails: a concurrent import of the same
        // name loses instead of overwriting.
        await rename(dir, target);
      } catch (e) {
        if (isErrnoCode(e, 'ENOTEMPTY') || isErrnoCode(e, 'EEXIST')) {
          throw new ImageError(
            'IMAGE_EXISTS',
            `the image store already has an image named ${name}`,
            { cause: e },
          );
        }
        throw e;
      }
      done = true;
      await fsyncPath(root);
      return target;
    },
    async discard() {
      if (done) return;
      done = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The files loop devices are backed by (`/sys/block/loopN/loop/backing_file`): what a session
 * that mounted an image holds. A file deleted while attached keeps its path, with ` (deleted)`.
 */
export async function loopBackingFiles(sysBlock = '/sys/block'): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(sysBlock)).filter((n) => /^loop[0-9]+$/.test(n));
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const n of names) {
    const text = await readFile(path.join(sysBlock, n, 'loop', 'backing_file'), 'utf8').catch(
      () => '',
    );
    const file = text.replace(/\n$/, '').replace(/ \(deleted\)$/, '');
    if (file !== '') files.push(file);
  }
  return files;
}

/** Options of `removeStoredImage`. */
export interface RemoveImageOptions {
  /** Files held by mounted images; default `loopBackingFiles()`. */
  backingFiles?: () => Promise<string[]>;
}

/**
 * Removes image `name` from the store at `root` and returns the folder it was in. Refuses
 * (`IMAGE_NOT_FOUND`) a name the store does not hold (Waydroid's folders and other paths are
 * never in it) and (`IMAGE_IN_USE`) an image a session has mounted. The folder is renamed aside
 * first, so an interrupted removal never leaves a half image under its name.
 */
export async function removeStoredImage(
  root: string,
  name: string,
  options: RemoveImageOptions = {},
): Promise<string> {
  validateImageName(name);
  const dir = path.join(root, name);
  const st = await lstat(dir).catch((e: unknown) => {
    if (isErrnoCode(e, 'ENOENT')) return null;
    throw e;
  });
  if (st === null || !st.isDirectory())
    throw new ImageError(
      'IMAGE_NOT_FOUND',
      `Droidway's image store (${root}) has no image named ${name}; droidway image list shows the images`,
    );
  const held = (await (options.backingFiles ?? loopBackingFiles)()).filter((f) =>
    f.startsWith(`${dir}${path.sep}`),
  );
  if (held.length > 0)
    throw new ImageError(
      'IMAGE_IN_USE',
      `image ${name} is in use by a running session (${held.map((f) => path.basename(f)).join(', ')} mounted); stop the session first with droidway session stop`,
    );
  const aside = path.join(
    root,
    `${STORE_TEMP_PREFIX}removed-${name}-${randomBytes(6).toString('hex')}`,
  );
  await rename(dir, aside);
  await fsyncPath(root);
  await rm(aside, { recursive: true, force: true });
  return dir;
}
