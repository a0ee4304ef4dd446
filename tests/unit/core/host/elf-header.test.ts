import { describe, expect, it } from 'vitest';
import { parseElfHeader } from '../../../../electron/core/host/elf-header.js';
import { makeElf } from '../../../fixtures/host/fake-host.js';

const setU16 = (bytes: Uint8Array, at: number, value: number): void =>
  new DataView(bytes.buffer, bytes.byteOffset).setUint16(at, value, true);

describe('parseElfHeader', () => {
  it('finds no interpreter in a static executable', () => {
    expect(parseElfHeader(makeElf())).toEqual({
      elfClass: 64,
      endian: 'little',
      type: 'exec',
      machine: 62,
      interpreter: null,
    });
  });

  it('reads the PT_INTERP path of a dynamic PIE', () => {
    const elf = parseElfHeader(makeElf({ type: 3, interpreter: '/lib64/ld-linux-x86-64.so.2' }));
    expect(elf.type).toBe('dyn');
    expect(elf.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
  });

  it('handles 32-bit and big-endian files', () => {
    expect(
      parseElfHeader(makeElf({ elfClass: 32, interpreter: '/lib/ld-linux.so.2' })).interpreter,
    ).toBe('/lib/ld-linux.so.2');
    const big = parseElfHeader(makeElf({ endian: 'big', interpreter: '/lib/ld.so.1' }));
    expect(big).toMatchObject({ endian: 'big', interpreter: '/lib/ld.so.1' });
  });

  it.each([
    ['an empty file', new Uint8Array(0), /only 0 bytes/],
    ['a shell script', new TextEncoder().encode('#!/bin/sh\necho hello world\n'), /bad magic/],
    [
      'an unknown class',
      (() => {
        const b = makeElf();
        b[4] = 3;
        return b;
      })(),
      /unknown class 3/,
    ],
    [
      'an unknown byte order',
      (() => {
        const b = makeElf();
        b[5] = 0;
        return b;
      })(),
      /unknown byte order/,
    ],
    [
      'a bad version',
      (() => {
        const b = makeElf();
        b[6] = 2;
        return b;
      })(),
      /unknown ELF version/,
    ],
    ['a truncated file header', makeElf().subarray(0, 40), /file header truncated/],
    ['a program header table past the end', makeElf().subarray(0, 100), /lies past byte 100/],
    [
      'a too small entry size',
      (() => {
        const b = makeElf();
        setU16(b, 54, 8);
        return b;
      })(),
      /entry size 8/,
    ],
    [
      'PN_XNUM',
      (() => {
        const b = makeElf();
        setU16(b, 56, 0xffff);
        return b;
      })(),
      /PN_XNUM/,
    ],
    [
      'a huge entry count',
      (() => {
        const b = makeElf();
        setU16(b, 56, 0xfffe);
        return b;
      })(),
      /lies past/,
    ],
  ])('rejects %s', (_name, bytes, message) => {
    expect(() => parseElfHeader(bytes)).toThrow(
      expect.objectContaining({ code: 'EELF', message: expect.stringMatching(message) }),
    );
  });

  it('rejects an interpreter string past the bytes read', () => {
    const elf = makeElf({ interpreter: '/lib64/ld-linux-x86-64.so.2' });
    expect(() => parseElfHeader(elf.subarray(0, elf.length - 5))).toThrow(/PT_INTERP .* lies past/);
  });

  it('rejects an interpreter size of zero or beyond a path', () => {
    const elf = makeElf({ interpreter: '/lib/ld.so' });
    const view = new DataView(elf.buffer);
    view.setBigUint64(64 + 56 + 32, 0n, true);
    expect(() => parseElfHeader(elf)).toThrow(/PT_INTERP size 0/);
    view.setBigUint64(64 + 56 + 32, 2n ** 62n, true);
    expect(() => parseElfHeader(elf)).toThrow(/out of range/);
  });
});
