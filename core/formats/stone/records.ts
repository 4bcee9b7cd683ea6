import { ByteReader, ByteWriter, decodeUtf8, encodeUtf8 } from '../bytes';

/** FORMATS.md §3: the records inside meta, layout, index and attribute payloads. */

export enum Primitive {
  Int8 = 1,
  Uint8 = 2,
  Int16 = 3,
  Uint16 = 4,
  Int32 = 5,
  Uint32 = 6,
  Int64 = 7,
  Uint64 = 8,
  String = 9,
  Dependency = 10,
  Provider = 11,
}

export enum MetaTag {
  Name = 1,
  Architecture = 2,
  Version = 3,
  Summary = 4,
  Description = 5,
  Homepage = 6,
  SourceID = 7,
  Depends = 8,
  Provides = 9,
  Conflicts = 10,
  Release = 11,
  License = 12,
  BuildRelease = 13,
  PackageURI = 14,
  PackageHash = 15,
  PackageSize = 16,
  BuildDepends = 17,
  SourceURI = 18,
  SourcePath = 19,
  SourceRef = 20,
}

const INT_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 8, 8: 8 };

/**
 * One meta record. A tag or primitive outside FORMATS.md §3 is refused (current moss refuses unknown tags too):
 * accepting what moss would reject could publish an index moss cannot read.
 */
export type MetaRecord =
  | { tag: number; primitive: Primitive.Int8 | Primitive.Uint8 | Primitive.Int16 | Primitive.Uint16 | Primitive.Int32 | Primitive.Uint32; value: number }
  | { tag: number; primitive: Primitive.Int64 | Primitive.Uint64; value: bigint }
  | { tag: number; primitive: Primitive.String; value: string }
  | { tag: number; primitive: Primitive.Dependency | Primitive.Provider; kind: number; value: string };

function stripNul(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength > 0 && bytes[bytes.byteLength - 1] === 0 ? bytes.subarray(0, -1) : bytes;
}

export function decodeMetaRecord(r: ByteReader): MetaRecord {
  const length = r.u32('meta record length');
  const tag = r.u16('meta tag');
  const primitive = r.u8('meta primitive');
  if (!MetaTag[tag]) r.fail(`unknown meta tag ${tag}`);
  if (!Primitive[primitive]) r.fail(`meta tag ${MetaTag[tag]}: unknown primitive ${primitive}`);
  r.skip(1);
  const value = r.take(length, `meta record (tag ${tag}) value of ${length} bytes`);
  const intSize = INT_SIZES[primitive];
  if (intSize !== undefined) {
    if (length !== intSize) r.fail(`meta tag ${tag}: integer primitive ${primitive} with length ${length}, want ${intSize}`);
    const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
    switch (primitive) {
      case Primitive.Int8: return { tag, primitive, value: v.getInt8(0) };
      case Primitive.Uint8: return { tag, primitive, value: v.getUint8(0) };
      case Primitive.Int16: return { tag, primitive, value: v.getInt16(0) };
      case Primitive.Uint16: return { tag, primitive, value: v.getUint16(0) };
      case Primitive.Int32: return { tag, primitive, value: v.getInt32(0) };
      case Primitive.Uint32: return { tag, primitive, value: v.getUint32(0) };
      case Primitive.Int64: return { tag, primitive, value: v.getBigInt64(0) };
      default: return { tag, primitive: Primitive.Uint64, value: v.getBigUint64(0) };
    }
  }
  if (primitive === Primitive.Dependency || primitive === Primitive.Provider) {
    if (length < 1) r.fail(`meta tag ${tag}: empty dependency record`);
    return { tag, primitive, kind: value[0], value: decodeUtf8(stripNul(value.subarray(1))) };
  }
  return { tag, primitive: Primitive.String, value: decodeUtf8(stripNul(value)) };
}

export function encodeMetaRecord(w: ByteWriter, rec: MetaRecord): void {
  if (rec.primitive === Primitive.String || rec.primitive === Primitive.Dependency || rec.primitive === Primitive.Provider) {
    // Text goes straight into the writer and its length is patched in after: index writes encode ~20 strings
    // for each of 10,000 packages, and an array per string was a large share of the time and of the garbage.
    const at = w.length;
    w.u32(0).u16(rec.tag).u8(rec.primitive).u8(0);
    let length = 0;
    if (rec.primitive !== Primitive.String) {
      w.u8(rec.kind);
      length = 1;
    }
    length += w.utf8(rec.value, 1);
    w.setU32(at, length);
    return;
  }
  const size = INT_SIZES[rec.primitive];
  const value = new Uint8Array(size);
  const v = new DataView(value.buffer);
  switch (rec.primitive) {
    case Primitive.Int8: v.setInt8(0, rec.value); break;
    case Primitive.Uint8: v.setUint8(0, rec.value); break;
    case Primitive.Int16: v.setInt16(0, rec.value); break;
    case Primitive.Uint16: v.setUint16(0, rec.value); break;
    case Primitive.Int32: v.setInt32(0, rec.value); break;
    case Primitive.Uint32: v.setUint32(0, rec.value); break;
    case Primitive.Int64: v.setBigInt64(0, BigInt(rec.value)); break;
    case Primitive.Uint64: v.setBigUint64(0, BigInt(rec.value)); break;
  }
  w.u32(value.byteLength).u16(rec.tag).u8(rec.primitive).u8(0).bytes(value);
}

export enum LayoutFileType {
  Regular = 1,
  Symlink = 2,
  Directory = 3,
  CharacterDevice = 4,
  BlockDevice = 5,
  Fifo = 6,
  Socket = 7,
}

export const LAYOUT_TYPE_NAMES: Record<number, string> = {
  1: 'regular', 2: 'symlink', 3: 'directory', 4: 'char-device', 5: 'block-device', 6: 'fifo', 7: 'socket',
};

/**
 * One filesystem entry. `target` is the path relative to /usr. `source` is the 16-byte XXH3-128 of a regular
 * file's content, a symlink's target text, and empty otherwise.
 */
export interface LayoutRecord {
  uid: number;
  gid: number;
  mode: number;
  tag: number;
  fileType: LayoutFileType;
  source: Uint8Array;
  target: string;
  /**
   * The stored target bytes, kept only when they differ from `target` (older boulders NUL-terminated layout
   * strings; moss trims them on read). Writing keeps them, so a package reads and writes back byte for byte.
   */
  rawTarget?: Uint8Array;
}

export function decodeLayoutRecord(r: ByteReader): LayoutRecord {
  const uid = r.u32('uid');
  const gid = r.u32('gid');
  const mode = r.u32('mode');
  const tag = r.u32('tag');
  const sourceLen = r.u16('source length');
  const targetLen = r.u16('target length');
  const fileType = r.u8('file type');
  if (!LAYOUT_TYPE_NAMES[fileType]) r.fail(`unknown layout file type ${fileType}`);
  r.skip(11);
  const source = r.take(sourceLen, 'layout source').slice();
  const targetBytes = r.take(targetLen, 'layout target');
  const target = decodeUtf8(stripNul(targetBytes));
  if (fileType === LayoutFileType.Regular && sourceLen !== 16) {
    r.fail(`regular file ${target}: digest is ${sourceLen} bytes, want 16`);
  }
  const rec: LayoutRecord = { uid, gid, mode, tag, fileType, source, target };
  if (!bytesEqual(encodeUtf8(target), targetBytes)) rec.rawTarget = targetBytes.slice();
  return rec;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

/** A symlink's target text from its layout source (trailing NULs trimmed, as moss does). */
export function symlinkTarget(rec: LayoutRecord): string {
  return decodeUtf8(stripNul(rec.source));
}

export function encodeLayoutRecord(w: ByteWriter, rec: LayoutRecord): void {
  const target = rec.rawTarget ?? encodeUtf8(rec.target);
  w.u32(rec.uid).u32(rec.gid).u32(rec.mode).u32(rec.tag);
  w.u16(rec.source.byteLength).u16(target.byteLength).u8(rec.fileType).zeros(11);
  w.bytes(rec.source).bytes(target);
}

/** Byte range [start, end) of one file inside the decompressed content payload, and its XXH3-128. */
export interface IndexRecord {
  start: number;
  end: number;
  digest: Uint8Array;
}

export function decodeIndexRecord(r: ByteReader): IndexRecord {
  const start = r.u64n('index start');
  const end = r.u64n('index end');
  const digest = r.take(16, 'index digest').slice();
  if (end < start) r.fail(`index record ends (${end}) before it starts (${start})`);
  return { start, end, digest };
}

export function encodeIndexRecord(w: ByteWriter, rec: IndexRecord): void {
  w.u64(rec.start).u64(rec.end).bytes(rec.digest);
}

export interface AttributeRecord {
  key: Uint8Array;
  value: Uint8Array;
}

export function decodeAttributeRecord(r: ByteReader): AttributeRecord {
  const keyLen = r.u64n('attribute key length');
  const valueLen = r.u64n('attribute value length');
  return { key: r.take(keyLen, 'attribute key').slice(), value: r.take(valueLen, 'attribute value').slice() };
}

export function encodeAttributeRecord(w: ByteWriter, rec: AttributeRecord): void {
  w.u64(rec.key.byteLength).u64(rec.value.byteLength).bytes(rec.key).bytes(rec.value);
}
