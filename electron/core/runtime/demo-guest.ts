/**
 * The demo guest: a rootfs the runtime can boot where no Android image exists. It is built on
 * first use from what the host already has, with no download: the host's static busybox and its
 * applet links, the empty mountpoints LXC and the runtime mount onto, a few `/etc` files,
 * Droidway's init (`resources/guest/init`), the guest programs (`resources/guest/guest.d/`, in
 * `/opt/droidway/guest.d/`, each started by init) and the demo Wayland client
 * (`native/guest/build`, in `/opt/droidway/bin`) with the shared libraries `ldd` names for it,
 * copied to the same paths inside. Nothing of the host's `/usr` or `/lib` is mounted into the
 * guest: it sees no host file activity and runs only what was copied in.
 *
 * The tree is the read-only source of every session: the runtime copies it into a per-session,
 * size-limited layer owned by the instance's id range (see `session-storage.ts`), so a guest
 * never writes into it and no file planted by one session reaches another.
 *
 * The build is idempotent and atomic: it happens in a temporary folder beside the target that
 * is renamed into place, and a stamp (a hash of the builder version, the init script, busybox,
 * the guest programs and the client with its libraries) makes a changed input rebuild. The
 * default folder's name carries the builder version, so builders of other versions on the same
 * machine keep their own trees.
 *
 * Every session start asks for the guest, and hashing its inputs (busybox, the client and its
 * libraries: ~4 MB, plus `busybox --list` and `ldd`) costs 30–300 ms. So the stamp file also
 * records each input file's identity (device, inode, size, mtime and ctime in ns) taken before it
 * was read, with the folders the loader searches and `/etc/ld.so.cache`: when every identity
 * still matches, nothing was rewritten, replaced, added beside a library or re-linked, and the
 * tree is taken as it is without reading an input. Any difference falls back to the full check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, type BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseElfHeader } from '../host/elf-header.js';
import { checkRootfs } from './rootfs-check.js';
import { RuntimeError, isErrno } from './runtime-errors.js';
import { packageRoot } from '../package-root.js';

const execFileAsync = promisify(execFile);

/** Bump when the layout written by `buildTree` changes, so existing caches are rebuilt. */
export const DEMO_GUEST_BUILDER_VERSION = 2;

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

/** Where the demo client is in the guest. */
export const GUEST_BIN_DIR = '/opt/droidway/bin';

/** The demo client's file name (in `native/guest/build` and in `GUEST_BIN_DIR`). */
export const DEMO_CLIENT_NAME = 'droidway-demo-client';

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
   * Extra `lxc.mount.entry` values the guest needs: none since builder version 2 (everything it
   * runs is in the tree); kept so callers pass them on unchanged.
   */
  mountEntries: string[];
  /** The demo client's host folder it was copied from, or null when it is not built (no window then). */
  demoClientDir: string | null;
  /** Bytes of regular files in the tree (what each session copies). */
  payloadBytes: number;
  /** The build stamp recorded in the rootfs. */
  stamp: string;
  /** True when this call built it, false when a matching build was already there. */
  built: boolean;
  /**
   * How this call knew the tree matched its inputs: by their recorded identities alone (nothing
   * read), or by reading and hashing them (a build, or identities that changed).
   */
  checkedBy: 'identities' | 'contents';
}

/**
 * Default rootfs folder: `/var/lib/droidway/guest/demo-v<builder version>` as root, else under
 * `$XDG_CACHE_HOME`.
 */
export function defaultDemoGuestDir(): string {
  const name = `demo-v${DEMO_GUEST_BUILDER_VERSION}`;
  if (process.getuid?.() === 0) return path.join('/var/lib/droidway/guest', name);
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'droidway', 'guest', name);
}

function findAbove(relative: string): string | null {
  const root = packageRoot();
  if (root === null) return null;
  const candidate = path.join(root, relative);
  return existsSync(candidate) ? candidate : null;
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
  const client = findAbove(path.join('native', 'guest', 'build', DEMO_CLIENT_NAME));
  return client === null ? null : path.dirname(client);
}

/**
 * The `lxc.mount.entry` values that give the guest the host's `/usr`, `/lib` and `/lib64`
 * read-only (nosuid, nodev), `/lib64` only when the host has it. Only for the stand-in Android
 * tools of the tests (`--android-tools`), which run the host's aapt, python3, unzip and openssl;
 * the demo guest itself never gets them. Symlinked host folders (`/lib -> usr/lib` on merged-/usr
 * systems) are fine: a bind mount resolves its source.
 */
export function hostToolMountEntries(): string[] {
  const entries = [
    '/usr usr none bind,ro,nosuid,nodev 0 0',
    '/lib lib none bind,ro,nosuid,nodev 0 0',
  ];
  if (existsSync('/lib64')) entries.push('/lib64 lib64 none bind,ro,nosuid,nodev 0 0');
  return entries;
}

/** A shared library the demo client needs: where it is on the host, where the loader looks. */
export interface LibraryDependency {
  /** The path the loader resolves (and the path it gets inside the guest). */
  path: string;
}

/**
 * Parses `ldd` output into the absolute paths of the libraries and the loader. Lines are
 * `name => /path (0xADDR)`, `/path (0xADDR)` (the loader) or `linux-vdso.so.1 (0xADDR)` (no
 * file). Throws `GUEST_BUILD_FAILED` for `not found`, a relative or `..` path, or a line of
 * another shape, so a client whose closure cannot be copied is never half-installed.
 */
export function parseLddOutput(text: string): LibraryDependency[] {
  if (text.length > 256 * 1024)
    throw new RuntimeError('GUEST_BUILD_FAILED', 'ldd printed more than 256 KiB');
  const out: LibraryDependency[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    if (
      !path.isAbsolute(p) ||
      p.split('/').some((seg) => seg === '..' || seg === '.') ||
      // eslint-disable-next-line no-control-regex -- refused on purpose
      /[\u0000-\u001f\u007f]/.test(p)
    )
      throw new RuntimeError(
        'GUEST_BUILD_FAILED',
        `ldd named an unusable library path ${JSON.stringify(p.slice(0, 200))}`,
      );
    if (!seen.has(p)) {
      seen.add(p);
      out.push({ path: p });
    }
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (/=>\s*not found$/.test(line))
      throw new RuntimeError(
        'GUEST_BUILD_FAILED',
        `the demo client needs a library the host lacks: ${line.slice(0, 200)}`,
      );
    let m = /^(\S+) => (\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (m) {
      add(m[2]!);
      continue;
    }
    m = /^(\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (m) {
      // The vDSO has no file; anything else on its own is the loader.
      if (m[1]!.includes('/')) add(m[1]!);
      continue;
    }
    if (line === 'statically linked' || line === 'not a dynamic executable') continue;
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `unexpected ldd output line ${JSON.stringify(line.slice(0, 200))}`,
    );
  }
  return out;
}

async function libraryClosure(client: string): Promise<LibraryDependency[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ldd', [client], { timeout: 10_000, maxBuffer: 256 * 1024 }));
  } catch (e) {
    throw new RuntimeError('GUEST_BUILD_FAILED', `ldd ${client} failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return parseLddOutput(stdout);
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
  const programsDir =
    options.programsDir === undefined ? defaultGuestProgramsDir() : options.programsDir;
  const demoClientDir =
    options.demoClientDir === undefined ? defaultDemoClientDir() : options.demoClientDir;
  const inputsKey = JSON.stringify([
    busybox,
    initScript,
    programsDir,
    demoClientDir,
    process.env.LD_LIBRARY_PATH ?? null,
  ]);

  const recorded = await readStampFile(rootfs);
  if (
    recorded?.inputs !== undefined &&
    recorded.inputs.key === inputsKey &&
    (await identitiesMatch(recorded.inputs.files))
  ) {
    await checkRootfs(rootfs);
    return {
      rootfs,
      init: '/sbin/init',
      mountEntries: [],
      demoClientDir,
      payloadBytes: recorded.inputs.payloadBytes,
      stamp: recorded.stamp,
      built: false,
      checkedBy: 'identities',
    };
  }

  const seen = new InputIdentities();
  const init = await readInput(initScript, 'init script', seen);
  const busyboxBytes = await readInput(busybox, 'busybox', seen);
  assertStatic(busybox, busyboxBytes);
  const applets = await availableApplets(busybox);
  const programs = programsDir === null ? [] : await readPrograms(programsDir, seen);
  const client = demoClientDir === null ? [] : await readClient(demoClientDir, seen);
  const files = [...programs, ...client];
  const hash = createHash('sha256')
    .update(`droidway-demo-guest:${DEMO_GUEST_BUILDER_VERSION}\n`)
    .update(applets.join(' ') + '\n')
    .update(init)
    .update(busyboxBytes);
  for (const f of files) hash.update(`\n${f.guestPath} ${f.mode}\n`).update(f.bytes);
  const stamp = hash.digest('hex');
  const payloadBytes =
    busyboxBytes.length + init.length + files.reduce((n, f) => n + f.bytes.length, 0);
  const result = (built: boolean): DemoGuest => ({
    rootfs,
    init: '/sbin/init',
    mountEntries: [],
    demoClientDir,
    payloadBytes,
    stamp,
    built,
    checkedBy: 'contents',
  });

  const inputs: RecordedInputs = { key: inputsKey, payloadBytes, files: seen.list() };
  if (recorded?.stamp === stamp) {
    await checkRootfs(rootfs);
    // Same bytes under new identities (a rebuild of the same client, a touched file): record
    // them, so the next start takes the fast path again.
    await rewriteStampFile(rootfs, stamp, inputs);
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
    await buildTree(tmp, { init, busyboxBytes, applets, stamp, inputs, files });
    await checkRootfs(tmp);
    await swapInto(tmp, rootfs, stamp);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    if (e instanceof RuntimeError) throw e;
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `building the demo guest in ${rootfs} failed: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return result(true);
}

/** A file copied into the tree: its guest path, bytes and mode. */
interface PayloadFile {
  guestPath: string;
  bytes: Buffer;
  mode: number;
}

/** The regular files of the guest programs folder (sorted), for `GUEST_PROGRAMS_DIR`. */
async function readPrograms(dir: string, seen: InputIdentities): Promise<PayloadFile[]> {
  let names: string[];
  try {
    // The folder's own identity first: a program added or removed changes its mtime.
    await seen.note(dir);
    names = (await fs.readdir(dir)).sort();
  } catch (e) {
    throw new RuntimeError(
      'GUEST_BUILD_FAILED',
      `cannot read the guest programs ${dir}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const out: PayloadFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const st = await fs.lstat(file);
    if (!st.isFile()) continue;
    out.push({
      guestPath: path.posix.join(GUEST_PROGRAMS_DIR, name),
      bytes: await readInput(file, 'guest program', seen),
      mode: st.mode & 0o111 ? 0o755 : 0o644,
    });
  }
  return out;
}

/** The demo client and every library `ldd` names for it, at the paths the loader looks in. */
async function readClient(dir: string, seen: InputIdentities): Promise<PayloadFile[]> {
  const client = path.join(dir, DEMO_CLIENT_NAME);
  const out: PayloadFile[] = [
    {
      guestPath: path.posix.join(GUEST_BIN_DIR, DEMO_CLIENT_NAME),
      bytes: await readInput(client, 'demo client', seen),
      mode: 0o755,
    },
  ];
  // What ldd resolves depends on the loader's cache and the folders it searches: a library
  // installed or removed there changes a folder's mtime or the cache.
  await seen.note(LOADER_CACHE);
  for (const lib of await libraryClosure(client)) {
    await seen.note(path.dirname(lib.path));
    // readFile follows the symlinks ldd names (libc.so.6 -> …): the guest gets the file itself.
    out.push({
      guestPath: lib.path,
      bytes: await readInput(lib.path, 'library', seen),
      mode: 0o755,
    });
  }
  return out;
}

/** How recent a change makes an input's identity untrustworthy (see `InputIdentities.note`). */
const RACY_WINDOW_NS = 2_000_000_000n;

/** The dynamic loader's cache, which `ldd` consults first. */
const LOADER_CACHE = '/etc/ld.so.cache';

/** An input file's identity: what the fast path of `ensureDemoGuest` compares. */
interface InputIdentity {
  path: string;
  /** `dev:ino:size:mtimeNs:ctimeNs` (stat, following symlinks), `absent`, or `racy`. */
  id: string;
}

/** What the stamp file records about the inputs of its build. */
interface RecordedInputs {
  /** The options the inputs came from (see `ensureDemoGuest`). */
  key: string;
  payloadBytes: number;
  files: InputIdentity[];
}

function identityOf(st: BigIntStats | null): string {
  if (st === null) return 'absent';
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

async function statIdentity(file: string): Promise<string> {
  try {
    return identityOf(await fs.stat(file, { bigint: true }));
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return identityOf(null);
    throw e;
  }
}

/** The identities of the inputs one full check read, each taken before its bytes. */
class InputIdentities {
  private readonly byPath = new Map<string, string>();

  async note(file: string): Promise<void> {
    if (this.byPath.has(file)) return;
    let st: BigIntStats | null = null;
    try {
      st = await fs.stat(file, { bigint: true });
    } catch (e) {
      if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR')) throw e;
    }
    // File times have the kernel tick's granularity: a write in the same tick as this stat,
    // after the read, would leave the identity unchanged. A file changed in the last seconds is
    // recorded as never matching (as git treats "racy" index entries); the next full check,
    // once it has settled, records it.
    const settled = st === null || BigInt(Date.now()) * 1_000_000n - st.ctimeNs > RACY_WINDOW_NS;
    this.byPath.set(file, settled ? identityOf(st) : 'racy');
  }

  list(): InputIdentity[] {
    return [...this.byPath].map(([p, id]) => ({ path: p, id }));
  }
}

async function identitiesMatch(files: readonly InputIdentity[]): Promise<boolean> {
  if (files.length === 0) return false;
  try {
    const now = await Promise.all(files.map((f) => statIdentity(f.path)));
    return now.every((id, i) => id === files[i]!.id);
  } catch {
    return false;
  }
}

async function readInput(file: string, what: string, seen?: InputIdentities): Promise<Buffer> {
  try {
    await seen?.note(file);
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
  return (await readStampFile(rootfs))?.stamp ?? null;
}

/** The stamp file's stamp, and its record of the inputs when it has a well-formed one. */
async function readStampFile(
  rootfs: string,
): Promise<{ stamp: string; inputs?: RecordedInputs } | null> {
  try {
    const parsed: unknown = JSON.parse(
      await fs.readFile(path.join(rootfs, DEMO_GUEST_STAMP_FILE), 'utf8'),
    );
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { stamp, inputs } = parsed as { stamp?: unknown; inputs?: unknown };
    if (typeof stamp !== 'string') return null;
    return isRecordedInputs(inputs) ? { stamp, inputs } : { stamp };
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

function isRecordedInputs(v: unknown): v is RecordedInputs {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<RecordedInputs>;
  return (
    typeof r.key === 'string' &&
    typeof r.payloadBytes === 'number' &&
    Number.isSafeInteger(r.payloadBytes) &&
    r.payloadBytes >= 0 &&
    Array.isArray(r.files) &&
    r.files.every(
      (f: unknown) =>
        typeof f === 'object' &&
        f !== null &&
        typeof (f as InputIdentity).path === 'string' &&
        typeof (f as InputIdentity).id === 'string',
    )
  );
}

function stampText(stamp: string, inputs: RecordedInputs): string {
  return JSON.stringify({ builderVersion: DEMO_GUEST_BUILDER_VERSION, stamp, inputs }) + '\n';
}

/**
 * Replaces the stamp file of a finished tree (same stamp, new input identities) by a rename, so
 * a reader sees the old or the new file whole. Best effort: a tree this caller may not write
 * (another user's, a read-only folder) keeps its record and only loses the fast path.
 */
async function rewriteStampFile(
  rootfs: string,
  stamp: string,
  inputs: RecordedInputs,
): Promise<void> {
  const file = path.join(rootfs, DEMO_GUEST_STAMP_FILE);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFile(tmp, stampText(stamp, inputs), { mode: 0o644, flag: 'wx' });
    await fs.chmod(tmp, 0o644);
    await fs.rename(tmp, file);
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}

interface TreeInputs {
  init: Buffer;
  busyboxBytes: Buffer;
  applets: string[];
  stamp: string;
  inputs: RecordedInputs;
  files: PayloadFile[];
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

  for (const f of inputs.files) {
    const target = path.join(dir, f.guestPath);
    // Library paths may run through folders the skeleton lacks (/lib/x86_64-linux-gnu).
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    await fs.writeFile(target, f.bytes, { mode: f.mode, flag: 'wx' });
    await fs.chmod(target, f.mode);
  }

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
    stampText(inputs.stamp, inputs.inputs),
    {
      mode: 0o644,
    },
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
