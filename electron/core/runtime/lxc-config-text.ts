/**
 * What the runtime reads from, and adds to, a ready LXC config text (the policy compiler writes
 * the rest). It reads the rootfs path (to check it) and the root id mapping (to let the guest's
 * root write its run dir); it adds the mounts it owns: a tmpfs on `/run` and the host folder at
 * `/run/droidway` where init writes its ready marker, the image's extra mounts, and the seccomp
 * profile it was handed.
 */
import { RuntimeError } from './runtime-errors.js';

/** Longest config text accepted. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** One `key = value` line. */
export interface ConfigLine {
  key: string;
  value: string;
  line: number;
}

function invalid(message: string): never {
  throw new RuntimeError('LXC_CONFIG_INVALID', message);
}

/**
 * Splits config text into `key = value` lines, skipping blanks and `#` comments. Throws
 * `RuntimeError` (`LXC_CONFIG_INVALID`) for NUL characters, oversize text, or a line that is
 * not `lxc.KEY = VALUE`.
 */
export function parseLxcConfig(text: string): ConfigLine[] {
  if (text.length > MAX_CONFIG_BYTES)
    invalid(`LXC config is longer than ${MAX_CONFIG_BYTES} bytes`);
  if (text.includes('\0')) invalid('LXC config contains a NUL character');
  const out: ConfigLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(lxc\.[A-Za-z0-9_.]+)\s*=\s*(.*)$/.exec(line);
    if (!m) invalid(`LXC config line ${i + 1} is not "lxc.KEY = VALUE"`);
    out.push({ key: m[1]!, value: m[2]!, line: i + 1 });
  });
  return out;
}

/**
 * The rootfs directory named by `lxc.rootfs.path` (`dir:/p` or `/p`). Throws
 * `LXC_CONFIG_INVALID` when there is none, more than one, or it is not an absolute directory path.
 */
export function configRootfs(lines: readonly ConfigLine[]): string {
  const values = lines.filter((l) => l.key === 'lxc.rootfs.path');
  if (values.length !== 1)
    invalid(`LXC config must set lxc.rootfs.path exactly once, found ${values.length}`);
  const value = values[0]!.value;
  const p = value.startsWith('dir:') ? value.slice(4) : value;
  if (!p.startsWith('/') || p.includes(':'))
    invalid(`lxc.rootfs.path ${JSON.stringify(value)} is not a dir: rootfs path`);
  return p;
}

/**
 * Host uid and gid that container root (id 0) maps to through `lxc.idmap`, or the host's own
 * root when the config maps no ids (no user namespace).
 */
export function configRootIds(lines: readonly ConfigLine[]): { uid: number; gid: number } {
  const ids = { uid: 0, gid: 0 };
  for (const l of lines) {
    if (l.key !== 'lxc.idmap') continue;
    const m = /^([ug])\s+([0-9]+)\s+([0-9]+)\s+([0-9]+)$/.exec(l.value);
    if (!m) invalid(`lxc.idmap on line ${l.line} is not "u|g CONTAINER HOST COUNT"`);
    const [, kind, inside, host, count] = m;
    const first = Number(inside);
    if (first === 0 && Number(count) > 0) {
      if (kind === 'u') ids.uid = Number(host);
      else ids.gid = Number(host);
    }
  }
  return ids;
}

/** What the runtime adds to a config. */
export interface RuntimeConfigAdditions {
  /** Host folder mounted at `/run/droidway` in the guest. */
  guestRunDir: string;
  /** Extra `lxc.mount.entry` values (the image's host mounts). */
  extraMountEntries: readonly string[];
  /** Seccomp profile file the runtime wrote, when it was handed one. */
  seccompFile?: string;
  /** Variables of the guest init's environment (`lxc.environment`). */
  environment?: Readonly<Record<string, string>>;
}

/**
 * Returns `text` with the runtime's lines appended. Throws `LXC_CONFIG_INVALID` when a path or
 * mount entry holds a newline or NUL (it would inject config lines), or when the config already
 * names a seccomp profile while the runtime was handed one too.
 */
export function withRuntimeAdditions(
  text: string,
  lines: readonly ConfigLine[],
  add: RuntimeConfigAdditions,
): string {
  const unsafe = (s: string): boolean => /[\n\r\0]/.test(s);
  if (unsafe(add.guestRunDir) || /\s/.test(add.guestRunDir))
    invalid('guest run dir path contains whitespace');
  for (const entry of add.extraMountEntries) {
    if (unsafe(entry) || entry.trim() === '')
      invalid(`mount entry ${JSON.stringify(entry.slice(0, 80))} is empty or holds a line break`);
  }
  const extra = [
    '',
    '# Added by the Droidway runtime',
    'lxc.mount.entry = tmpfs run tmpfs rw,nosuid,nodev,noexec,mode=755,size=16m 0 0',
    `lxc.mount.entry = ${add.guestRunDir} run/droidway none bind,create=dir,nosuid,nodev,noexec 0 0`,
    ...add.extraMountEntries.map((e) => `lxc.mount.entry = ${e}`),
  ];
  for (const [name, value] of Object.entries(add.environment ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || unsafe(value))
      invalid(`environment variable ${JSON.stringify(name.slice(0, 40))} is not a safe name=value`);
    extra.push(`lxc.environment = ${name}=${value}`);
  }
  if (add.seccompFile !== undefined) {
    if (unsafe(add.seccompFile) || /\s/.test(add.seccompFile))
      invalid('seccomp profile path contains whitespace');
    if (lines.some((l) => l.key === 'lxc.seccomp.profile')) {
      invalid(
        'the LXC config already sets lxc.seccomp.profile; pass the profile either in the config or to the session, not both',
      );
    }
    extra.push(`lxc.seccomp.profile = ${add.seccompFile}`);
  }
  return `${text.endsWith('\n') ? text : `${text}\n`}${extra.join('\n')}\n`;
}
