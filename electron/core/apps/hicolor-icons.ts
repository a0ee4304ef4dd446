/**
 * App icons in the user's hicolor theme (freedesktop Icon Theme Specification):
 * `$XDG_DATA_HOME/icons/hicolor/<N>x<N>/apps/droidway.<pkg>.png`. The PNGs come from an
 * untrusted APK, so each one's size is read from its own IHDR (not from the density folder it
 * came from) and it is filed under that size; non-square and huge icons are skipped with a note.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { readPngHeader } from '../apk/png.js';
import { appEntryId, writeFileAtomic, type XdgDirs } from './desktop-entry.js';

/** Largest icon side installed; a bigger one is skipped (launchers never need more). */
export const MAX_ICON_PX = 1024;

/** Android density (dpi) → launcher icon side in px, for the densities Android defines. */
export const DENSITY_ICON_PX: Readonly<Record<number, number>> = {
  160: 48,
  240: 72,
  320: 96,
  480: 144,
  640: 192,
};

/** One icon written. */
export interface InstalledIcon {
  size: number;
  file: string;
}

/** What `installAppIcons` did. */
export interface IconInstall {
  installed: InstalledIcon[];
  /** Icons skipped and why, for a person. */
  notes: string[];
}

/** The user's hicolor theme folder. */
export function hicolorDir(dirs: XdgDirs): string {
  return path.join(dirs.dataHome, 'icons', 'hicolor');
}

/**
 * Installs `icons` (PNG bytes, any order) as the icon `droidway.<pkg>`, replacing the ones of an
 * earlier version. A PNG whose header is broken, that is not square, or whose side exceeds
 * `MAX_ICON_PX` is skipped with a note; of two PNGs with the same side the later one wins.
 */
export async function installAppIcons(
  dirs: XdgDirs,
  pkg: string,
  icons: readonly { png: Buffer }[],
): Promise<IconInstall> {
  const name = `${appEntryId(pkg)}.png`;
  const notes: string[] = [];
  const bySize = new Map<number, Buffer>();
  for (const [i, icon] of icons.entries()) {
    let width: number;
    let height: number;
    try {
      ({ width, height } = readPngHeader(icon.png));
    } catch (e) {
      notes.push(`icon ${i + 1} skipped: ${(e as Error).message}`);
      continue;
    }
    if (width !== height) {
      notes.push(`icon ${i + 1} skipped: ${width}x${height} is not square`);
      continue;
    }
    if (width > MAX_ICON_PX) {
      notes.push(`icon ${i + 1} skipped: ${width}x${height} is larger than ${MAX_ICON_PX} px`);
      continue;
    }
    bySize.set(width, icon.png);
  }
  await removeAppIcons(dirs, pkg);
  const installed: InstalledIcon[] = [];
  for (const [size, png] of [...bySize].sort(([a], [b]) => a - b)) {
    const file = path.join(hicolorDir(dirs), `${size}x${size}`, 'apps', name);
    await writeFileAtomic(file, png);
    installed.push({ size, file });
  }
  return { installed, notes };
}

/** Removes every size of `droidway.<pkg>` from the user's hicolor theme; resolves with the files removed. */
export async function removeAppIcons(dirs: XdgDirs, pkg: string): Promise<string[]> {
  const name = `${appEntryId(pkg)}.png`;
  const root = hicolorDir(dirs);
  const removed: string[] = [];
  const sizes = await fs.readdir(root).catch(() => [] as string[]);
  for (const size of sizes) {
    if (!/^\d{1,5}x\d{1,5}$/.test(size)) continue;
    const file = path.join(root, size, 'apps', name);
    const st = await fs.lstat(file).catch(() => null);
    if (st === null) continue;
    await fs.rm(file, { force: true });
    removed.push(file);
  }
  return removed;
}
