/**
 * `/proc/<pid>/mountinfo` parsing (proc(5)) and the cgroup layout derived from it: v1 (only
 * legacy hierarchies), v2 (only the unified hierarchy) or hybrid (legacy controller hierarchies
 * plus a unified one, as systemd's hybrid mode mounts them). Pure functions over text.
 */
import { ParseError } from './parse-error.js';

/** Error code of malformed mountinfo text. */
export const MOUNTINFO_ERROR_CODE = 'EMOUNTINFO';

/** One line of mountinfo, with the octal escapes (`\040` …) of paths decoded. */
export interface MountEntry {
  mountId: number;
  parentId: number;
  /** `major:minor` of the backing device. */
  device: string;
  /** Root of the mount within its filesystem. */
  root: string;
  mountPoint: string;
  mountOptions: string[];
  /** Optional fields (`shared:1`, `master:2` …). */
  optionalFields: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Longest mountinfo text accepted (a host with thousands of mounts stays far below this). */
export const MAX_MOUNTINFO_BYTES = 8 * 1024 * 1024;

/**
 * Parses mountinfo text into one entry per line. Throws a `ParseError` (code `'EMOUNTINFO'`)
 * naming the line for a line with too few fields, a missing `-` separator, non-numeric ids, a
 * bad escape, or text longer than `MAX_MOUNTINFO_BYTES`.
 */
export function parseMountInfo(text: string): MountEntry[] {
  if (text.length > MAX_MOUNTINFO_BYTES) {
    throw new ParseError(
      MOUNTINFO_ERROR_CODE,
      `mountinfo is longer than ${MAX_MOUNTINFO_BYTES} bytes`,
    );
  }
  const entries: MountEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.length === 0) continue;
    entries.push(parseLine(line, i + 1));
  }
  return entries;
}

function parseLine(line: string, lineNo: number): MountEntry {
  const fail = (what: string): never => {
    throw new ParseError(MOUNTINFO_ERROR_CODE, `mountinfo line ${lineNo}: ${what}`);
  };
  const fields = line.split(' ');
  const separator = fields.indexOf('-', 6);
  if (fields.length < 10) fail(`expected at least 10 fields, got ${fields.length}`);
  if (separator < 0) fail('missing the "-" separator after the optional fields');
  const tail = fields.slice(separator + 1);
  if (tail.length !== 3) fail(`expected 3 fields after "-", got ${tail.length}`);
  const [mountId, parentId, device, root, mountPoint, mountOptions] = fields;
  const id = (value: string | undefined, name: string): number => {
    if (value === undefined || !/^\d{1,10}$/.test(value)) fail(`${name} is not a number`);
    return Number(value);
  };
  if (device === undefined || !/^\d+:\d+$/.test(device)) fail('device is not major:minor');
  return {
    mountId: id(mountId, 'mount id'),
    parentId: id(parentId, 'parent id'),
    device: device as string,
    root: unescapeField(root ?? '', lineNo),
    mountPoint: unescapeField(mountPoint ?? '', lineNo),
    mountOptions: (mountOptions ?? '').split(','),
    optionalFields: fields.slice(6, separator),
    fsType: unescapeField(tail[0] ?? '', lineNo),
    source: unescapeField(tail[1] ?? '', lineNo),
    superOptions: (tail[2] ?? '').split(','),
  };
}

/** Decodes the kernel's `\ooo` escapes (space, tab, newline, backslash in paths). */
function unescapeField(field: string, lineNo: number): string {
  if (!field.includes('\\')) return field;
  return field.replace(/\\(.{0,3})/g, (_match, digits: string) => {
    if (!/^[0-3][0-7]{2}$/.test(digits)) {
      throw new ParseError(
        MOUNTINFO_ERROR_CODE,
        `mountinfo line ${lineNo}: bad escape "\\${digits}"`,
      );
    }
    return String.fromCharCode(parseInt(digits, 8));
  });
}

/** How the cgroup hierarchies of this host are mounted. */
export type CgroupLayoutKind = 'v1' | 'hybrid' | 'v2' | 'none';

export interface CgroupLayout {
  kind: CgroupLayoutKind;
  /** Legacy hierarchies with the controllers bound to each (named ones like `name=systemd` too). */
  v1: { mountPoint: string; controllers: string[]; name: string | null }[];
  /** Mount point of the unified hierarchy, or null. */
  v2MountPoint: string | null;
}

/** Options of a v1 cgroup mount that are mount flags, not controller names. */
const V1_NON_CONTROLLER_OPTIONS = new Set([
  'rw',
  'ro',
  'noprefix',
  'clone_children',
  'xattr',
  'cpuset_v2_mode',
  'nofavordynmods',
  'favordynmods',
]);

/**
 * Classifies the cgroup layout from parsed mountinfo: `hybrid` when legacy controller
 * hierarchies and a unified hierarchy are both mounted, `v1`/`v2` when only one kind is, `none`
 * when neither is. Legacy hierarchies without a controller (`name=systemd` only) do not make a
 * host hybrid: such a host keeps all its controllers on v2.
 */
export function cgroupLayout(mounts: readonly MountEntry[]): CgroupLayout {
  const v1: CgroupLayout['v1'] = [];
  const v2: string[] = [];
  for (const mount of mounts) {
    if (mount.fsType === 'cgroup2') {
      v2.push(mount.mountPoint);
    } else if (mount.fsType === 'cgroup') {
      const controllers: string[] = [];
      let name: string | null = null;
      for (const option of mount.superOptions) {
        if (option.startsWith('name=')) name = option.slice('name='.length);
        else if (option.startsWith('release_agent=') || V1_NON_CONTROLLER_OPTIONS.has(option))
          continue;
        else if (option.length > 0) controllers.push(option);
      }
      v1.push({ mountPoint: mount.mountPoint, controllers, name });
    }
  }
  // The conventional places first: /sys/fs/cgroup (v2), /sys/fs/cgroup/unified (hybrid).
  const v2MountPoint =
    v2.find((p) => p === '/sys/fs/cgroup') ??
    v2.find((p) => p === '/sys/fs/cgroup/unified') ??
    v2[0] ??
    null;
  const v1HasControllers = v1.some((h) => h.controllers.length > 0);
  let kind: CgroupLayoutKind;
  if (v1HasControllers) kind = v2MountPoint === null ? 'v1' : 'hybrid';
  else kind = v2MountPoint === null ? 'none' : 'v2';
  return { kind, v1, v2MountPoint };
}

/** One row of `/proc/cgroups`. */
export interface CgroupControllerRow {
  name: string;
  hierarchy: number;
  enabled: boolean;
}

/**
 * Parses `/proc/cgroups` (`#subsys_name hierarchy num_cgroups enabled`). Throws a `ParseError`
 * (code `'EMOUNTINFO'`) for a row that does not have four fields with numeric counts.
 */
export function parseProcCgroups(text: string): CgroupControllerRow[] {
  const rows: CgroupControllerRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const [name, hierarchy, count, enabled] = fields;
    if (
      fields.length !== 4 ||
      name === undefined ||
      !/^\d+$/.test(hierarchy ?? '') ||
      !/^\d+$/.test(count ?? '') ||
      !/^[01]$/.test(enabled ?? '')
    ) {
      throw new ParseError(
        MOUNTINFO_ERROR_CODE,
        `/proc/cgroups line ${i + 1}: expected "name hierarchy count 0|1"`,
      );
    }
    rows.push({ name, hierarchy: Number(hierarchy), enabled: enabled === '1' });
  }
  return rows;
}
