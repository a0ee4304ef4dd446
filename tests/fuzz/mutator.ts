/**
 * A seeded, structure-aware byte mutator for the JavaScript fuzz targets (coverage-guided
 * Jazzer.js does not load on Debian 12: its prebuilt addon needs glibc 2.38). Everything is
 * drawn from one deterministic PRNG, so a seed and a run count replay the same inputs.
 * Mutations: bit flips, bytes set to interesting values, 16/32-bit little-endian integers set to
 * boundary values (sizes, offsets and counts in zip, AXML, ARSC and the signing block are all
 * little-endian), chunk duplicate/delete/insert, splices between corpus items, dictionary tokens
 * (for JSON and text formats), and length-field tweaks: a 32-bit word that looks like a length
 * or offset (at most the input's size) is nudged by ±1, ±4, doubled, set to the input's size or
 * to the distance to the end, which is what walks a parser's bounds checks.
 */

/** A small, fast deterministic PRNG (mulberry32). */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** An integer in [0, n) (0 when n ≤ 0). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

const INTERESTING_8 = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x10, 0x20, 0x40];
const INTERESTING_16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_32 = [
  0, 1, 2, 4, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
  0xfffffffe, 0xffffffff,
];

/** Options of `Mutator`. */
export interface MutatorOptions {
  /** Tokens to insert or overwrite with (JSON keys, magic numbers …). */
  dictionary?: readonly (string | Buffer)[];
  /** Largest input produced (bigger results are cut). */
  maxLength?: number;
}

/** Produces mutated inputs from a corpus, deterministically from its PRNG. */
export class Mutator {
  private readonly dict: Buffer[];
  private readonly maxLength: number;
  constructor(
    private readonly rng: Prng,
    options: MutatorOptions = {},
  ) {
    this.dict = (options.dictionary ?? []).map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(d)));
    this.maxLength = options.maxLength ?? 64 * 1024;
  }

  /** A mutant of `input`: 1 to 8 stacked mutations (the input itself is not modified). */
  mutate(input: Buffer, corpus: readonly Buffer[]): Buffer {
    let out: Buffer = Buffer.from(input);
    const n = 1 + this.rng.below(this.rng.below(8) + 1);
    for (let i = 0; i < n; i++) out = this.once(out, corpus);
    return out.length > this.maxLength ? out.subarray(0, this.maxLength) : out;
  }

  private once(buf: Buffer, corpus: readonly Buffer[]): Buffer {
    const r = this.rng;
    const len = buf.length;
    switch (r.below(this.dict.length > 0 ? 12 : 11)) {
      case 0: // bit flip
        if (len > 0) buf[r.below(len)]! ^= 1 << r.below(8);
        return buf;
      case 1: // interesting byte
        if (len > 0) buf[r.below(len)] = r.pick(INTERESTING_8);
        return buf;
      case 2: // random byte
        if (len > 0) buf[r.below(len)] = r.below(256);
        return buf;
      case 3: // 16-bit LE boundary value
        if (len >= 2) buf.writeUInt16LE(r.pick(INTERESTING_16), r.below(len - 1));
        return buf;
      case 4: // 32-bit LE boundary value, at an aligned offset half of the time
        if (len >= 4) {
          const at = r.below(2) === 0 ? r.below(len - 3) & ~3 : r.below(len - 3);
          buf.writeUInt32LE(r.pick(INTERESTING_32) >>> 0, at);
        }
        return buf;
      case 5:
        return this.lengthTweak(buf);
      case 6: {
        // duplicate a chunk in place
        if (len === 0) return buf;
        const at = r.below(len);
        const n = 1 + r.below(Math.min(len - at, 64));
        return Buffer.concat([
          buf.subarray(0, at + n),
          buf.subarray(at, at + n),
          buf.subarray(at + n),
        ]);
      }
      case 7: {
        // delete a chunk
        if (len === 0) return buf;
        const at = r.below(len);
        const n = 1 + r.below(Math.min(len - at, 64));
        return Buffer.concat([buf.subarray(0, at), buf.subarray(at + n)]);
      }
      case 8: {
        // insert random or repeated bytes
        const at = r.below(len + 1);
        const n = 1 + r.below(32);
        const fill = Buffer.alloc(n, r.below(2) === 0 ? r.pick(INTERESTING_8) : 0);
        if (r.below(2) === 0) for (let i = 0; i < n; i++) fill[i] = r.below(256);
        return Buffer.concat([buf.subarray(0, at), fill, buf.subarray(at)]);
      }
      case 9: {
        // splice: our head with another corpus item's tail
        const other = r.pick(corpus);
        if (other.length === 0) return buf;
        const cut = r.below(len + 1);
        const from = r.below(other.length);
        return Buffer.concat([buf.subarray(0, cut), other.subarray(from)]);
      }
      case 10: {
        // copy a chunk of another corpus item over ours (same offsets: aligned structures)
        const other = r.pick(corpus);
        if (len === 0 || other.length === 0) return buf;
        const at = r.below(Math.min(len, other.length));
        const n = 1 + r.below(Math.min(len, other.length) - at);
        other.copy(buf, at, at, at + n);
        return buf;
      }
      default: {
        // dictionary token, inserted or overwriting
        const token = r.pick(this.dict);
        const at = r.below(len + 1);
        if (r.below(2) === 0 || at + token.length > len)
          return Buffer.concat([buf.subarray(0, at), token, buf.subarray(at)]);
        token.copy(buf, at);
        return buf;
      }
    }
  }

  /** Nudges a 32-bit (or 16-bit) little-endian word that could be a length or an offset. */
  private lengthTweak(buf: Buffer): Buffer {
    const r = this.rng;
    const len = buf.length;
    if (len < 4) return buf;
    // Look for a plausible length field from a random aligned start, a few words at most.
    const start = r.below(len - 3) & ~3;
    for (let i = 0; i < 16; i++) {
      const at = (start + i * 4) % (len - 3);
      const v = buf.readUInt32LE(at);
      if (v === 0 || v > len) continue;
      const choices = [v + 1, v - 1, v + 4, v - 4, v * 2, v >>> 1, len, len - at, 0xffffffff];
      buf.writeUInt32LE(r.pick(choices) >>> 0, at);
      return buf;
    }
    const at = r.below(len - 1);
    const v = buf.readUInt16LE(at);
    buf.writeUInt16LE((r.pick([v + 1, v - 1, v * 2, len & 0xffff, 0xffff]) & 0xffff) >>> 0, at);
    return buf;
  }
}
