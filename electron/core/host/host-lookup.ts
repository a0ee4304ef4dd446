/**
 * Look-ups several checks share, over a `HostProbe`: reading a text file that may be absent,
 * finding a program the way a shell would (plus the sbin directories a normal user's PATH
 * lacks), and finding a kernel module for the running kernel.
 */
import type { HostProbe } from './host-probe.js';

/** Text of a file, or null when it does not exist or cannot be read. */
export async function readTextOrNull(
  host: HostProbe,
  path: string,
  maxBytes?: number,
): Promise<string | null> {
  try {
    return (await host.readFile(path, maxBytes)).toString('utf8');
  } catch {
    return null;
  }
}

/** Searched after `$PATH`: privileged tools live here, and Debian leaves them off a user's PATH. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * Absolute path of the first executable regular file called `name` in `$PATH`, then in the sbin
 * directories; null when there is none. Relative and empty `$PATH` entries are ignored.
 */
export async function findExecutable(host: HostProbe, name: string): Promise<string | null> {
  const dirs = [...(host.env.PATH ?? '').split(':'), ...SBIN_DIRS].filter((d) => d.startsWith('/'));
  for (const dir of new Set(dirs)) {
    const path = `${dir.replace(/\/+$/, '')}/${name}`;
    const s = await host.stat(path);
    if (s !== null && s.type === 'file' && (s.mode & 0o111) !== 0) return path;
  }
  return null;
}

/** Where a kernel module was found for the running kernel. */
export type KernelModuleStatus =
  | { status: 'builtin' }
  | { status: 'module'; path: string }
  | { status: 'absent' }
  | { status: 'no-modules'; dir: string };

/** `modules.dep` of a distribution kernel is about 1 MiB. */
const MAX_MODULES_LIST_BYTES = 16 * 1024 * 1024;

/**
 * Looks `name` (e.g. `'binder_linux'`; `-` and `_` are the same, as for modprobe) up in
 * `/lib/modules/<release>/modules.builtin` and `modules.dep`.
 */
export async function findKernelModule(host: HostProbe, name: string): Promise<KernelModuleStatus> {
  const dir = `/lib/modules/${host.kernelRelease}`;
  const wanted = name.replace(/-/g, '_');
  const matches = (path: string): boolean => {
    const file = path.slice(path.lastIndexOf('/') + 1);
    const base = file.replace(/\.ko(\.(xz|zst|gz))?$/, '');
    return base !== file && base.replace(/-/g, '_') === wanted;
  };
  const builtin = await readTextOrNull(host, `${dir}/modules.builtin`, MAX_MODULES_LIST_BYTES);
  const dep = await readTextOrNull(host, `${dir}/modules.dep`, MAX_MODULES_LIST_BYTES);
  if (builtin === null && dep === null) return { status: 'no-modules', dir };
  if (builtin !== null && builtin.split('\n').some((line) => matches(line.trim())))
    return { status: 'builtin' };
  for (const line of (dep ?? '').split('\n')) {
    const path = line.slice(0, line.indexOf(':') < 0 ? line.length : line.indexOf(':')).trim();
    if (matches(path))
      return { status: 'module', path: path.startsWith('/') ? path : `${dir}/${path}` };
  }
  return { status: 'absent' };
}
