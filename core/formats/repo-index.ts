import { isSha256Hex } from './hash';
import { FormatError } from './errors';
import { FileType, PayloadKind } from './stone/header';
import { metaFromRecords, PackageMeta, recordsFromMeta, requireMossFields } from './stone/meta';
import { StoneReader } from './stone/reader';
import { bufferSource } from './stone/source';
import { encodeRecordPayload, encodeStone, type EncodedPayload } from './stone/writer';

/**
 * The repository index `stone.index` (FORMATS.md §5): a stone of file type 3 with one meta payload per package,
 * each carrying PackageURI (relative to the index's folder), PackageHash (sha256 of the .stone) and PackageSize.
 */
export interface IndexEntry extends PackageMeta {
  uri: string;
  hash: string;
  size: number;
}


/**
 * Each index entry's encoded meta payload, keyed by the entry object. Entries are never mutated once made (a
 * changed package is a new entry object), so a writer that is handed the same object again re-uses its bytes
 * instead of encoding and compressing it anew: publishing one package into a 10,000-package index encodes one
 * payload. A WeakMap, so entries that leave every kept index are collected with their bytes.
 */
export type EncodedEntries = WeakMap<IndexEntry, EncodedPayload>;

/**
 * Read an index; with `encoded`, also remember each entry's payload exactly as stored, so that writing the
 * same entries again reproduces those bytes without encoding them.
 */
export async function readIndex(bytes: Uint8Array, where = 'stone.index', encoded?: EncodedEntries): Promise<IndexEntry[]> {
  const reader = await StoneReader.open(bufferSource(bytes), where);
  if (reader.header.fileType !== FileType.Repository) {
    throw new FormatError('index', where, `not a repository index (file type ${reader.header.fileType}, want 3)`);
  }
  const foreign = reader.payloads.find((p) => p.header.kind !== PayloadKind.Meta);
  if (foreign) throw new FormatError('index', where, `payload ${foreign.position} is not a meta payload (kind ${foreign.header.kind})`);
  return reader.metaPayloads().map((records, i) => {
    const at = `${where}: entry ${i}`;
    requireMossFields(records, at);
    const meta = metaFromRecords(records, at);
    if (meta.uri === undefined || meta.hash === undefined || meta.size === undefined) {
      throw new FormatError('index', `${at} (${meta.name})`, 'lacks PackageURI, PackageHash or PackageSize');
    }
    if (!isSha256Hex(meta.hash)) throw new FormatError('index', `${at} (${meta.name})`, `PackageHash "${meta.hash}" is not a sha256 hex digest`);
    const entry = meta as IndexEntry;
    if (encoded) {
      const { header, offset } = reader.payloads[i];
      encoded.set(entry, { header, body: bytes.subarray(offset, offset + header.storedSize) });
    }
    return entry;
  });
}

/** The order the real vessel writes: by source id, then package name (stable for equal keys). */
export function sortIndexEntries(entries: readonly IndexEntry[]): IndexEntry[] {
  const key = (s: string): string => s;
  return [...entries].sort((a, b) => {
    const bySource = key(a.sourceId) < key(b.sourceId) ? -1 : key(a.sourceId) > key(b.sourceId) ? 1 : 0;
    return bySource !== 0 ? bySource : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** Write an index; with `encoded`, entries found there are not encoded again, and new ones are added to it. */
export async function writeIndex(entries: readonly IndexEntry[], encoded?: EncodedEntries): Promise<Uint8Array> {
  const payloads = [];
  for (const e of sortIndexEntries(entries)) {
    const known = encoded?.get(e);
    if (known) {
      payloads.push(known);
      continue;
    }
    if (!isSha256Hex(e.hash)) throw new FormatError('index', e.name, `PackageHash "${e.hash}" is not a sha256 hex digest`);
    const payload = await encodeRecordPayload({ kind: PayloadKind.Meta, records: recordsFromMeta(e) });
    encoded?.set(e, payload);
    payloads.push(payload);
  }
  return encodeStone(FileType.Repository, payloads);
}
