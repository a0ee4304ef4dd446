/**
 * The guest console's log on the host: init's stdout and stderr, copied by the session from
 * `lxc-start`'s pipes. The guest decides how much it prints, so the log is capped: it is
 * rotated once (`console.log` → `console.log.1`) whenever it reaches half the cap, and a
 * single chunk longer than that is cut, so the two files together never hold more than the cap.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';

/** Cap used when the session is given none. */
export const DEFAULT_CONSOLE_MAX_BYTES = 4 * 1024 * 1024;

/** An append-only, size-capped log file with one rotated predecessor; see the module doc. */
export class CappedLog {
  readonly file: string;
  readonly #half: number;
  #fd: number | null;
  #size = 0;
  /** Bytes the cap dropped (cut chunks). */
  dropped = 0;

  /** Opens (creates, mode 0600) `file` for appending; `maxBytes` is split between it and `file.1`. */
  constructor(file: string, maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 2)
      throw new RangeError('the console cap must be an integer of at least 2 bytes');
    this.file = file;
    this.#half = Math.floor(maxBytes / 2);
    this.#fd = openSync(file, 'w', 0o600);
  }

  /** Appends `chunk`, rotating first when it would pass half the cap. Writes nothing once closed. */
  write(chunk: Buffer): void {
    if (this.#fd === null || chunk.length === 0) return;
    if (this.#size + chunk.length > this.#half && this.#size > 0) this.#rotate();
    const piece = chunk.length > this.#half ? chunk.subarray(0, this.#half) : chunk;
    this.dropped += chunk.length - piece.length;
    let off = 0;
    while (off < piece.length) off += writeSync(this.#fd!, piece, off, piece.length - off);
    this.#size += piece.length;
  }

  /** Closes the file; later writes are ignored. */
  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
  }

  #rotate(): void {
    closeSync(this.#fd!);
    this.#fd = null;
    renameSync(this.file, `${this.file}.1`);
    this.#fd = openSync(this.file, 'w', 0o600);
    this.#size = 0;
  }
}
