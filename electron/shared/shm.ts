/**
 * What the shared-memory inspector reports (`shm:inspect`): the ashmem, memfd and dmabuf regions
 * the container's processes have mapped, and the display bridge's per-client counters. Plain
 * data, imported by core (which fills it) and the renderer (which shows it).
 */

/** The kind of a shared-memory mapping, from its path in `/proc/<pid>/maps`. */
export type ShmKind = 'memfd' | 'ashmem' | 'dmabuf';

/** One mapping of a shared-memory region in one process. */
export interface ShmRegion {
  /** The region's name: `wayland-shm` for `/memfd:wayland-shm (deleted)`, `""` for a bare `/dev/ashmem`. */
  name: string;
  kind: ShmKind;
  /** Bytes mapped (end − start of the mapping, not the size of the whole region). */
  size: number;
  /** `maps` permissions, e.g. `rw-s` (`s` shared, `p` private copy-on-write). */
  perms: string;
  /** Inode of the backing file: mappings of one region share it. */
  inode: number;
}

/** One container process and its shared-memory mappings. */
export interface ShmProcess {
  pid: number;
  /** `/proc/<pid>/comm`, cleaned; `""` when unreadable. */
  comm: string;
  regions: ShmRegion[];
  /** True when the maps file or the region list hit a cap and was cut short. */
  truncated: boolean;
}

/** Sums over every listed process. */
export interface ShmTotals {
  processes: number;
  regions: number;
  /** Bytes mapped, over every mapping (a region mapped twice counts twice). */
  bytes: number;
  /** Bytes per kind. */
  byKind: Record<ShmKind, number>;
  /** Distinct regions (by device and inode) and the largest mapping of each, summed. */
  distinctRegions: number;
  distinctBytes: number;
}

/** What could not be read, so a short list can be told from an empty one. */
export interface ShmReadProblems {
  /** Processes that exited (or became unreadable) between listing and reading. */
  vanished: number;
  /** `maps` lines that did not parse. */
  malformedLines: number;
  /** Processes left out because the process cap was reached. */
  processesOmitted: number;
}

/** The display bridge's counters for one guest client. */
export interface ShmBridgeClient {
  clientId: number;
  pid: number;
  connected: boolean;
  disconnectReason: string | null;
  /** Buffers attached and committed, by kind. */
  buffersForwarded: { shm: number; dmabuf: number };
  /** Bytes of pixels the bridge copied (0: buffers are forwarded by fd). */
  bytesCopied: number;
  /** Pool fds and requests refused, summed over every reason. */
  rejections: number;
  /** The same, per reason (`unsealed`, `too-small`, …). */
  rejectionsByReason: Record<string, number>;
}

/** The answer of `shm:inspect`. */
export interface ShmReport {
  /** The instance inspected and whether its session runs. */
  instance: string;
  running: boolean;
  /** Where the process list came from. */
  source: 'cgroup' | 'pid-namespace' | 'none';
  processes: ShmProcess[];
  totals: ShmTotals;
  problems: ShmReadProblems;
  /** Per-client bridge counters, or null when no bridge runs or it cannot be asked. */
  bridge: ShmBridgeClient[] | null;
  /** When the report was taken (ms since the epoch). */
  takenAt: number;
}
