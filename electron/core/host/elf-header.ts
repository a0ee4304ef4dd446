/**
 * Just enough ELF (the file header and the program header table) to tell whether an executable
 * is statically linked: a static binary, including a static PIE, has no `PT_INTERP` segment
 * naming a dynamic loader. Reads from the first bytes of the file only, with every offset and
 * count checked against what was read, so a truncated or hostile file gives a clear error.
 */
import { ParseError } from './parse-error.js';

/** Error code of a file that is not a well-formed ELF header. */
export const ELF_ERROR_CODE = 'EELF';

const PT_INTERP = 3;
const PN_XNUM = 0xffff;
/** A loader path longer than this is not a path any libc installs. */
const MAX_INTERP_LENGTH = 4096;

/** What the header says about the executable. */
export interface ElfSummary {
  elfClass: 32 | 64;
  endian: 'little' | 'big';
  /** `e_type`: `exec` (ET_EXEC), `dyn` (ET_DYN: PIE or shared object), or `other`. */
  type: 'exec' | 'dyn' | 'other';
  /** `e_machine` (62 = x86-64, 183 = AArch64, …). */
  machine: number;
  /** The `PT_INTERP` path, or null when there is none (a static executable). */
  interpreter: string | null;
}

/**
 * Parses the ELF file header and program headers found in `head` (the first bytes of a file).
 * Throws a `ParseError` (code `'EELF'`) when the magic, class, byte order or version is wrong,
 * when the program header table or the interpreter string lies past the bytes given, or when an
 * entry size or count is impossible.
 */
export function parseElfHeader(head: Uint8Array): ElfSummary {
  const fail = (what: string): never => {
    throw new ParseError(ELF_ERROR_CODE, `not a usable ELF file: ${what}`);
  };
  if (head.length < 16) fail(`only ${head.length} bytes, the ELF identification needs 16`);
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46)
    fail('bad magic');
  const elfClass = head[4] === 1 ? 32 : head[4] === 2 ? 64 : fail(`unknown class ${head[4]}`);
  const little =
    head[5] === 1 ? true : head[5] === 2 ? false : fail(`unknown byte order ${head[5]}`);
  if (head[6] !== 1) fail(`unknown ELF version ${head[6]}`);

  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const headerSize = elfClass === 64 ? 64 : 52;
  if (head.length < headerSize)
    fail(`file header truncated (${head.length} of ${headerSize} bytes)`);
  const u16 = (at: number): number => view.getUint16(at, little);
  const u32 = (at: number): number => view.getUint32(at, little);
  const u64 = (at: number): number => {
    const value = view.getBigUint64(at, little);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  };

  const eType = u16(16);
  const machine = u16(18);
  const phoff = elfClass === 64 ? u64(32) : u32(28);
  const phentsize = u16(elfClass === 64 ? 54 : 42);
  const phnum = u16(elfClass === 64 ? 56 : 44);
  const minEntry = elfClass === 64 ? 56 : 32;
  if (phnum === PN_XNUM) fail('extended program header count (PN_XNUM) is not supported');
  if (phnum > 0 && phentsize < minEntry)
    fail(`program header entry size ${phentsize} < ${minEntry}`);
  const tableEnd = phoff + phnum * phentsize;
  if (phnum > 0 && tableEnd > head.length) {
    fail(
      `program header table (offset ${phoff}, ${phnum} × ${phentsize} bytes) lies past byte ${head.length}`,
    );
  }

  let interpreter: string | null = null;
  for (let i = 0; i < phnum; i++) {
    const entry = phoff + i * phentsize;
    if (u32(entry) !== PT_INTERP) continue;
    const offset = elfClass === 64 ? u64(entry + 8) : u32(entry + 4);
    const size = elfClass === 64 ? u64(entry + 32) : u32(entry + 16);
    if (size === 0 || size > MAX_INTERP_LENGTH) fail(`PT_INTERP size ${size} is out of range`);
    if (offset + size > head.length)
      fail(`PT_INTERP (offset ${offset}, ${size} bytes) lies past byte ${head.length}`);
    const bytes = head.subarray(offset, offset + size);
    const nul = bytes.indexOf(0);
    interpreter = new TextDecoder('utf-8', { fatal: false }).decode(
      nul >= 0 ? bytes.subarray(0, nul) : bytes,
    );
    break;
  }
  return {
    elfClass,
    endian: little ? 'little' : 'big',
    type: eType === 2 ? 'exec' : eType === 3 ? 'dyn' : 'other',
    machine,
    interpreter,
  };
}
