import { ByteReader, ByteWriter } from '../bytes';
import { FormatError } from '../errors';

/** FORMATS.md §2: the 32-byte file header and the 32-byte payload header of stone format v1. */

export const MAGIC = Uint8Array.of(0x00, 0x6d, 0x6f, 0x73);
export const INTEGRITY = Uint8Array.of(0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0, 6, 0, 0, 7);
export const HEADER_SIZE = 32;
export const PAYLOAD_HEADER_SIZE = 32;

export enum FileType {
  Binary = 1,
  Delta = 2,
  Repository = 3,
  BuildManifest = 4,
}

export enum PayloadKind {
  Meta = 1,
  Content = 2,
  Layout = 3,
  Index = 4,
  Attributes = 5,
}

export enum Compression {
  None = 1,
  Zstd = 2,
}

export const FILE_TYPE_NAMES: Record<number, string> = { 1: 'binary', 2: 'delta', 3: 'repository', 4: 'buildManifest' };
export const PAYLOAD_KIND_NAMES: Record<number, string> = { 1: 'meta', 2: 'content', 3: 'layout', 4: 'index', 5: 'attributes' };
export const COMPRESSION_NAMES: Record<number, string> = { 1: 'none', 2: 'zstd' };

export interface StoneHeader {
  numPayloads: number;
  fileType: FileType;
}

export interface PayloadHeader {
  storedSize: number;
  plainSize: number;
  /** XXH3-64 of the stored bytes, canonical big-endian. */
  checksum: Uint8Array;
  numRecords: number;
  version: number;
  kind: PayloadKind;
  compression: Compression;
}

export function decodeHeader(bytes: Uint8Array, where: string): StoneHeader {
  const r = new ByteReader(bytes, 'stone', where);
  if (bytes.byteLength < HEADER_SIZE) {
    throw new FormatError('stone', where, `too short for a stone header: ${bytes.byteLength} of ${HEADER_SIZE} bytes`);
  }
  const magic = r.take(4);
  if (!magic.every((b, i) => b === MAGIC[i])) {
    throw new FormatError('stone', where, `not a stone file: magic ${Buffer.from(magic).toString('hex')}, want 006d6f73`);
  }
  const numPayloads = r.u16();
  const integrity = r.take(INTEGRITY.byteLength);
  if (!integrity.every((b, i) => b === INTEGRITY[i])) {
    throw new FormatError('stone', where, 'header integrity bytes are corrupt');
  }
  const fileType = r.u8();
  const version = r.u32();
  if (version !== 1) throw new FormatError('stone', where, `unsupported stone format version ${version} (only v1)`);
  if (!FILE_TYPE_NAMES[fileType]) throw new FormatError('stone', where, `unknown file type ${fileType}`);
  return { numPayloads, fileType };
}

export function encodeHeader(h: StoneHeader): Uint8Array {
  return new ByteWriter(HEADER_SIZE).bytes(MAGIC).u16(h.numPayloads).bytes(INTEGRITY).u8(h.fileType).u32(1).finish();
}

export function decodePayloadHeader(bytes: Uint8Array, where: string): PayloadHeader {
  const r = new ByteReader(bytes, 'stone', where);
  const storedSize = r.u64n('stored size');
  const plainSize = r.u64n('plain size');
  const checksum = r.take(8, 'checksum').slice();
  const numRecords = r.u32('record count');
  const version = r.u16('payload version');
  const kind = r.u8('payload kind');
  const compression = r.u8('compression');
  if (!PAYLOAD_KIND_NAMES[kind]) throw new FormatError('stone', where, `unknown payload kind ${kind}`);
  if (!COMPRESSION_NAMES[compression]) throw new FormatError('stone', where, `unknown compression ${compression}`);
  if (version !== 1) throw new FormatError('stone', where, `unsupported payload version ${version}`);
  if (compression === Compression.None && storedSize !== plainSize) {
    throw new FormatError('stone', where, `uncompressed payload with stored size ${storedSize} != plain size ${plainSize}`);
  }
  return { storedSize, plainSize, checksum, numRecords, version, kind, compression };
}

export function encodePayloadHeader(h: PayloadHeader): Uint8Array {
  return writePayloadHeader(new ByteWriter(PAYLOAD_HEADER_SIZE), h).finish();
}

/** The payload header written straight into a larger writer (a stone of 10,000 index payloads). */
export function writePayloadHeader(w: ByteWriter, h: PayloadHeader): ByteWriter {
  return w.u64(h.storedSize).u64(h.plainSize).bytes(h.checksum).u32(h.numRecords).u16(h.version).u8(h.kind).u8(h.compression);
}
