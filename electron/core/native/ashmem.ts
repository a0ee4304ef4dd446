/**
 * Android-style shared-memory regions: named, fixed size, optionally read-only for every later
 * mapping. Backed by `/dev/ashmem` where the host has it, else by a sealed memfd (see
 * `native/DESIGN.md`).
 */
import type { AshmemBackend, DroidwayNative, Mapping } from '../../../native/index.js';
import { checkBoolean, checkChoice, checkInteger, invalidType, outOfRange } from './arguments.js';
import { loadNative } from './binding.js';

/** Longest region name in UTF-8 bytes (the memfd limit: NAME_MAX minus the `memfd:` prefix). */
export const ASHMEM_MAX_NAME_BYTES = 249;
/** Largest region size accepted (1 TiB). */
export const ASHMEM_MAX_SIZE = 2 ** 40;

/** Options of `AshmemRegion.create`. */
export interface AshmemCreateOptions {
  /** `'auto'` (default) picks `/dev/ashmem` when it opens, else memfd. */
  backend?: 'auto' | AshmemBackend;
  /** The native binding; defaults to `loadNative()`. */
  binding?: DroidwayNative;
}

/** Options of `AshmemRegion.map`. */
export interface AshmemMapOptions {
  /** Map read-write (fails with `EPERM` once the region is read-only). */
  writable: boolean;
  /** Byte offset, a multiple of the page size; default 0. */
  offset?: number;
  /** Bytes to map; default the rest of the region. */
  length?: number;
}

/**
 * Checks a region name: a string of 1..249 UTF-8 bytes without NUL or `/`.
 * @throws TypeError / RangeError
 */
export function checkRegionName(name: unknown): string {
  if (typeof name !== 'string') throw invalidType('name must be a string');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes < 1 || bytes > ASHMEM_MAX_NAME_BYTES) {
    throw outOfRange(`name must be 1..${ASHMEM_MAX_NAME_BYTES} bytes of UTF-8, got ${bytes}`);
  }
  if (name.includes('\0') || name.includes('/'))
    throw outOfRange("name must not contain NUL or '/'");
  return name;
}

/** A shared-memory region this process created and owns (its fd is closed by `close()`). */
export class AshmemRegion {
  readonly name: string;
  readonly size: number;
  readonly backend: AshmemBackend;
  readonly #binding: DroidwayNative;
  #fd: number | null;

  private constructor(
    binding: DroidwayNative,
    fd: number,
    backend: AshmemBackend,
    name: string,
    size: number,
  ) {
    this.#binding = binding;
    this.#fd = fd;
    this.backend = backend;
    this.name = name;
    this.size = size;
  }

  /**
   * Creates a region of exactly `size` bytes named `name` (visible in `/proc/<pid>/maps` and
   * in the fd's link as `/memfd:<name>`).
   * @param name 1..249 UTF-8 bytes, no NUL or `/`
   * @param size a safe integer in 1..2^40
   * @throws TypeError / RangeError for bad arguments, a `NativeError` (`code` = errno name) when
   *   the kernel refuses, `NativeUnavailableError` when the module is not built
   */
  static create(name: string, size: number, options: AshmemCreateOptions = {}): AshmemRegion {
    checkRegionName(name);
    checkInteger(size, 'size', 1, ASHMEM_MAX_SIZE);
    const backend = checkChoice(options.backend ?? 'auto', 'backend', [
      'auto',
      'ashmem',
      'memfd',
    ] as const);
    const binding = options.binding ?? loadNative();
    const created = binding.ashmemCreate(name, size, backend);
    return new AshmemRegion(binding, created.fd, created.backend, name, size);
  }

  /** The region's fd, still owned by this object. Throws (`code` `'EBADF'`) once closed. */
  get fd(): number {
    if (this.#fd === null) {
      throw Object.assign(new Error(`ashmem region '${this.name}' is closed`), { code: 'EBADF' });
    }
    return this.#fd;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#fd === null;
  }

  /**
   * Makes every future mapping read-only, here and in every process the fd was sent to
   * (`F_SEAL_FUTURE_WRITE` / `ASHMEM_SET_PROT_MASK`). Mappings made before keep their rights.
   */
  setReadOnly(): void {
    this.#binding.ashmemSetReadOnly(this.fd);
  }

  /** Maps the region (`MAP_SHARED`); the caller unmaps it with `Mapping.unmap()`. */
  map(options: AshmemMapOptions): Mapping {
    if (typeof options !== 'object' || options === null)
      throw invalidType('options must be an object');
    const writable = checkBoolean(options.writable, 'options.writable');
    const offset = checkInteger(options.offset ?? 0, 'options.offset', 0, this.size - 1);
    const length = checkInteger(
      options.length ?? this.size - offset,
      'options.length',
      1,
      this.size - offset,
    );
    return this.#binding.mapFd(this.fd, { writable, offset, length });
  }

  /** Closes the fd; later calls do nothing. Existing mappings stay valid until unmapped. */
  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    this.#binding.closeFd(fd);
  }
}
