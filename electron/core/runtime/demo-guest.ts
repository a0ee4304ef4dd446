/**
 * The demo guest: a rootfs the runtime can boot where no Android image exists. It is built on
 * first use from what the host already has, with no download: the host's static busybox and its
 * applet links, the empty mountpoints LXC and the runtime mount onto, a few `/etc` files, and
 * Droidway's init (`resources/guest/init`). The host's `/usr`, `/lib` and `/lib64` are
 * bind-mounted read-only at start (`demoGuestMountEntries`), so host programs such as Wayland
 * clients run inside. `/opt/droidway/guest.d/` holds the guest programs (init starts each
 * executable there): `resources/guest/guest.d/`, mounted read-only at start, whose launcher
 * runs the demo Wayland client (`native/guest/build`, mounted at `/opt/droidway/bin`) once the
 * display bridge's socket appears.
 *
 * The build is idempotent and atomic: it happens in a temporary folder beside the target that
 * is renamed into place, and a stamp (a hash of the builder version, the init script and the
 * busybox binary) makes a changed builder or busybox rebuild.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseElfHeader } from '../doctor/elf-header.js';
import { checkRootfs } from './rootfs-check.js';
import { RuntimeError, isErrno } from './runtime-errors.js';

const execFileAsync = promisify(execFile);

/** Bump when the layout written by `buildTree` changes, so existing caches are rebuilt. */
export const DEMO_GUEST_BUILDER_VERSION = 1;

/** Name of the stamp file at the rootfs top. */
export const DEMO_GUEST_STAMP_FILE = '.droidway-guest.json';

/** Applets linked into `/bin` when the host's busybox has them. */
export const DEMO_GUEST_APPLETS = [
  'sh',
  'ash',
  'mount',
  'umount',
  'sleep',
  'cat',
  'ls',
  'ps',
  'hostname',
  'ip',
  'ifconfig',
  'echo',
  'kill',
  'mkdir',
  'rmdir',
  'rm',
  'mv',
  'cp',
  'ln',
  'chmod',
  'chown',
  'touch',
  'test',
  '[',
  'true',
  'false',
  'printf',
  'env',
  'id',
  'uname',
  'grep',
  'sed',
  'awk',
  'head',
  'tail',
  'wc',
  'sort',
  'cut',
  'tr',
  'find',
  'xargs',
  'readlink',
  'stat',
  'df',
  'du',
  'free',
  'top',
  'dmesg',
  'sync',
  'date',
  'which',
  'mknod',
  'timeout',
  'tee',
  'base64',
  'sha256sum',
  'nc',
  'netstat',
  'ping',
  'whoami',
  'usleep',
  'pidof',
  'killall',
  'mountpoint',
  'vi',
  'less',
] as const;

/** Empty folders of the rootfs (mountpoints and places init writes to). */
const ROOTFS_DIRS = [
  'bin',
  'sbin',
  'proc',
  'sys',
  'dev',
  'run',
  'tmp',
  'usr',
  'lib',
  'lib64',
  'etc',
  'var',
  'var/tmp',
  'root',
  'opt',
  'opt/droidway',
  'opt/droidway/guest.d',
  'opt/droidway/bin',
] as const;

/** Where the guest programs of later issues go; init starts each executable in it. */
export const GUEST_PROGRAMS_DIR = '/opt/droidway/guest.d';

/** Where the demo client's build folder appears in the guest. */
export const GUEST_BIN_DIR = '/opt/droidway/bin';

/** Where init writes its ready marker inside the guest. */
export const GUEST_READY_MARKER = '/run/droidway/ready';

/** The host's static busybox (Debian's busybox-static package). */
export const DEFAULT_BUSYBOX = '/bin/busybox';

/** Options of `ensureDemoGuest`; each has a default. */
export interface DemoGuestOptions {
  /** Rootfs folder; default `defaultDemoGuestDir()`. */
  rootfs?: string;
  /** Static busybox to copy; default `/bin/busybox`. */
  busybox?: string;
  /** Init script to install as `/sbin/init`; default `resources/guest/init` of this checkout. */
  initScript?: string;
  /**
   * Host folder of guest programs mounted at `GUEST_PROGRAMS_DIR`; default
   * `resources/guest/guest.d` of this checkout; null for none (the rootfs's empty folder).
   */
  programsDir?: string | null;
  /**
   * Host folder holding the built `droidway-demo-client`, mounted at `GUEST_BIN_DIR`; default
   * `native/guest/build` of this checkout when the client is built there; null for none.
   */
  demoClientDir?: string | null;
}

/** A ready demo guest. */
export interface DemoGuest {
  /** Absolute path of the rootfs (for `lxc.rootfs.path = dir:…`). */
  rootfs: string;
  /** Init inside the guest (for `lxc.init.cmd`). */
  init: string;
  /**
   * Extra `lxc.mount.entry` values the runtime adds (host `/usr`, `/lib`, `/lib64`, the guest
   * programs and the demo client, read-only).
   */
  mountEntries: string[];
  /** The demo client's host folder, or null when it is not built (no window then). */
  demoClientDir: string | null;
  /** The build stamp recorded in the rootfs. */
  stamp: string;
  /** True when this call built it, false when a matching build was already there. */
  built: boolean;
}

/** Default rootfs folder: `/var/lib/droidway/guest/demo` as root, else under `$XDG_CACHE_HOME`. */
export function defaultDemoGuestDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/droidway/guest/demo';
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'droidway', 'guest', 'demo');
}

function findAbove(relative: string): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return null;
}

/** Finds `resources/guest/init` from this module, in the source tree or in `out/`. */
export function defaultInitScript(): string {
  const found = findAbove(path.join('resources', 'guest', 'init'));
  if (found !== null) return found;
  throw new RuntimeError(
    'GUEST_BUILD_FAILED',
    'resources/guest/init was not found above the runtime module',
  );
}

/** `resources/guest/guest.d` above this module, or null. */
export function defaultGuestProgramsDir(): string | null {
  return findAbove(path.join('resources', 'guest', 'guest.d'));
}

/** `native/guest/build` above this module when it holds the built demo client, or null. */
export function defaultDemoClientDir(): string | null {
  const client = findAbove(path.join('native', 'guest', 'build', 'droidway-demo-client'));
  return client === null ? null : path.dirname(client);
}

/**
 * The mount entries of the guest programs and the demo client's folder (read-only, nosuid,
 * nodev). Throws `GUEST_BUILD_FAILED` for a path with whitespace, which a mount entry cannot
 * carry.
 */
export function guestProgramMountEntries(
  programsDir: string | null,
  demoClientDir: string | null,
): string[] {
  const entries: string[] = [];
  const add = (source: string, target: string): void => {
    if (/\s/.test(source))
      throw new RuntimeError(
        'GUEST_BUILD_FAILED',
        `${source} holds whitespace and cannot be mounted into the guest`,
      );
    entries.push(
      `${path.resolve(source)} ${target.slice(1)} none bind,ro,nosuid,nodev,create=dir 0 0`,
    );
  };
  if (programsDir !== null) add(programsDir, GUEST_PROGRAMS_DIR);
  if (demoClientDir !== null) add(demoClientDir, GUEST_BIN_DIR);
  return entries;
}

/**
 * The `lxc.mount.entry` values that give the guest the host's `/usr`, `/lib` and `/lib64`
 * read-only (nosuid, nodev); `/lib64` only when the host has it. Symlinked host folders
 * (`/lib -> usr/lib` on merged-/usr systems) are fine: a bind mount resolves its source.
 * `/tmp` is a private tmpfs per session: the rootfs is shared by every instance, and a guest
 * that may not mount (the `strict` preset) would otherwise write into it.
 */
export function demoGuestMountEntries(): string[] {
  const entries = [
    '/usr usr none bind,ro,nosuid,nodev 0 0',
    '/lib lib none bind,ro,nosuid,nodev 0 0',
    'tmpfs tmp tmpfs rw,nosuid,nodev,mode=1777,size=64m 0 0',
  ];
  if (existsSync('/lib64')) entries.push('/lib64 lib64 none bind,ro,nosuid,nodev 0 0');
  return entries;
}

/**
 * Returns the demo guest, building it first when it is missing or was built by another builder
 * version, init script or busybox. Throws `RuntimeError` (`GUEST_BUILD_FAILED`) when busybox is
 * missing or not static, or the folder cannot be written; a failed build leaves nothing behind
 * and an existing rootfs untouched.
 */
export async function ensureDemoGuest(options: DemoGuestOptions = {}): Promise<DemoGuest> {
  const rootfs = path.resolve(options.rootfs ?? defaultDemoGuestDir());
  const busybox = options.busybox ?? DEFAULT_BUSYBOX;
  const initScript = options.initScript ?? defaultInitScript();
  const init = await readInput(initScript, 'init script');
  const busyboxBytes = await readInput(busybox, 'busybox');
  assertStatic(busybox, busyboxBytes);
  const applets = await availableApplets(busybox);
  const stamp = createHash('sha256')
    .update(`droidway-demo-guest:${DEMO_GUEST_BUILDER_VERSION}\n`)
    .update(applets.join(' ') + '\n')
    .update(init)
    .update(busyboxBytes)
    .digest('hex');
  const programsDir =
    options.programsDir === undefined ? defaultGuestProgramsDir() : options.programsDir;
  const demoClientDir =
    options.demoClientDir === undefined ? defaultDemoClientDir() : options.demoClientDir;
  const programEntries = guestProgramMountEntries(programsDir, demoClientDir);
  const result = (built: boolean): DemoGuest => ({
    rootfs,
    init: '/sbin/init',
    mountEntries: [...demoGuestMountEntries(), ...programEntries],
    demoClientDir,
    stamp,
    built,
  });

  if ((await readStamp(rootfs)) === stamp) {
    await checkRootfs(rootfs);
    // Builds from before the demo client's mountpoint existed get it here: a rebuild would
    // pull the tree from under sessions running on it, and LXC cannot create it in a rootfs
    // mounted read-only.
    if (demoClientDir !== null) await ensureMountpoint(rootfs, GUEST_BIN_DIR);
    return result(false);
  }

  const parent = path.dirname(rootfs);
  const base = path.basename(rootfs);
  try {
    await fs.mkdir(parent, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `cannot create ${parent}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const tmp = path.join(parent, `.${base}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await buildTree(tmp, { init, busyboxBytes, applets, stamp });
    await checkRootfs(tmp);
    await swapInto(tmp, rootfs, stamp);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    if (e instanceof RuntimeError) throw e;
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `building the demo guest in ${rootfs} failed: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  return result(true);
}

async function ensureMountpoint(rootfs: string, guestDir: string): Promise<void> {
  const dir = path.join(rootfs, guestDir);
  const st = await fs.lstat(dir).catch(() => null);
  if (st?.isDirectory()) return;
  if (st !== null)
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `${dir} is not a folder; refusing to mount the demo client over it`,
    );
  try {
    await fs.mkdir(dir, { mode: 0o755 });
  } catch (e) {
    if (!isErrno(e, 'EEXIST'))
      throw new RuntimeError(
        'GUEST_BUILD_FAILED',
        `cannot create ${dir}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
  }
}

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `cannot read the ${what} ${file}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

function assertStatic(file: string, bytes: Buffer): void {
  let interpreter: string | null;
  try {
    interpreter = parseElfHeader(bytes.subarray(0, 64 * 1024)).interpreter;
  } catch (e) {
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `${file} is not an executable: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (interpreter !== null) {
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `${file} is dynamically linked (loader ${interpreter}); the demo guest needs a static busybox (Debian: busybox-static)`,
    );
  }
}

async function availableApplets(busybox: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(busybox, ['--list'], {
      timeout: 10_000,
      maxBuffer: 1024 * 1024,
    }));
  } catch (e) {
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `${busybox} --list failed: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const have = new Set(stdout.split('\n').map((s) => s.trim()));
  for (const needed of ['sh', 'mount', 'sleep', 'mkdir', 'mv', 'kill', 'hostname']) {
    if (!have.has(needed)) {
      throw new RuntimeError(
        'GUEST_BUILD_FAILED',
        `${busybox} lacks the "${needed}" applet the guest init needs`,
      );
    }
  }
  return DEMO_GUEST_APPLETS.filter((a) => have.has(a));
}

async function readStamp(rootfs: string): Promise<string | null> {
  try {
    const parsed: unknown = JSON.parse(
      await fs.readFile(path.join(rootfs, DEMO_GUEST_STAMP_FILE), 'utf8'),
    );
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { stamp?: unknown }).stamp === 'string'
    ) {
      return (parsed as { stamp: string }).stamp;
    }
    return null;
  } catch (e) {
    if (isErrno(e, 'ENOENT') || e instanceof SyntaxError) return null;
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `cannot read the demo guest stamp in ${rootfs}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

interface TreeInputs {
  init: Buffer;
  busyboxBytes: Buffer;
  applets: string[];
  stamp: string;
}

async function buildTree(dir: string, inputs: TreeInputs): Promise<void> {
  await fs.mkdir(dir, { mode: 0o755 });
  await fs.chmod(dir, 0o755);
  for (const sub of ROOTFS_DIRS) await fs.mkdir(path.join(dir, sub), { mode: 0o755 });
  await fs.chmod(path.join(dir, 'tmp'), 0o1777);
  await fs.chmod(path.join(dir, 'var/tmp'), 0o1777);
  await fs.chmod(path.join(dir, 'root'), 0o700);

  await fs.writeFile(path.join(dir, 'bin/busybox'), inputs.busyboxBytes, { mode: 0o755 });
  for (const applet of inputs.applets) await fs.symlink('busybox', path.join(dir, 'bin', applet));
  await fs.writeFile(path.join(dir, 'sbin/init'), inputs.init, { mode: 0o755 });
  // Written files get the umask applied; the modes must not depend on the caller's umask.
  await fs.chmod(path.join(dir, 'bin/busybox'), 0o755);
  await fs.chmod(path.join(dir, 'sbin/init'), 0o755);

  const etc = (name: string, text: string): Promise<void> =>
    fs.writeFile(path.join(dir, 'etc', name), text, { mode: 0o644 });
  await etc(
    'passwd',
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  await etc('group', 'root:x:0:\nnogroup:x:65534:\n');
  await etc('hostname', 'droidway\n');
  await etc('hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  await etc('os-release', 'NAME="Droidway demo guest"\nID=droidway-demo\n');
  // The stamp goes last: a tree without it is never taken for a finished build.
  await fs.writeFile(
    path.join(dir, DEMO_GUEST_STAMP_FILE),
    JSON.stringify({ builderVersion: DEMO_GUEST_BUILDER_VERSION, stamp: inputs.stamp }) + '\n',
    { mode: 0o644 },
  );
}

async function swapInto(tmp: string, rootfs: string, stamp: string): Promise<void> {
  try {
    await fs.rename(tmp, rootfs);
    return;
  } catch (e) {
    if (!isErrno(e, 'ENOTEMPTY') && !isErrno(e, 'EEXIST')) throw e;
  }
  // Another builder may have finished the same build meanwhile: keep theirs.
  const existing = await readStamp(rootfs);
  if (existing === stamp) {
    await fs.rm(tmp, { recursive: true, force: true });
    return;
  }
  if (existing === null) {
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `${rootfs} exists and is not a demo guest build (no ${DEMO_GUEST_STAMP_FILE}); refusing to replace it`,
    );
  }
  const old = `${tmp}.old`;
  await fs.rename(rootfs, old);
  await fs.rename(tmp, rootfs);
  await fs.rm(old, { recursive: true, force: true });
}
