/**
 * Looking inside an Android partition image without booting or mounting it: the filesystem from
 * the superblock magic, and one file (its `build.prop`) read through a userspace tool —
 * `debugfs` (e2fsprogs) for ext4, `dump.erofs --cat` (erofs-utils ≥ 1.8) for erofs. The kernel
 * never parses the image here, so a hostile image costs at most a tool run with a timeout and an
 * output cap.
 */
import { open, stat } from 'node:fs/promises';
import { findExecutable } from '../host/host-lookup.js';
import { createHostProbe } from '../host/host-probe.js';
import {
  androidBuildInfo,
  MAX_BUILD_PROP_BYTES,
  parseBuildProp,
  vendorBuildInfo,
  type AndroidBuildInfo,
  type VendorBuildInfo,
} from './build-prop.js';
import { ImageError } from './image-errors.js';
import { lastLine, runTool } from './run-tool.js';

/** Filesystems an image file can hold, as far as Droidway tells them apart. */
export type ImageFilesystem = 'ext4' | 'erofs' | 'android-sparse' | 'unknown';

const EXT4_MAGIC_OFFSET = 1024 + 0x38;
const EXT4_MAGIC = 0xef53;
const EROFS_MAGIC_OFFSET = 1024;
const EROFS_MAGIC = 0xe0f5e1e2;
const SPARSE_MAGIC = 0xed26ff3a;
const TOOL_TIMEOUT_MS = 15_000;

/**
 * The filesystem in `imagePath` from its magic numbers: ext2/3/4 (`0xEF53` at 1080), erofs
 * (`0xE0F5E1E2` at 1024) or an Android sparse image (`0xED26FF3A` at 0, which must be expanded
 * with `simg2img` before use). Rejects with the filesystem error when the file cannot be read.
 */
export async function detectFilesystem(imagePath: string): Promise<ImageFilesystem> {
  const handle = await open(imagePath, 'r');
  try {
    const head = Buffer.alloc(2048);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead >= 4 && head.readUInt32LE(0) === SPARSE_MAGIC) return 'android-sparse';
    if (
      bytesRead >= EROFS_MAGIC_OFFSET + 4 &&
      head.readUInt32LE(EROFS_MAGIC_OFFSET) === EROFS_MAGIC
    )
      return 'erofs';
    if (bytesRead >= EXT4_MAGIC_OFFSET + 2 && head.readUInt16LE(EXT4_MAGIC_OFFSET) === EXT4_MAGIC)
      return 'ext4';
    return 'unknown';
  } finally {
    await handle.close();
  }
}

/** A file read out of an image, or why it could not be. */
export type ImageFileRead =
  { ok: true; data: Buffer; innerPath: string } | { ok: false; reason: string };

let dumpErofsCat: Promise<string | null> | null = null;

/** `dump.erofs` when it is new enough to have `--cat`, else null (memoized per process). */
function findDumpErofsWithCat(): Promise<string | null> {
  dumpErofsCat ??= (async () => {
    const tool = await findExecutable(createHostProbe(), 'dump.erofs');
    if (tool === null) return null;
    const help = await runTool([tool, '--help'], { timeoutMs: 5000 }).catch(() => null);
    const text = `${help?.stdout.toString('utf8') ?? ''}${help?.stderr ?? ''}`;
    return text.includes('--cat') ? tool : null;
  })();
  return dumpErofsCat;
}

async function readWithDebugfs(imagePath: string, innerPath: string): Promise<ImageFileRead> {
  const debugfs = await findExecutable(createHostProbe(), 'debugfs');
  if (debugfs === null)
    return { ok: false, reason: 'debugfs is not installed (apt-get install e2fsprogs)' };
  // Without -w debugfs opens the image read-only; the request is fixed text, never user input.
  const run = await runTool([debugfs, '-R', `cat ${innerPath}`, imagePath], {
    timeoutMs: TOOL_TIMEOUT_MS,
    maxStdoutBytes: MAX_BUILD_PROP_BYTES + 1,
  });
  if (run.timedOut) return { ok: false, reason: `debugfs did not finish reading ${innerPath}` };
  if (run.truncated)
    return { ok: false, reason: `${innerPath} is larger than ${MAX_BUILD_PROP_BYTES} bytes` };
  // debugfs exits 0 even when the file is missing; its stderr says so.
  const complaint = run.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^debugfs \d/.test(l.trim()))
    .join('\n');
  if (run.exitCode !== 0 || (run.stdout.length === 0 && complaint !== '')) {
    return {
      ok: false,
      reason: /not found by ext2_lookup/.test(complaint)
        ? `no ${innerPath} in the image`
        : `debugfs cannot read ${innerPath}: ${lastLine(complaint) || `exit ${run.exitCode}`}`,
    };
  }
  return { ok: true, data: run.stdout, innerPath };
}

async function readWithDumpErofs(imagePath: string, innerPath: string): Promise<ImageFileRead> {
  const tool = await findDumpErofsWithCat();
  if (tool === null) {
    return {
      ok: false,
      reason:
        'reading an erofs image needs dump.erofs with --cat (erofs-utils 1.8 or newer); ' +
        'this host has none or an older one',
    };
  }
  const run = await runTool([tool, '--cat', `--path=${innerPath}`, imagePath], {
    timeoutMs: TOOL_TIMEOUT_MS,
    maxStdoutBytes: MAX_BUILD_PROP_BYTES + 1,
  });
  if (run.timedOut) return { ok: false, reason: `dump.erofs did not finish reading ${innerPath}` };
  if (run.truncated)
    return { ok: false, reason: `${innerPath} is larger than ${MAX_BUILD_PROP_BYTES} bytes` };
  if (run.exitCode !== 0) {
    return {
      ok: false,
      reason: `dump.erofs cannot read ${innerPath}: ${lastLine(run.stderr) || `exit ${run.exitCode}`}`,
    };
  }
  return { ok: true, data: run.stdout, innerPath };
}

/**
 * Reads the first of `innerPaths` that exists in the image, without mounting it. Resolves with
 * the bytes, or with the reason nothing could be read (tool missing, file absent, too large).
 */
export async function readFileFromImage(
  imagePath: string,
  filesystem: ImageFilesystem,
  innerPaths: readonly string[],
): Promise<ImageFileRead> {
  if (filesystem === 'android-sparse')
    return { ok: false, reason: 'the image is an Android sparse image: expand it with simg2img' };
  if (filesystem === 'unknown') return { ok: false, reason: 'the image is neither ext4 nor erofs' };
  const reasons: string[] = [];
  for (const innerPath of innerPaths) {
    const read =
      filesystem === 'ext4'
        ? await readWithDebugfs(imagePath, innerPath)
        : await readWithDumpErofs(imagePath, innerPath);
    if (read.ok) return read;
    reasons.push(read.reason);
    // A missing tool fails every path the same way.
    if (!read.reason.startsWith('no ')) break;
  }
  return { ok: false, reason: reasons.join('; ') };
}

/** Where a partition keeps its `build.prop`, in the order they are tried. */
export const BUILD_PROP_PATHS = {
  /** Waydroid's system images are system-as-root: the system tree is under `/system`. */
  system: ['/system/build.prop', '/build.prop'],
  vendor: ['/build.prop', '/etc/build.prop'],
} as const;

/** One partition image (`system.img` or `vendor.img`) as seen from outside. */
export interface PartitionInfo {
  path: string;
  /** Size in bytes. */
  size: number;
  filesystem: ImageFilesystem;
  /** Where in the image the `build.prop` was read, or null. */
  buildPropPath: string | null;
  /** Why nothing could be read from the image (tool missing, no build.prop …), or null. */
  unreadableReason: string | null;
  /** Lines of the `build.prop` that were skipped as malformed. */
  skippedPropLines: number;
}

/** A system image described. */
export interface SystemPartitionInfo extends PartitionInfo {
  build: AndroidBuildInfo | null;
}

/** A vendor image described. */
export interface VendorPartitionInfo extends PartitionInfo {
  build: VendorBuildInfo | null;
}

async function describePartition(
  imagePath: string,
  role: 'system' | 'vendor',
): Promise<{ info: PartitionInfo; props: Map<string, string> | null }> {
  const s = await stat(imagePath);
  if (!s.isFile()) throw new ImageError('IMAGE_INVALID', `${imagePath} is not a regular file`);
  const filesystem = await detectFilesystem(imagePath);
  const info: PartitionInfo = {
    path: imagePath,
    size: s.size,
    filesystem,
    buildPropPath: null,
    unreadableReason: null,
    skippedPropLines: 0,
  };
  const read = await readFileFromImage(imagePath, filesystem, BUILD_PROP_PATHS[role]);
  if (!read.ok) return { info: { ...info, unreadableReason: read.reason }, props: null };
  try {
    const parsed = parseBuildProp(read.data);
    return {
      info: { ...info, buildPropPath: read.innerPath, skippedPropLines: parsed.skippedCount },
      props: parsed.props,
    };
  } catch (e) {
    return { info: { ...info, unreadableReason: (e as Error).message }, props: null };
  }
}

/**
 * Describes a `system.img`: size, filesystem, and the Android version, SDK, ABI and fingerprint
 * from its `build.prop`. What cannot be read is null with `unreadableReason` saying why. Throws
 * `ImageError` `IMAGE_INVALID` when the path is not a regular file, or the filesystem error.
 */
export async function describeSystemImage(imagePath: string): Promise<SystemPartitionInfo> {
  const { info, props } = await describePartition(imagePath, 'system');
  return { ...info, build: props === null ? null : androidBuildInfo(props) };
}

/** Describes a `vendor.img` like `describeSystemImage`, with the vendor's device and VNDK. */
export async function describeVendorImage(imagePath: string): Promise<VendorPartitionInfo> {
  const { info, props } = await describePartition(imagePath, 'vendor');
  return { ...info, build: props === null ? null : vendorBuildInfo(props) };
}
