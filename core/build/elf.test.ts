import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { ElfFormatError, isElf, readElfDynamic } from './elf';

// Real host files: a shared library with a soname, and a dynamically linked executable.
const LIBZ = ['/usr/lib/x86_64-linux-gnu/libz.so.1', '/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/libz.so.1'].find(existsSync);
const SH = realpathSync('/bin/sh');

describe('ELF64 dynamic section reader', () => {
  (LIBZ ? it : it.skip)(`reads DT_SONAME and DT_NEEDED of ${LIBZ}`, () => {
    const info = readElfDynamic(readFileSync(LIBZ!));
    expect(info).toMatchObject({ machine: 'x86_64', type: 'dyn', soname: 'libz.so.1' });
    expect(info.needed).toContain('libc.so.6');
    expect(info.interpreter).toBeUndefined();
  });

  it(`reads the program interpreter and DT_NEEDED of ${SH}`, () => {
    const info = readElfDynamic(readFileSync(SH));
    expect(info.machine).toBe('x86_64');
    expect(info.interpreter).toMatch(/^\/lib(64)?\/ld-linux-x86-64\.so\.2$/);
    expect(info.needed).toContain('libc.so.6');
    expect(info.soname).toBeUndefined();
  });

  it('tells ELF files from others by their magic', () => {
    expect(isElf(readFileSync(SH).subarray(0, 4))).toBe(true);
    expect(isElf(Buffer.from('#!/bin/sh\n'))).toBe(false);
  });

  it.each<[string, (b: Buffer) => Buffer, RegExp]>([
    ['a script', () => Buffer.from('#!/bin/sh\necho hi\n'), /no ELF magic/],
    ['a truncated header', (b) => b.subarray(0, 40), /shorter than the ELF64 header/],
    ['a 32-bit file', (b) => { const c = Buffer.from(b); c[4] = 1; return c; }, /class 1 is not ELF64/],
    ['program headers cut off', (b) => b.subarray(0, 100), /program headers run past the end/],
  ])('refuses %s with an ElfFormatError', (_what, mutate, message) => {
    const bytes = mutate(readFileSync(SH));
    expect(() => readElfDynamic(bytes)).toThrow(ElfFormatError);
    expect(() => readElfDynamic(bytes)).toThrow(message);
  });
});
