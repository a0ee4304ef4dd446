/**
 * Exactly what `native/build/Release/droidway_native.node` exports.
 *
 * Every function throws a `NativeError` on failure: a JS `Error` whose `code` is the errno name
 * (`'EPERM'`, `'EINVAL'`, …), whose `errno` is the negative errno value and whose `syscall`
 * names the failing call. Arguments are validated by the TypeScript facade in
 * `electron/core/native/` before they reach this layer; the C++ side checks them again and
 * throws `TypeError`/`RangeError` for anything malformed.
 *
 * File descriptors cross this boundary as plain integers. The side that receives one owns it and
 * must close it (`closeFd` or `fs.closeSync`). Every fd the module creates is `O_CLOEXEC`.
 */

export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

/** Which kernel mechanism backs an ashmem region. */
export type AshmemBackend = 'ashmem' | 'memfd';

export interface AshmemRegion {
  fd: number;
  backend: AshmemBackend;
}

/** Seal names as `F_GET_SEALS` reports them. */
export type SealName = 'seal' | 'shrink' | 'grow' | 'write' | 'future-write' | 'exec';

export type FdKind = 'memfd' | 'ashmem' | 'dmabuf' | 'file' | 'socket' | 'pipe' | 'other';

export interface FdInfo {
  kind: FdKind;
  /** `st_size` for regular files; `ASHMEM_GET_SIZE` for ashmem; `lseek(SEEK_END)` for dmabuf; else 0. */
  size: number;
  /** Seals from `F_GET_SEALS`; `null` when the fd does not support sealing. */
  seals: SealName[] | null;
  /** Filesystem name from `fstatfs` magic (`'tmpfs'`, `'hugetlbfs'`, `'ext4'`, `'sockfs'`, …) or `'0x…'`. */
  fsType: string;
  /** Raw `f_type` from `fstatfs`. */
  fsMagic: number;
  /** Target of `/proc/self/fd/<fd>` (`'/memfd:name (deleted)'`, `'pipe:[123]'`, …). */
  link: string;
  /** `st_mode` (type and permission bits). */
  mode: number;
  /** `fcntl(F_GETFL)` access mode: `'r'`, `'w'` or `'rw'`. */
  access: 'r' | 'w' | 'rw';
}

export interface MappingOptions {
  /** Map `PROT_READ|PROT_WRITE` (shared) instead of `PROT_READ`. */
  writable: boolean;
  /** Byte offset into the fd; a multiple of the page size. */
  offset: number;
  /** Length in bytes, > 0. */
  length: number;
}

/** A shared mapping of an fd. `buffer` is detached and the memory unmapped by `unmap()`. */
export declare class Mapping {
  private constructor();
  readonly length: number;
  readonly writable: boolean;
  /** The mapped bytes; throws once unmapped. */
  readonly buffer: ArrayBuffer;
  /** Unmaps now; idempotent. The finalizer unmaps too if this is never called. */
  unmap(): void;
  readonly mapped: boolean;
}

export interface ReceivedMessage {
  /** The bytes received (may be fewer than requested; 0 bytes and no fds means the peer closed). */
  data: Buffer;
  /** fds received, in order, each `O_CLOEXEC` (`MSG_CMSG_CLOEXEC`) and owned by the caller. */
  fds: number[];
  /** fds that arrived past `maxFds` and were closed by the receiver. */
  fdsDropped: number;
  /** The kernel set `MSG_CTRUNC`: fds it could not deliver were discarded by the kernel. */
  controlTruncated: boolean;
  /** The kernel set `MSG_TRUNC` (datagram longer than `maxBytes`). */
  dataTruncated: boolean;
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** Globals the display bridge can relay (`bridgeSupportedGlobals`). */
export type BridgeGlobalName =
  | 'wl_compositor'
  | 'wl_subcompositor'
  | 'wl_shm'
  | 'wl_output'
  | 'wl_seat'
  | 'xdg_wm_base'
  | 'wp_viewporter'
  | 'wp_presentation'
  /** Offered only when the host has it at version ≥ 3; offered at most at version 3. */
  | 'zwp_linux_dmabuf_v1'
  /** Relative pointer motion and pointer lock/confine (Android's hwcomposer binds both). */
  | 'zwp_relative_pointer_manager_v1'
  | 'zwp_pointer_constraints_v1'
  /** The host output's fractional scale (HiDPI at 125 %, 150 %…), where the host offers it. */
  | 'wp_fractional_scale_manager_v1'
  /**
   * Pen tablets and pads (Android's hwcomposer binds it when offered); device paths are not
   * passed on and pad feedback strings are sanitized like titles.
   */
  | 'zwp_tablet_manager_v2';

/** Per-client caps; exceeding one disconnects that client with a protocol error. */
export interface BridgeLimits {
  /** Live relayed objects (default 4096, 1..2^20). */
  maxObjects?: number;
  /** Live `wl_shm_pool`s (default 64). */
  maxPools?: number;
  /** Live `wl_buffer`s (default 256). */
  maxBuffers?: number;
  /** Live `wl_surface`s (default 128). */
  maxSurfaces?: number;
  /** fds the bridge keeps open for the client: shm pools, dma-buf planes (default 256). */
  maxFds?: number;
  /** `wl_region.add`/`subtract` calls on one region; one more ends the client (default 256). */
  maxRegionRects?: number;
  /**
   * Damage rectangles of one surface per commit (default 256): the last one forwarded becomes
   * a damage of the whole surface and the rest are dropped (counted in `damageRectsDropped`).
   */
  maxDamageRects?: number;
}

/** Which way clipboard selections may travel between host and guest. */
export type BridgeClipboardMode = 'off' | 'host-to-guest' | 'both';

/**
 * The clipboard relay (`wl_data_device_manager`). With `'off'` the global is not offered; else
 * it is offered with `wl_seat`. Host selections reach the guest only while its window has
 * keyboard focus; each transfer runs through a pipe of the bridge's own, checked and cut at
 * `maxBytes`. Drag-and-drop is not relayed.
 */
export interface BridgeClipboard {
  mode: BridgeClipboardMode;
  /** MIME types that may cross (exact strings, printable ASCII, 1..255 bytes, at most 32). */
  mimeTypes: string[];
  /** Bytes of one transfer, 1..2^30; the rest is cut. */
  maxBytes: number;
}

/** Options of `new DisplayBridge` (the facade `electron/core/display/bridge.ts` fills them in). */
export interface BridgeNativeOptions {
  /** Absolute path of the guest-facing socket; must not exist; removed on stop. */
  socketPath: string;
  /** `0o600` (default) or `0o660`, applied before the socket listens. */
  socketMode?: number;
  /** Absolute path of the host compositor's socket. */
  hostSocketPath: string;
  /** Globals the guest may see; each must be in `bridgeSupportedGlobals`. */
  globals: BridgeGlobalName[];
  /**
   * Pools must not be shrinkable under the host (default true): the bridge seals a sealable
   * memfd itself (`F_SEAL_SHRINK | F_SEAL_GROW`), copies an unsealable one of at most 64 KiB into
   * a sealed memfd of its own (counted in `bytesCopied`) and refuses larger ones (`'unsealed'`).
   */
  requireSealed?: boolean;
  /** Guest clients served at once (default 16). */
  maxClients?: number;
  /** Guest clients one uid may hold at once (0, the default: half of `maxClients`, rounded up). */
  maxClientsPerUid?: number;
  /** A connection that has not completed its first request by then is dropped, in ms (default 2000). */
  firstRequestTimeoutMs?: number;
  /** Bound on the bridge thread's startup waits for the host compositor, in ms (default 5000). */
  hostTimeoutMs?: number;
  /**
   * Longest poll for the next message before the bridge thread sleeps, in µs, 0..1000 (default
   * 200; 0: never poll). The window opens only while messages come densely (see
   * native/src/bridge/adaptive_poll.h).
   */
  pollMaxUs?: number;
  limits?: BridgeLimits;
  /** Default: `mode: 'off'` (a policy always sets it). */
  clipboard?: BridgeClipboard;
}

/**
 * The bridge's settings as the policy compiler produces them: the part of `BridgeNativeOptions`
 * a policy decides. It travels unchanged from the compiled policy to the native bridge.
 */
export type BridgeSettings = Required<
  Pick<
    BridgeNativeOptions,
    | 'globals'
    | 'requireSealed'
    | 'maxClients'
    | 'maxClientsPerUid'
    | 'firstRequestTimeoutMs'
    | 'pollMaxUs'
    | 'clipboard'
  >
> & {
  limits: Required<BridgeLimits>;
};

/**
 * The configuration line of the `droidway-bridge` process (`native/bridge-process`): the native
 * options plus what the process does around the bridge. It is parsed strictly there, once.
 */
export interface BridgeProcessConfig extends BridgeNativeOptions {
  /** Owner and group given to the guest socket before it listens (the guest's mapped ids). */
  socketUid?: number;
  socketGid?: number;
  /** Required when the process starts as root: the ids it becomes once set up (never 0). */
  runAsUid?: number;
  runAsGid?: number;
  /** `RLIMIT_AS` once set up, in MiB (default 256, 32..65536). */
  memoryLimitMiB?: number;
}

/** The configuration a bridge process runs with, as its 'ready' line reports it. */
export type BridgeEffectiveConfig = Required<
  Omit<BridgeProcessConfig, 'socketUid' | 'socketGid' | 'runAsUid' | 'runAsGid'>
> &
  Pick<BridgeProcessConfig, 'socketUid' | 'socketGid' | 'runAsUid' | 'runAsGid'> & {
    limits: Required<BridgeLimits>;
  };

/** A notification from the bridge thread, delivered on the JS thread. */
export type BridgeEvent =
  | { type: 'ready'; globals: { interface: string; version: number }[] }
  | { type: 'client-connected'; clientId: number; pid: number; uid: number }
  | { type: 'client-disconnected'; clientId: number; reason: string }
  | {
      type: 'toplevel-mapped' | 'toplevel-unmapped';
      clientId: number;
      appId: string;
      title: string;
    }
  | { type: 'violation'; clientId: number; reason: string; message: string }
  | { type: 'host-lost'; reason: string; message: string }
  | { type: 'error'; reason: string; message: string }
  | { type: 'stopped'; reason: 'stopped' | 'host-lost' | 'error' };

/** Counters of one guest client (kept for the last 256 disconnected clients too). */
export interface BridgeClientStats {
  clientId: number;
  pid: number;
  uid: number;
  connected: boolean;
  /**
   * `'disconnected'`, `'violation:<reason>'`, `'host-error'`, `'too-many-clients'`,
   * `'too-many-clients-for-uid'`, `'first-request-timeout'`, `'no-memory'`, …; null while
   * connected.
   */
  disconnectReason: string | null;
  commits: number;
  /** Buffers attached and committed, by kind. */
  buffersForwarded: { shm: number; dmabuf: number };
  /** Bytes the bridge copied from small unsealable pools into sealed memfds of its own. */
  bytesCopied: number;
  /** Damage rectangles not forwarded: past `maxDamageRects` in one commit. */
  damageRectsDropped: number;
  objects: number;
  pools: number;
  buffers: number;
  surfaces: number;
  /** Pool fds refused, by reason (`'unsealed'`, `'too-small'`, `'not-tmpfs'`, `'not-shm-file'`, …). */
  fdsRejected: Record<string, number>;
  /** Every policy violation, by reason (fd reasons included). */
  violations: Record<string, number>;
}

export interface BridgeStats {
  running: boolean;
  clientsTotal: number;
  /**
   * The loop's polling before it sleeps: ns spent, ns of work that paid for it (polling is held
   * to 8 ns per ns of work), polls that found a message, polls that did not.
   */
  poll: { ns: number; workNs: number; hits: number; misses: number };
  clients: BridgeClientStats[];
}

/**
 * One display bridge session on its own thread. The constructor binds the socket and starts the
 * thread (throws a `NativeError` when the socket cannot be bound, `TypeError`/`RangeError` for bad
 * options); the host connection is made on the thread, which then emits `'ready'` or `'error'`.
 * A running bridge keeps the process alive until `stop()`.
 */
export declare class DisplayBridge {
  constructor(options: BridgeNativeOptions, onEvent: (event: BridgeEvent) => void);
  /** Disconnects every guest, closes the host connections, removes the socket; joins the thread. Idempotent. */
  stop(): void;
  stats(): BridgeStats;
}

export interface DroidwayNative {
  /** `NAPI_VERSION` the module was built against. */
  readonly napiVersion: number;

  /**
   * Creates a named shared-memory region of a fixed size with Android's semantics.
   * `backend: 'auto'` uses `/dev/ashmem` when it exists and opens, else a memfd
   * (`memfd_create(name, MFD_CLOEXEC|MFD_ALLOW_SEALING)`, `ftruncate(size)`,
   * seals `F_SEAL_GROW|F_SEAL_SHRINK`).
   */
  ashmemCreate(name: string, size: number, backend: 'auto' | AshmemBackend): AshmemRegion;
  /**
   * Makes the region read-only for every future mapping: `F_SEAL_FUTURE_WRITE` on a memfd,
   * `ASHMEM_SET_PROT_MASK(PROT_READ)` on `/dev/ashmem`. Existing mappings keep their rights.
   */
  ashmemSetReadOnly(fd: number): void;
  /** Region size: `ASHMEM_GET_SIZE` on `/dev/ashmem`, `fstat` size on a memfd. */
  ashmemGetSize(fd: number): number;
  /** Whether `/dev/ashmem` exists and opens on this host. */
  ashmemDeviceAvailable(): boolean;

  /** Classifies an fd for the display bridge's buffer checks. */
  inspectFd(fd: number): FdInfo;

  /** `mmap(MAP_SHARED)` of `fd`. */
  mapFd(fd: number, options: MappingOptions): Mapping;

  /** `socketpair(AF_UNIX, SOCK_STREAM|SOCK_SEQPACKET, 0)` with `SOCK_CLOEXEC`. */
  socketPair(type: 'stream' | 'seqpacket'): [number, number];
  /**
   * Sends `data` (at least 1 byte) with `fds` attached as one `SCM_RIGHTS` message
   * (at most 253 fds, the kernel's `SCM_MAX_FD`). Resolves with the bytes sent.
   * Runs off the JS thread; `timeoutMs` bounds the wait for the socket to become writable.
   */
  sendMessage(
    socketFd: number,
    data: Uint8Array,
    fds: number[],
    timeoutMs: number,
  ): Promise<number>;
  /**
   * Receives one message with up to `maxBytes` bytes and up to `maxFds` fds; extra fds are
   * closed and counted in `fdsDropped`. Runs off the JS thread; rejects with `ETIMEDOUT`
   * when nothing arrives within `timeoutMs`.
   */
  recvMessage(
    socketFd: number,
    maxBytes: number,
    maxFds: number,
    timeoutMs: number,
  ): Promise<ReceivedMessage>;
  /** `getsockopt(SO_PEERCRED)`. */
  peerCredentials(socketFd: number): PeerCredentials;

  /** `close(fd)`; throws on `EBADF`. */
  closeFd(fd: number): void;
  /** `ftruncate(fd, size)`; used to show that sealed regions refuse resizing. */
  truncateFd(fd: number, size: number): void;
  /** `setsid()`: a session of this process's own (throws `EPERM` for a process group leader). */
  newSession(): void;
  /** stdin from `/dev/null`, stdout and stderr onto `fd` (`dup2`); `fd` stays open. */
  replaceStdio(fd: number): void;
}

/** The display bridge's exports, also on the module (kept apart so each part can be faked alone). */
export interface DroidwayBridgeNative {
  /** The display bridge class (see `DisplayBridge`). */
  DisplayBridge: typeof DisplayBridge;
  /** Interface names the bridge can relay. */
  readonly bridgeSupportedGlobals: readonly BridgeGlobalName[];
  /**
   * Test hook: runs the bridge's linux-dmabuf checks (`add` for each plane in order, then
   * `create`) on borrowed fds, without a compositor. `hostFormats` stands for the host's
   * (format, modifier) table.
   */
  bridgeCheckDmabuf(
    planes: readonly BridgeDmabufPlane[],
    width: number,
    height: number,
    format: number,
    hostFormats: readonly (readonly [number, bigint])[],
  ): BridgeDmabufVerdict;
}

/** One `zwp_linux_buffer_params_v1.add` (the fd is borrowed). */
export interface BridgeDmabufPlane {
  fd: number;
  index: number;
  offset: number;
  stride: number;
  modifier: bigint;
}

/** Outcome of `bridgeCheckDmabuf`: ok, or the protocol error the bridge would post. */
export type BridgeDmabufVerdict =
  | { ok: true }
  | {
      ok: false;
      step: 'add' | 'create';
      /** `zwp_linux_buffer_params_v1` error code. */
      error: number;
      reason: string;
      message: string;
    };

declare const binding: DroidwayNative & DroidwayBridgeNative;
export default binding;
