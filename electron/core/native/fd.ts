/**
 * File-descriptor tools of the native module: classification, shared mappings, Unix socket pairs,
 * fd passing with `SCM_RIGHTS`, peer credentials. Every function checks its arguments before
 * calling C++ and accepts an injected `binding` (tests of validation run without the addon).
 */
import { readdirSync } from 'node:fs';
import type {
  DroidwayNative,
  FdInfo,
  Mapping,
  PeerCredentials,
  ReceivedMessage,
} from '../../../native/index.js';
import {
  checkBoolean,
  checkChoice,
  checkFd,
  checkInteger,
  checkTimeout,
  invalidType,
  outOfRange,
} from './arguments.js';
import { loadNative } from './binding.js';

/** The kernel's `SCM_MAX_FD`: most fds one message can carry. */
export const MAX_FDS_PER_MESSAGE = 253;
/** Largest payload of one `sendMessage` / `recvMessage` (64 KiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Timeout used when a caller gives none. */
export const DEFAULT_TIMEOUT_MS = 5_000;
/** Largest mapping length (4 GiB, one ArrayBuffer). */
export const MAX_MAPPING_LENGTH = 2 ** 32;

/** Where a facade function gets the native module from. */
export interface NativeDeps {
  /** Defaults to `loadNative()`. */
  binding?: DroidwayNative;
}

function bindingOf(deps: NativeDeps | undefined): DroidwayNative {
  return deps?.binding ?? loadNative();
}

/** Classifies `fd` (kind, size, seals, filesystem, link, mode, access) without changing it. */
export function inspectFd(fd: number, deps?: NativeDeps): FdInfo {
  checkFd(fd, 'fd');
  return bindingOf(deps).inspectFd(fd);
}

/** Options of `mapFd`. */
export interface MapFdOptions extends NativeDeps {
  writable: boolean;
  /** Multiple of the page size; default 0. */
  offset?: number;
  /** Bytes to map, 1..4 GiB. */
  length: number;
}

/** `mmap(MAP_SHARED)` of `fd`; unmap with `Mapping.unmap()`. */
export function mapFd(fd: number, options: MapFdOptions): Mapping {
  checkFd(fd, 'fd');
  if (typeof options !== 'object' || options === null)
    throw invalidType('options must be an object');
  const writable = checkBoolean(options.writable, 'options.writable');
  const offset = checkInteger(options.offset ?? 0, 'options.offset', 0, Number.MAX_SAFE_INTEGER);
  const length = checkInteger(options.length, 'options.length', 1, MAX_MAPPING_LENGTH);
  if (offset + length > Number.MAX_SAFE_INTEGER)
    throw outOfRange('options.offset + options.length is too large');
  return bindingOf(options).mapFd(fd, { writable, offset, length });
}

/** A connected pair of `AF_UNIX` sockets (`SOCK_CLOEXEC`); the caller owns both fds. */
export function socketPair(
  type: 'stream' | 'seqpacket' = 'stream',
  deps?: NativeDeps,
): [number, number] {
  checkChoice(type, 'type', ['stream', 'seqpacket'] as const);
  return bindingOf(deps).socketPair(type);
}

/** Options of `sendMessage`. */
export interface SendOptions extends NativeDeps {
  /** Bound on the wait for the socket to take the message; default 5000. */
  timeoutMs?: number;
}

/**
 * Sends `data` (1 byte..64 KiB) with `fds` (at most 253, each still owned by the caller) as one
 * `SCM_RIGHTS` message. Resolves with the bytes sent; rejects with a `NativeError`
 * (`ETIMEDOUT`, `EPIPE`, `EBADF`, …).
 */
export async function sendMessage(
  socketFd: number,
  data: Uint8Array,
  fds: readonly number[] = [],
  options: SendOptions = {},
): Promise<number> {
  checkFd(socketFd, 'socketFd');
  if (!(data instanceof Uint8Array)) throw invalidType('data must be a Uint8Array');
  if (data.byteLength < 1 || data.byteLength > MAX_MESSAGE_BYTES) {
    throw outOfRange(`data must hold 1..${MAX_MESSAGE_BYTES} bytes, got ${data.byteLength}`);
  }
  if (!Array.isArray(fds)) throw invalidType('fds must be an array');
  if (fds.length > MAX_FDS_PER_MESSAGE) {
    throw outOfRange(`fds must hold at most ${MAX_FDS_PER_MESSAGE} fds, got ${fds.length}`);
  }
  fds.forEach((fd, i) => checkFd(fd, `fds[${i}]`));
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
  return bindingOf(options).sendMessage(socketFd, data, [...fds], timeoutMs);
}

/** Options of `recvMessage`. */
export interface RecvOptions extends NativeDeps {
  /** Most bytes to receive, 1..64 KiB. */
  maxBytes: number;
  /** Most fds to keep, 0..253; fds beyond are closed and counted in `fdsDropped`. */
  maxFds: number;
  /** Bound on the wait for a message; default 5000. Rejects with `ETIMEDOUT` past it. */
  timeoutMs?: number;
}

/**
 * Receives one message. The returned fds are `O_CLOEXEC` and owned by the caller. 0 bytes and
 * no fds means the peer closed its end.
 */
export async function recvMessage(
  socketFd: number,
  options: RecvOptions,
): Promise<ReceivedMessage> {
  checkFd(socketFd, 'socketFd');
  if (typeof options !== 'object' || options === null)
    throw invalidType('options must be an object');
  const maxBytes = checkInteger(options.maxBytes, 'maxBytes', 1, MAX_MESSAGE_BYTES);
  const maxFds = checkInteger(options.maxFds, 'maxFds', 0, MAX_FDS_PER_MESSAGE);
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
  return bindingOf(options).recvMessage(socketFd, maxBytes, maxFds, timeoutMs);
}

/** Pid, uid and gid of the process at the other end of a Unix socket (`SO_PEERCRED`). */
export function peerCredentials(socketFd: number, deps?: NativeDeps): PeerCredentials {
  checkFd(socketFd, 'socketFd');
  return bindingOf(deps).peerCredentials(socketFd);
}

/** Closes `fd`; throws a `NativeError` with code `'EBADF'` when it is not open. */
export function closeFd(fd: number, deps?: NativeDeps): void {
  checkFd(fd, 'fd');
  bindingOf(deps).closeFd(fd);
}

/** `ftruncate(fd, size)`; a sealed region refuses with `EPERM`. */
export function truncateFd(fd: number, size: number, deps?: NativeDeps): void {
  checkFd(fd, 'fd');
  checkInteger(size, 'size', 0, Number.MAX_SAFE_INTEGER);
  bindingOf(deps).truncateFd(fd, size);
}

/**
 * Leaves the caller's terminal session: `setsid()`, so no terminal's signals or hangup reach this
 * process or what it starts. Throws a `NativeError` `'EPERM'` for a process group leader.
 */
export function newSession(deps?: NativeDeps): void {
  bindingOf(deps).newSession();
}

/** Points stdin at `/dev/null` and stdout and stderr at `fd` (a log file), so the caller's pipes close. */
export function replaceStdio(fd: number, deps?: NativeDeps): void {
  checkFd(fd, 'fd');
  bindingOf(deps).replaceStdio(fd);
}

/**
 * Number of fds this process has open (entries of `/proc/self/fd`, not counting the one used to
 * read the directory). Tests compare it before and after to prove nothing leaked.
 */
export function countOpenFds(): number {
  return readdirSync('/proc/self/fd').length - 1;
}
