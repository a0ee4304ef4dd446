/**
 * The writable layers of a session, as the runtime prepares them on the host before
 * `lxc-start` (as root, in the instance's runtime folder, which `restrictRuntimeDir` keeps
 * reachable by host root and the guest's root only):
 *
 * - the root layer: a tmpfs of the policy's `storage.maxBytes` (`nosuid,nodev`), owned by the
 *   guest's root, into which the read-only source tree (the demo guest) is copied with every
 *   owner shifted into the instance's id range. Each session gets a fresh copy, so nothing a
 *   guest writes reaches the shared tree, another instance, or a later session; a full layer
 *   fails the guest's write with ENOSPC, never the host's disk. (An overlay over the shared tree
 *   would save the copy, but this kernel refuses to idmap an overlayfs mount, and an overlay
 *   of the unshifted tree shows every file as `nobody` to the guest; the demo tree is a few
 *   megabytes and copies in milliseconds.)
 * - the guest run folder (`/run/droidway` inside, where init writes its ready marker): a 1 MiB
 *   tmpfs, `nosuid,nodev,noexec`, owned by the guest's root.
 *
 * What crosses from the session service to the session host is one `SessionStorage` value,
 * parsed by `parseSessionStorage` where it arrives.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  constants as fsConstants,
  copyFileSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RuntimeError } from './runtime-errors.js';

const execFileAsync = promisify(execFile);

/** Size of the guest run folder's tmpfs. */
export const GUEST_RUN_DIR_BYTES = 1024 * 1024;

/** What the session host needs to build a session's writable layers. */
export interface SessionStorage {
  /** Read-only tree copied into the root layer at each start (absolute). */
  rootfsSource: string;
  /** Size of the root layer's tmpfs, bytes. */
  rootfsMaxBytes: number;
  /** Cap of the console log and its one rotated predecessor together, bytes. */
  consoleMaxBytes: number;
  /** Host id guest id 0 maps to (uid and gid); 0 for a container without a user namespace. */
  hostBase: number;
  /** Ids in the range; owners at or past it become guest `nobody` (65534). */
  idCount: number;
  /**
   * Size of the guest's persistent `/data` image, when the guest gets a `/data` (an ext4 file
   * created once at this size; an existing one is used as it is).
   */
  dataMaxBytes?: number;
}

/**
 * Parses the `--storage` JSON the session host is started with. Throws
 * `STORAGE_SETUP_FAILED` naming the field for anything but the exact shape, with integers in
 * range and an absolute, normalized path.
 */
export function parseSessionStorage(text: string): SessionStorage {
  const bad = (what: string): never => {
    throw new RuntimeError('STORAGE_SETUP_FAILED', `session storage: ${what}`);
  };
  if (text.length > 8192) bad('longer than 8192 characters');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return bad('not an object');
  const r = parsed as Record<string, unknown>;
  const keys = [
    'rootfsSource',
    'rootfsMaxBytes',
    'consoleMaxBytes',
    'hostBase',
    'idCount',
    'dataMaxBytes',
  ];
  for (const k of Object.keys(r)) if (!keys.includes(k)) bad(`unknown field ${JSON.stringify(k)}`);
  const src = r.rootfsSource;
  if (
    typeof src !== 'string' ||
    !path.isAbsolute(src) ||
    path.normalize(src) !== src ||
    // eslint-disable-next-line no-control-regex -- refused on purpose
    /[\s\u0000-\u001f\u007f]/.test(src)
  )
    bad('rootfsSource must be an absolute, normalized path without whitespace');
  const int = (k: string, min: number, max: number): number => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      bad(`${k} must be an integer from ${min} to ${max}`);
    return v as number;
  };
  const out: SessionStorage = {
    rootfsSource: src as string,
    rootfsMaxBytes: int('rootfsMaxBytes', 1024 * 1024, 1024 ** 4),
    consoleMaxBytes: int('consoleMaxBytes', 64 * 1024, 1024 ** 3),
    hostBase: int('hostBase', 0, 4_294_967_294),
    idCount: int('idCount', 0, 4_294_967_294),
    ...(r.dataMaxBytes !== undefined
      ? { dataMaxBytes: int('dataMaxBytes', 1024 * 1024, 1024 ** 4) }
      : {}),
  };
  if (out.hostBase > 0 && (out.idCount < 65_536 || out.hostBase + out.idCount > 4_294_967_295))
    bad('idCount must be at least 65536 and the range must end below 4294967295');
  return out;
}

/** Host owner of a file the source tree owns as `id`, shifted into the range. */
function shift(storage: SessionStorage, id: number): number {
  if (storage.hostBase === 0) return id;
  return storage.hostBase + (id < storage.idCount ? id : 65_534);
}

/** A mount for `mountAll`. */
interface FstabMount {
  source: string;
  target: string;
  fstype: string;
  options: string[];
}

/** Encodes an fstab field as getmntent decodes it. */
function fstabEncode(field: string): string {
  return field.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * Mounts `mounts` in order with one `mount --all --fstab` (a process start costs more than the
 * mounts themselves; `bind,ro,…` is a bind then a remount, done by mount(8)). `fstab` is a
 * scratch file, removed afterwards.
 */
async function mountAll(mounts: readonly FstabMount[], fstab: string): Promise<void> {
  if (mounts.length === 0) return;
  const text = mounts
    .map(
      (m) =>
        `${fstabEncode(m.source)} ${fstabEncode(m.target)} ${m.fstype} ${m.options.join(',')} 0 0\n`,
    )
    .join('');
  await fs.writeFile(fstab, text, { mode: 0o600 });
  try {
    await execFileAsync('mount', ['--all', '--fstab', fstab], { timeout: 30_000 });
  } catch (e) {
    throw new RuntimeError(
      'STORAGE_SETUP_FAILED',
      `cannot mount ${mounts.map((m) => m.target).join(', ')}: ${(e as Error).message.trim()}`,
      { cause: e },
    );
  } finally {
    await fs.rm(fstab, { force: true });
  }
}

/**
 * Copies `source` into `target` (an empty folder), keeping modes and symlinks, each owner
 * shifted into the range; sockets, fifos and device nodes are not copied. Returns the bytes of
 * regular files copied. Throws `STORAGE_SETUP_FAILED` with ENOSPC when the layer is too small.
 */
export async function copyShifted(
  source: string,
  target: string,
  storage: SessionStorage,
): Promise<number> {
  let bytes = 0;
  // Synchronous on purpose: a few hundred small system calls on the start path, where one
  // thread-pool round trip each cost more than the copying (40 ms against 8 ms for the demo tree).
  const walk = (from: string, to: string): void => {
    for (const name of readdirSync(from)) {
      const src = path.join(from, name);
      const dst = path.join(to, name);
      const st = lstatSync(src);
      if (st.isDirectory()) {
        mkdirSync(dst, { mode: 0o700 });
        walk(src, dst);
      } else if (st.isFile()) {
        copyFileSync(src, dst, fsConstants.COPYFILE_EXCL);
        bytes += st.size;
      } else if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(src), dst);
      } else {
        continue;
      }
      lchownSync(dst, shift(storage, st.uid), shift(storage, st.gid));
      // chown clears set-id bits; the mode goes last. Symlinks have no mode of their own.
      if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
    }
  };
  try {
    walk(source, target);
  } catch (e) {
    throw new RuntimeError(
      'STORAGE_SETUP_FAILED',
      `copying the guest tree ${source} into its session layer failed: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return bytes;
}

/** Where the layers are, on the host. */
export interface StorageTargets {
  /** Mountpoint of the root layer (the config's `lxc.rootfs.path`). */
  rootfsDir: string;
  /** Mountpoint of the guest run folder. */
  guestRunDir: string;
  /** The `/data` image file, its mountpoint, and the bind LXC reaches (`dataMaxBytes` only). */
  dataImage: string;
  guestDataDir: string;
  guestDataMount: string;
}

async function run(argv: string[], what: string): Promise<void> {
  try {
    await execFileAsync(argv[0]!, argv.slice(1), { timeout: 60_000 });
  } catch (e) {
    throw new RuntimeError('STORAGE_SETUP_FAILED', `${what}: ${(e as Error).message.trim()}`, {
      cause: e,
    });
  }
}

/**
 * Mounts the instance's `/data` image (creating it at `dataMaxBytes` with its root owned by the
 * guest's root, mode 0771 like Android's) `nosuid,nodev` at `guestDataDir`, and binds that at
 * `guestDataMount` for LXC. A full image fails the guest's writes with ENOSPC; its size on the
 * host disk never grows past `dataMaxBytes`.
 */
async function prepareDataImage(
  storage: SessionStorage & { dataMaxBytes: number },
  targets: StorageTargets,
): Promise<void> {
  const root = shift(storage, 0);
  const existing = await fs.lstat(targets.dataImage).catch(() => null);
  if (existing !== null && !existing.isFile())
    throw new RuntimeError(
      'STORAGE_SETUP_FAILED',
      `${targets.dataImage} is not a regular file; refusing to mount it`,
    );
  if (existing === null) {
    const tmp = `${targets.dataImage}.tmp-${process.pid}`;
    await fs.rm(tmp, { force: true });
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await handle.truncate(storage.dataMaxBytes);
    } finally {
      await handle.close();
    }
    await run(
      ['mkfs.ext4', '-q', '-F', '-E', `root_owner=${root}:${root}`, '-L', 'droidway-data', tmp],
      `cannot create the /data image ${targets.dataImage}`,
    );
    await fs.rename(tmp, targets.dataImage);
  }
  await fs.mkdir(targets.guestDataDir, { recursive: true, mode: 0o700 });
  await run(
    ['mount', '-t', 'ext4', '-o', 'loop,nosuid,nodev', targets.dataImage, targets.guestDataDir],
    `cannot mount the /data image ${targets.dataImage}`,
  );
  await fs.chown(targets.guestDataDir, root, root);
  await fs.chmod(targets.guestDataDir, 0o771);
  await fs.mkdir(targets.guestDataMount, { mode: 0o700 });
  await run(
    ['mount', '--bind', targets.guestDataDir, targets.guestDataMount],
    `cannot bind the /data image for the container`,
  );
}

/**
 * Mounts and fills the session's writable layers (see the module doc), and makes `binds` (see
 * `splitReadOnlyBinds`) inside the root layer. The caller unmounts them with the rest of the
 * runtime folder when the session ends. Resolves with the bytes copied and the binds made.
 * Throws `STORAGE_SETUP_FAILED`.
 */
export async function prepareSessionStorage(
  storage: SessionStorage,
  targets: StorageTargets,
  binds: readonly HostReadOnlyBind[] = [],
): Promise<{ copiedBytes: number; binds: HostReadOnlyBind[] }> {
  const rootUid = shift(storage, 0);
  const own = [`uid=${rootUid}`, `gid=${rootUid}`];
  await fs.mkdir(targets.rootfsDir, { mode: 0o700 });
  await fs.mkdir(targets.guestRunDir, { mode: 0o700 });
  await mountAll(
    [
      {
        source: 'tmpfs',
        target: targets.rootfsDir,
        fstype: 'tmpfs',
        options: ['rw', 'nosuid', 'nodev', `size=${storage.rootfsMaxBytes}`, 'mode=0755', ...own],
      },
    ],
    `${targets.rootfsDir}.fstab`,
  );
  const copiedBytes = await copyShifted(storage.rootfsSource, targets.rootfsDir, storage);
  const top = await fs.lstat(storage.rootfsSource);
  await fs.chmod(targets.rootfsDir, top.mode & 0o7777);
  // The run folder and the read-only binds (whose mountpoints are in the copy) in one go.
  const made = await bindMounts(binds, targets.rootfsDir);
  await mountAll(
    [
      {
        source: 'tmpfs',
        target: targets.guestRunDir,
        fstype: 'tmpfs',
        options: [
          'rw',
          'nosuid',
          'nodev',
          'noexec',
          `size=${GUEST_RUN_DIR_BYTES}`,
          'mode=0755',
          ...own,
        ],
      },
      ...made.map((m) => m.mount),
    ],
    `${targets.rootfsDir}.fstab`,
  );
  if (storage.dataMaxBytes !== undefined)
    await prepareDataImage({ ...storage, dataMaxBytes: storage.dataMaxBytes }, targets);
  return { copiedBytes, binds: made.map((m) => m.bind) };
}

/** Decodes an fstab field as getmntent does (`\040` space, `\134` backslash, octal escapes). */
function fstabDecode(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Guest folders LXC (or the runtime, through LXC: /run, /tmp) mounts after the rootfs; a bind
 * made below them beforehand would be covered.
 */
const KERNEL_TARGETS = ['proc', 'sys', 'dev', 'run', 'tmp'];

/** One read-only bind the runtime makes on the host, before LXC. */
export interface HostReadOnlyBind {
  /** The `lxc.mount.entry` value it came from. */
  entry: string;
  source: string;
  /** Relative to the rootfs. */
  target: string;
  options: string[];
}

/**
 * Splits `lxc.mount.entry` values into the read-only binds of host paths the runtime mounts
 * itself into the root layer (see `prepareSessionStorage`) and the entries left to LXC: kernel
 * file systems, tmpfs, writable binds, and anything below /proc, /sys, /dev, /run or /tmp. Throws `STORAGE_SETUP_FAILED` for a target with `..`.
 */
export function splitReadOnlyBinds(entries: readonly string[]): {
  binds: HostReadOnlyBind[];
  rest: string[];
} {
  const binds: HostReadOnlyBind[] = [];
  const rest: string[] = [];
  for (const entry of entries) {
    const f = entry.trim().split(/\s+/);
    const options = (f[3] ?? '').split(',');
    const target = fstabDecode(f[1] ?? '');
    const source = fstabDecode(f[0] ?? '');
    const isRoBind =
      f.length === 6 &&
      f[2] === 'none' &&
      options.includes('bind') &&
      options.includes('ro') &&
      source.startsWith('/') &&
      !KERNEL_TARGETS.some((k) => target === k || target.startsWith(`${k}/`));
    if (!isRoBind) {
      rest.push(entry);
      continue;
    }
    if (target.split('/').some((s) => s === '..' || s === '.' || s === ''))
      throw new RuntimeError(
        'STORAGE_SETUP_FAILED',
        `mount target ${JSON.stringify(target)} is not a plain relative path`,
      );
    binds.push({ entry, source, target, options });
  }
  return { binds, rest };
}

/**
 * Prepares the mountpoints of the read-only binds in the root layer and returns their mounts,
 * `ro,nosuid,nodev` (plus `noexec` when asked). Made on the host, before LXC, they come into the
 * container with the rootfs, and since they were made outside the guest's user namespace the
 * kernel locks their flags there: even a guest holding CAP_SYS_ADMIN cannot remount them
 * read-write. A bind whose source is missing is skipped when `optional`, an error otherwise.
 */
async function bindMounts(
  binds: readonly HostReadOnlyBind[],
  rootfsDir: string,
): Promise<Array<{ bind: HostReadOnlyBind; mount: FstabMount }>> {
  const made: Array<{ bind: HostReadOnlyBind; mount: FstabMount }> = [];
  for (const b of binds) {
    const st = await fs.stat(b.source).catch(() => null);
    if (st === null) {
      if (b.options.includes('optional')) continue;
      throw new RuntimeError('STORAGE_SETUP_FAILED', `bind source ${b.source} does not exist`);
    }
    const target = path.join(rootfsDir, b.target);
    // The root layer is the guest's: refuse to follow anything it could have planted.
    let dir = rootfsDir;
    for (const part of path
      .dirname(b.target)
      .split('/')
      .filter((p) => p !== '.')) {
      dir = path.join(dir, part);
      const d = await fs.lstat(dir).catch(() => null);
      if (d === null) await fs.mkdir(dir, { mode: 0o755 });
      else if (!d.isDirectory())
        throw new RuntimeError('STORAGE_SETUP_FAILED', `${dir} is not a folder`);
    }
    const existing = await fs.lstat(target).catch(() => null);
    if (existing === null) {
      if (st.isDirectory()) await fs.mkdir(target, { mode: 0o755 });
      else await fs.writeFile(target, '', { mode: 0o644, flag: 'wx' });
    } else if (existing.isSymbolicLink() || existing.isDirectory() !== st.isDirectory()) {
      throw new RuntimeError('STORAGE_SETUP_FAILED', `${target} does not match its bind source`);
    }
    const flags = ['bind', 'ro', 'nosuid', 'nodev'];
    if (b.options.includes('noexec')) flags.push('noexec');
    made.push({ bind: b, mount: { source: b.source, target, fstype: 'none', options: flags } });
  }
  return made;
}
