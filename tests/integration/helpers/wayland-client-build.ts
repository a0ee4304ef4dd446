/**
 * Builds a fixture Wayland client from C: the protocol headers and glue code `wayland-scanner`
 * generates from each protocol XML are made once into a cache folder shared by every test file
 * (keyed by the XML's content and the scanner's version), then the client is compiled with gcc
 * into the caller's folder.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The stable xdg-shell protocol, which almost every fixture client uses. */
export const XDG_SHELL_XML = '/usr/share/wayland-protocols/stable/xdg-shell/xdg-shell.xml';

export interface WaylandClientBuild {
  /** The client's C source. */
  source: string;
  /**
   * Protocol XMLs the client uses; for `foo.xml` the source includes `foo-client-protocol.h`
   * (or `foo-server-protocol.h`) and is linked with `foo`'s generated code.
   */
  protocols: readonly string[];
  /** Folder the binary is written to. */
  outDir: string;
  /** The binary's name (default: the source's name without `.c`). */
  name?: string;
  /** More compiler arguments (`-DNAME`, `-std=c11`), after `-O2 -Wall -Wextra -Werror`. */
  cflags?: readonly string[];
  /** Libraries to link (default `-lwayland-client`). */
  libs?: readonly string[];
}

/** The cache folder, made by and only writable by this user (it is shared through /tmp). */
function cacheRoot(): string {
  const uid = process.getuid?.() ?? 0;
  const root = join(tmpdir(), `droidway-wayland-protocols-${uid}`);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const st = lstatSync(root);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`${root} is not a folder of uid ${uid} that only its owner can write`);
  }
  return root;
}

let scannerVersion: Promise<string> | null = null;

/** `wayland-scanner --version` (it prints to stderr), so an upgrade regenerates the code. */
function waylandScannerVersion(): Promise<string> {
  scannerVersion ??= run('wayland-scanner', ['--version']).then((r) =>
    `${r.stdout}${r.stderr}`.trim(),
  );
  return scannerVersion;
}

const generated = new Map<string, Promise<string>>();

/**
 * The cache folder holding `<name>-client-protocol.h`, `<name>-server-protocol.h` and
 * `<name>-protocol.c` for `xml`, made first if absent. Several test files may ask at once: each
 * makes its own temporary folder and renames it into place, and a loser of that race uses the
 * winner's.
 */
export function waylandProtocolDir(xml: string): Promise<string> {
  let dir = generated.get(xml);
  if (dir === undefined) {
    dir = generate(xml);
    generated.set(xml, dir);
  }
  return dir;
}

async function generate(xml: string): Promise<string> {
  const name = basename(xml, '.xml');
  const key = createHash('sha256')
    .update(await waylandScannerVersion())
    .update('\0')
    .update(readFileSync(xml))
    .digest('hex')
    .slice(0, 16);
  const root = cacheRoot();
  const dir = join(root, `${name}-${key}`);
  if (existsSync(dir)) return dir;
  const staging = mkdtempSync(join(root, `.incoming-${name}-`));
  try {
    await run('wayland-scanner', [
      'client-header',
      xml,
      join(staging, `${name}-client-protocol.h`),
    ]);
    await run('wayland-scanner', [
      'server-header',
      xml,
      join(staging, `${name}-server-protocol.h`),
    ]);
    await run('wayland-scanner', ['private-code', xml, join(staging, `${name}-protocol.c`)]);
    try {
      renameSync(staging, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

/** Compiles the client of `build` and returns the binary's path. */
export async function buildWaylandClient(build: WaylandClientBuild): Promise<string> {
  const dirs = await Promise.all(build.protocols.map(waylandProtocolDir));
  const out = join(build.outDir, build.name ?? basename(build.source, '.c'));
  await run('gcc', [
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    ...(build.cflags ?? []),
    ...dirs.map((dir) => `-I${dir}`),
    '-o',
    out,
    build.source,
    ...build.protocols.map((xml, i) => join(dirs[i]!, `${basename(xml, '.xml')}-protocol.c`)),
    ...(build.libs ?? ['-lwayland-client']),
  ]);
  return out;
}

/**
 * Builds the demo guest client with `DROIDWAY_DEMO_HOSTILE_CLIPBOARD`, which abuses the clipboard
 * protocol on Ctrl+V as `DROIDWAY_DEMO_HOSTILE` says, into `outDir`; returns the binary's path.
 */
export function buildHostileDemoClient(outDir: string): Promise<string> {
  return buildWaylandClient({
    source: join(import.meta.dirname, '../../../native/guest/droidway-demo-client.c'),
    protocols: [XDG_SHELL_XML],
    outDir,
    name: 'hostile-demo-client',
    cflags: ['-std=c11', '-DDROIDWAY_DEMO_HOSTILE_CLIPBOARD'],
  });
}
