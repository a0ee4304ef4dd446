/**
 * Mounting an Android image as a container rootfs, the way Waydroid does (`mount_rootfs` in
 * `tools/helpers/images.py`), with every writable layer in the instance's own folders:
 *
 *     <runtime>/android/system    system.img, loop-mounted read-only
 *     <runtime>/android/vendor    vendor.img, loop-mounted read-only
 *     <runtime>/android/rootfs    overlay: lower = system, upper/work = <data>/overlay/system
 *     <rootfs>/vendor             overlay: lower = vendor, upper/work = <data>/overlay/vendor
 *     <rootfs>/data               bind of <data>/data (the instance's Android /data)
 *     <rootfs>/vendor/waydroid.prop  read-only bind of the generated properties file
 *
 * The image files are never written: the loop devices are read-only and every change lands in
 * an overlay upper. Each mount is recorded in `<runtime>/mounts.json` *before* it is made, so
 * `unmountAll()` — or `cleanupImageMounts()` after a crash — releases exactly what was mounted,
 * in reverse order; the loop devices go with their mounts (`mount -o loop` sets autoclear) and
 * any left attached to the image are detached.
 */
import { lstat, mkdir, open, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMountInfo, type MountEntry } from '../host/mountinfo.js';
import { ImageError } from './image-errors.js';
import { detectFilesystem } from './image-inspect.js';
import { PROPS_GUEST_PATH } from './android-props.js';
import { runTool, runToolChecked } from './run-tool.js';

/** The mount record's file name in the instance runtime folder. */
export const MOUNT_RECORD_FILE = 'mounts.json';
const MOUNT_TIMEOUT_MS = 30_000;

/** One recorded mount. */
export type MountRecordEntry =
  | { kind: 'loop'; target: string; image: string; fstype: 'ext4' | 'erofs'; device: string | null }
  | { kind: 'overlay'; target: string; lower: string; upper: string; work: string }
  | { kind: 'bind'; target: string; source: string };

/** `mounts.json`. */
export interface MountRecord {
  format: 1;
  mounts: MountRecordEntry[];
}

/** What to mount, and where the instance keeps its files. */
export interface MountImageOptions {
  systemImage: string;
  vendorImage: string;
  /** The instance's persistent folder: overlay uppers and Android's `/data` live here. */
  dataDir: string;
  /** The instance's runtime folder: lower mounts, the merged rootfs, props and the record. */
  runtimeDir: string;
  /** Text of the properties file (`androidPropsText`). */
  propsText: string;
}

/** What `unmountAll` / `cleanupImageMounts` did. */
export interface UnmountReport {
  unmounted: string[];
  loopDevicesDetached: string[];
  /** What could not be released, each a sentence; empty when all went well. */
  problems: string[];
}

/** A mounted image. */
export interface MountedImage {
  /** The merged rootfs: `lxc.rootfs.path` for the container; init is `<rootfs>/init`. */
  rootfs: string;
  /** The generated properties file on the host. */
  propsFile: string;
  /** Where the record of the mounts is kept. */
  recordFile: string;
  /** Loop devices backing system and vendor (for diagnostics). */
  loopDevices: string[];
  /** Releases every mount in reverse order and the loop devices. Idempotent; never rejects. */
  unmountAll(): Promise<UnmountReport>;
}

/** Paths of the mount layout under an instance's folders. */
export function imageMountPaths(
  dataDir: string,
  runtimeDir: string,
): {
  base: string;
  systemLower: string;
  vendorLower: string;
  rootfs: string;
  propsFile: string;
  recordFile: string;
  systemUpper: string;
  systemWork: string;
  vendorUpper: string;
  vendorWork: string;
  androidData: string;
} {
  const base = path.join(runtimeDir, 'android');
  return {
    base,
    systemLower: path.join(base, 'system'),
    vendorLower: path.join(base, 'vendor'),
    rootfs: path.join(base, 'rootfs'),
    propsFile: path.join(base, 'waydroid.prop'),
    recordFile: path.join(runtimeDir, MOUNT_RECORD_FILE),
    systemUpper: path.join(dataDir, 'overlay', 'system', 'upper'),
    systemWork: path.join(dataDir, 'overlay', 'system', 'work'),
    vendorUpper: path.join(dataDir, 'overlay', 'vendor', 'upper'),
    vendorWork: path.join(dataDir, 'overlay', 'vendor', 'work'),
    androidData: path.join(dataDir, 'data'),
  };
}

/** Overlay's option syntax splits on `,` and `:`; such paths cannot be given to it safely. */
function checkMountPath(p: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (!path.isAbsolute(p) || /[,:\\\u0000-\u001f]/.test(p))
    throw new ImageError(
      'MOUNT_FAILED',
      `${what} ${JSON.stringify(p)} must be an absolute path without ',', ':', '\\' or control characters`,
    );
}

async function readMountInfo(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

function mountedAt(entries: readonly MountEntry[], target: string): MountEntry | undefined {
  return entries.findLast((e) => e.mountPoint === target);
}

async function writeRecord(file: string, record: MountRecord): Promise<void> {
  const temp = `${file}.tmp`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  const handle = await open(temp, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

function isUnder(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Reads `<runtimeDir>/mounts.json`. Entries whose target is not inside `runtimeDir` are dropped:
 * the record is only ever trusted to name mounts Droidway made there. Returns null when there is
 * no readable record.
 */
export async function readMountRecord(runtimeDir: string): Promise<MountRecord | null> {
  let value: unknown;
  try {
    const text = await readFile(path.join(runtimeDir, MOUNT_RECORD_FILE), 'utf8');
    if (text.length > 256 * 1024) return null;
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const v = value as { format?: unknown; mounts?: unknown } | null;
  if (v === null || typeof v !== 'object' || v.format !== 1 || !Array.isArray(v.mounts))
    return null;
  const mounts = v.mounts.filter(
    (m): m is MountRecordEntry =>
      typeof m === 'object' &&
      m !== null &&
      ['loop', 'overlay', 'bind'].includes((m as { kind?: unknown }).kind as string) &&
      typeof (m as { target?: unknown }).target === 'string' &&
      isUnder(path.resolve((m as { target: string }).target), runtimeDir),
  );
  return { format: 1, mounts };
}

async function loopBackingFile(device: string): Promise<string | null> {
  const name = path.basename(device);
  if (!/^loop[0-9]{1,5}$/.test(name)) return null;
  try {
    return (await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8')).trim();
  } catch {
    return null;
  }
}

/**
 * Releases the mounts of `record` in reverse order: each target still mounted is unmounted
 * (lazily when busy), then each loop device still attached to its recorded image and no longer
 * mounted is detached. Never rejects; what failed is in `problems`.
 */
async function releaseMounts(record: MountRecord): Promise<UnmountReport> {
  const report: UnmountReport = { unmounted: [], loopDevicesDetached: [], problems: [] };
  for (const entry of [...record.mounts].reverse()) {
    for (let attempt = 0; attempt < 4; attempt++) {
      let info: MountEntry[];
      try {
        info = await readMountInfo();
      } catch (e) {
        report.problems.push(`cannot read /proc/self/mountinfo: ${(e as Error).message}`);
        return report;
      }
      if (mountedAt(info, entry.target) === undefined) break;
      const run = await runTool(['umount', entry.target], { timeoutMs: MOUNT_TIMEOUT_MS }).catch(
        (e: unknown) => ({ exitCode: -1, stderr: (e as Error).message }),
      );
      if (run.exitCode !== 0) {
        // Busy (a process still inside): detach it now, the kernel frees it when unused.
        const lazy = await runTool(['umount', '-l', entry.target], {
          timeoutMs: MOUNT_TIMEOUT_MS,
        }).catch((e: unknown) => ({ exitCode: -1, stderr: (e as Error).message }));
        if (lazy.exitCode !== 0) {
          report.problems.push(`${entry.target} could not be unmounted: ${lazy.stderr.trim()}`);
          break;
        }
      }
      report.unmounted.push(entry.target);
    }
  }
  const info = await readMountInfo().catch(() => [] as MountEntry[]);
  for (const entry of record.mounts) {
    if (entry.kind !== 'loop' || entry.device === null) continue;
    const backing = await loopBackingFile(entry.device);
    if (backing === null || backing.replace(/ \(deleted\)$/, '') !== entry.image) continue;
    if (info.some((m) => m.source === entry.device)) {
      report.problems.push(`${entry.device} is still mounted elsewhere; left attached`);
      continue;
    }
    const run = await runTool(['losetup', '-d', entry.device], {
      timeoutMs: MOUNT_TIMEOUT_MS,
    }).catch((e: unknown) => ({ exitCode: -1, stderr: (e as Error).message }));
    if (run.exitCode === 0) report.loopDevicesDetached.push(entry.device);
    // Autoclear may have released it between the check and losetup: only a device still bound
    // to the image is a problem.
    else if ((await loopBackingFile(entry.device)) === entry.image)
      report.problems.push(`${entry.device} could not be detached: ${run.stderr.trim()}`);
  }
  return report;
}

async function removeEmptyDirs(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) await rmdir(d).catch(() => {});
}

/**
 * Releases what an earlier, crashed session left mounted under `runtimeDir` according to its
 * `mounts.json`, then removes the record and the empty mount folders. A no-op when there is no
 * record. Never rejects.
 */
export async function cleanupImageMounts(
  runtimeDir: string,
  dataDir?: string,
): Promise<UnmountReport> {
  const record = await readMountRecord(runtimeDir);
  if (record === null) return { unmounted: [], loopDevicesDetached: [], problems: [] };
  const report = await releaseMounts(record);
  if (report.problems.length === 0) {
    const p = imageMountPaths(dataDir ?? runtimeDir, runtimeDir);
    await rm(p.recordFile, { force: true });
    await removeEmptyDirs([p.rootfs, p.systemLower, p.vendorLower]);
    await rm(p.propsFile, { force: true });
    await removeEmptyDirs([p.base]);
  }
  return report;
}

async function ensureDir(p: string, mode = 0o755): Promise<void> {
  await mkdir(p, { recursive: true, mode });
}

/** A mount point inside the merged rootfs: created (in the upper) when the image lacks it. */
async function ensureMountPoint(p: string, kind: 'dir' | 'file'): Promise<void> {
  // lstat, not stat: an absolute symlink in the image would resolve against the host's root, and
  // mounting over it would cover a host folder.
  const s = await lstat(p).catch(() => null);
  if (s !== null) {
    if (s.isSymbolicLink())
      throw new ImageError(
        'MOUNT_FAILED',
        `${p} is a symlink in the image; refusing to mount over it`,
      );
    if (kind === 'dir' ? s.isDirectory() : s.isFile()) return;
    throw new ImageError(
      'MOUNT_FAILED',
      `${p} exists in the image but is not a ${kind === 'dir' ? 'folder' : 'file'}`,
    );
  }
  if (kind === 'dir') await mkdir(p, { mode: 0o755 });
  else await writeFile(p, '', { mode: 0o644, flag: 'wx' });
}

async function mountFs(fstype: 'ext4' | 'erofs', image: string, target: string): Promise<void> {
  await runToolChecked(
    ['mount', '-t', fstype, '-o', 'ro,loop,nodev', image, target],
    `mounting ${image}`,
    {
      timeoutMs: MOUNT_TIMEOUT_MS,
    },
  );
}

/**
 * Mounts the image's layout (see the module doc) and returns the merged rootfs. First releases
 * whatever a crashed earlier session left according to `mounts.json`. On any failure everything
 * mounted so far is released before the error is thrown: `ImageError` `IMAGE_INVALID` (an image
 * that is not ext4/erofs), `MOUNT_FAILED` (a bad path, a stale mount that would not go, a
 * symlinked mount point in the image) or `TOOL_FAILED` (mount said no, with its message).
 * Needs root.
 */
export async function mountAndroidImage(options: MountImageOptions): Promise<MountedImage> {
  const p = imageMountPaths(path.resolve(options.dataDir), path.resolve(options.runtimeDir));
  const systemImage = path.resolve(options.systemImage);
  const vendorImage = path.resolve(options.vendorImage);
  for (const [v, what] of [
    [systemImage, 'system image'],
    [vendorImage, 'vendor image'],
    [p.base, 'runtime folder'],
    [p.systemUpper, 'data folder'],
  ] as const)
    checkMountPath(v, what);
  const fstypes: ('ext4' | 'erofs')[] = [];
  for (const image of [systemImage, vendorImage]) {
    const fs = await detectFilesystem(image);
    if (fs !== 'ext4' && fs !== 'erofs')
      throw new ImageError(
        'IMAGE_INVALID',
        `${image} is ${fs === 'unknown' ? 'neither ext4 nor erofs' : 'an Android sparse image'}; it cannot be mounted`,
      );
    fstypes.push(fs);
  }

  const stale = await cleanupImageMounts(options.runtimeDir, options.dataDir);
  if (stale.problems.length > 0)
    throw new ImageError(
      'MOUNT_FAILED',
      `mounts of an earlier session could not be released: ${stale.problems.join('; ')}`,
    );

  await ensureDir(options.runtimeDir, 0o711);
  for (const d of [p.base, p.systemLower, p.vendorLower, p.rootfs]) await ensureDir(d);
  for (const d of [p.systemUpper, p.systemWork, p.vendorUpper, p.vendorWork]) await ensureDir(d);
  await ensureDir(p.androidData, 0o771);

  const record: MountRecord = { format: 1, mounts: [] };
  const step = async (entry: MountRecordEntry, run: () => Promise<void>): Promise<void> => {
    record.mounts.push(entry);
    await writeRecord(p.recordFile, record);
    await run();
  };
  const rootVendor = path.join(p.rootfs, 'vendor');
  const rootData = path.join(p.rootfs, 'data');
  const rootProps = path.join(p.rootfs, PROPS_GUEST_PATH);
  const overlayOptions = (lower: string, upper: string, work: string): string =>
    `lowerdir=${lower},upperdir=${upper},workdir=${work}`;
  const loopDevices: string[] = [];

  const unmountAll = async (): Promise<UnmountReport> => {
    const current = (await readMountRecord(options.runtimeDir)) ?? record;
    const report = await releaseMounts(current);
    if (report.problems.length === 0) await cleanupImageMounts(options.runtimeDir, options.dataDir);
    return report;
  };

  try {
    const systemLoop: MountRecordEntry = {
      kind: 'loop',
      target: p.systemLower,
      image: systemImage,
      fstype: fstypes[0]!,
      device: null,
    };
    await step(systemLoop, () => mountFs(fstypes[0]!, systemImage, p.systemLower));
    const vendorLoop: MountRecordEntry = {
      kind: 'loop',
      target: p.vendorLower,
      image: vendorImage,
      fstype: fstypes[1]!,
      device: null,
    };
    await step(vendorLoop, () => mountFs(fstypes[1]!, vendorImage, p.vendorLower));
    const info = await readMountInfo();
    for (const loop of [systemLoop, vendorLoop]) {
      loop.device = mountedAt(info, loop.target)?.source ?? null;
      if (loop.device !== null) loopDevices.push(loop.device);
    }
    await writeRecord(p.recordFile, record);

    await step(
      {
        kind: 'overlay',
        target: p.rootfs,
        lower: p.systemLower,
        upper: p.systemUpper,
        work: p.systemWork,
      },
      () =>
        runToolChecked(
          [
            'mount',
            '-t',
            'overlay',
            'droidway-system',
            '-o',
            overlayOptions(p.systemLower, p.systemUpper, p.systemWork),
            p.rootfs,
          ],
          'mounting the system overlay',
          { timeoutMs: MOUNT_TIMEOUT_MS },
        ).then(() => {}),
    );
    await ensureMountPoint(rootVendor, 'dir');
    await step(
      {
        kind: 'overlay',
        target: rootVendor,
        lower: p.vendorLower,
        upper: p.vendorUpper,
        work: p.vendorWork,
      },
      () =>
        runToolChecked(
          [
            'mount',
            '-t',
            'overlay',
            'droidway-vendor',
            '-o',
            overlayOptions(p.vendorLower, p.vendorUpper, p.vendorWork),
            rootVendor,
          ],
          'mounting the vendor overlay',
          { timeoutMs: MOUNT_TIMEOUT_MS },
        ).then(() => {}),
    );
    await ensureMountPoint(rootData, 'dir');
    await step({ kind: 'bind', target: rootData, source: p.androidData }, () =>
      runToolChecked(['mount', '--bind', p.androidData, rootData], 'binding /data', {
        timeoutMs: MOUNT_TIMEOUT_MS,
      }).then(() => {}),
    );
    await writeFile(p.propsFile, options.propsText, { mode: 0o644 });
    await ensureMountPoint(rootProps, 'file');
    await step({ kind: 'bind', target: rootProps, source: p.propsFile }, async () => {
      await runToolChecked(
        ['mount', '--bind', p.propsFile, rootProps],
        'binding the properties file',
        { timeoutMs: MOUNT_TIMEOUT_MS },
      );
      await runToolChecked(
        ['mount', '-o', 'remount,bind,ro', rootProps],
        'making the properties file read-only',
        { timeoutMs: MOUNT_TIMEOUT_MS },
      );
    });
  } catch (e) {
    const report = await unmountAll();
    if (report.problems.length > 0 && e instanceof Error)
      e.message += ` (and releasing the mounts had problems: ${report.problems.join('; ')})`;
    throw e;
  }
  return {
    rootfs: p.rootfs,
    propsFile: p.propsFile,
    recordFile: p.recordFile,
    loopDevices,
    unmountAll,
  };
}
