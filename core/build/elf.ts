/**
 * A reader for the dynamic-linking facts of an ELF64 file: DT_SONAME, DT_NEEDED, DT_RUNPATH/DT_RPATH and the
 * PT_INTERP program interpreter. That is all boulder's analysis uses to derive `soname(...)` provides and
 * depends and `interpreter(...)` depends, so no section headers are read: stripped files work alike.
 *
 * Strings are found through the program headers (PT_DYNAMIC → DT_STRTAB, a virtual address mapped to a file
 * offset by the PT_LOAD segment holding it), as the dynamic loader itself finds them.
 */

export interface ElfDynamicInfo {
  /** `x86_64`, `aarch64`, … the spelling boulder appends to sonames: `soname(libz.so.1(x86_64))`. */
  machine: string;
  /** e_type: executable, shared object (also PIE executables), relocatable, core. */
  type: 'exec' | 'dyn' | 'rel' | 'core' | 'other';
  soname?: string;
  needed: string[];
  runpath: string[];
  interpreter?: string;
}

export class ElfFormatError extends Error {
  constructor(message: string) {
    super(`ELF: ${message}`);
    this.name = 'ElfFormatError';
  }
}

const MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_SONAME = 14n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

const MACHINES: Record<number, string> = { 3: '386', 40: 'arm', 62: 'x86_64', 183: 'aarch64', 243: 'riscv' };
const TYPES: Record<number, ElfDynamicInfo['type']> = { 1: 'rel', 2: 'exec', 3: 'dyn', 4: 'core' };

/** True when the bytes start with the ELF magic (a cheap test before reading a whole file). */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

/**
 * Read an ELF64 file's dynamic facts. A static binary or an object file gives empty lists.
 * @throws ElfFormatError when the bytes are not a well-formed ELF64 file (32-bit files included).
 */
export function readElfDynamic(bytes: Uint8Array): ElfDynamicInfo {
  if (!isElf(bytes)) throw new ElfFormatError('no ELF magic');
  if (bytes.length < 64) throw new ElfFormatError('file shorter than the ELF64 header');
  if (bytes[4] !== 2) throw new ElfFormatError(`class ${bytes[4]} is not ELF64`);
  if (bytes[5] !== 1 && bytes[5] !== 2) throw new ElfFormatError(`unknown data encoding ${bytes[5]}`);
  const le = bytes[5] === 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number): number => {
    const v = view.getBigUint64(at, le);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfFormatError(`value at ${at} out of range`);
    return Number(v);
  };
  const type = TYPES[view.getUint16(16, le)] ?? 'other';
  const machineCode = view.getUint16(18, le);
  const phoff = u64(32);
  const phentsize = view.getUint16(54, le);
  const phnum = view.getUint16(56, le);
  if (phnum > 0 && phentsize < 56) throw new ElfFormatError(`program header entry size ${phentsize} is too small`);
  if (phoff + phnum * phentsize > bytes.length) throw new ElfFormatError('program headers run past the end of the file');

  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    segments.push({ type: view.getUint32(at, le), offset: u64(at + 8), vaddr: u64(at + 16), filesz: u64(at + 32) });
  }
  const inFile = (offset: number, length: number, what: string): void => {
    if (offset + length > bytes.length) throw new ElfFormatError(`${what} runs past the end of the file`);
  };
  const cString = (offset: number, end: number): string => {
    let stop = offset;
    while (stop < end && bytes[stop] !== 0) stop++;
    if (stop >= end) throw new ElfFormatError(`unterminated string at ${offset}`);
    return new TextDecoder().decode(bytes.subarray(offset, stop));
  };

  const info: ElfDynamicInfo = { machine: MACHINES[machineCode] ?? `machine-${machineCode}`, type, needed: [], runpath: [] };
  const interp = segments.find((s) => s.type === PT_INTERP);
  if (interp) {
    inFile(interp.offset, interp.filesz, 'PT_INTERP');
    info.interpreter = cString(interp.offset, interp.offset + interp.filesz);
  }

  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return info;
  inFile(dynamic.offset, dynamic.filesz, 'PT_DYNAMIC');
  const entries: Array<[bigint, bigint]> = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
    const tag = view.getBigInt64(at, le);
    if (tag === DT_NULL) break;
    entries.push([tag, view.getBigUint64(at + 8, le)]);
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  const strsz = entries.find(([t]) => t === DT_STRSZ)?.[1];
  if (strtabAddr === undefined) return info;
  const load = segments.find((s) => s.type === PT_LOAD && BigInt(s.vaddr) <= strtabAddr && strtabAddr < BigInt(s.vaddr + s.filesz));
  if (!load) throw new ElfFormatError('DT_STRTAB lies in no loaded segment');
  const strtab = load.offset + Number(strtabAddr - BigInt(load.vaddr));
  const strEnd = Math.min(bytes.length, strsz !== undefined ? strtab + Number(strsz) : load.offset + load.filesz);
  const str = (offset: bigint): string => {
    const at = strtab + Number(offset);
    if (offset < 0n || at >= strEnd) throw new ElfFormatError(`string offset ${offset} outside the string table`);
    return cString(at, strEnd);
  };
  for (const [tag, value] of entries) {
    if (tag === DT_NEEDED) info.needed.push(str(value));
    else if (tag === DT_SONAME) info.soname = str(value);
    else if (tag === DT_RUNPATH || tag === DT_RPATH) info.runpath.push(...str(value).split(':').filter(Boolean));
  }
  return info;
}
