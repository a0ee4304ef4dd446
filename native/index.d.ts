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
}

declare const binding: DroidwayNative;
export default binding;
