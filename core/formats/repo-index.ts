import { FormatError } from './errors';
import { FileType, PayloadKind } from './stone/header';
import { metaFromRecords, PackageMeta, recordsFromMeta, requireMossFields } from './stone/meta';
import { StoneReader } from './stone/reader';
import { bufferSource } from './stone/source';
import { encodeRecordPayload, encodeStone } from './stone/writer';

/**
 * The repository index `stone.index` (FORMATS.md §5): a stone of file type 3 with one meta payload per package,
 * each carrying PackageURI (relative to the index's folder), PackageHash (sha256 of the .stone) and PackageSize.
 */
export interface IndexEntry extends PackageMeta {
  uri: string;
  hash: string;
  size: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export async function readIndex(bytes: Uint8Array, where = 'stone.index'): Promise<IndexEntry[]> {
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
    if (!SHA256_HEX.test(meta.hash)) throw new FormatError('index', `${at} (${meta.name})`, `PackageHash "${meta.hash}" is not a sha256 hex digest`);
    return meta as IndexEntry;
  });
}

/** The order the real vessel writes: by source id, then package name (stable for equal keys). */
export function sortIndexEntries(entries: IndexEntry[]): IndexEntry[] {
  const key = (s: string): string => s;
  return [...entries].sort((a, b) => {
    const bySource = key(a.sourceId) < key(b.sourceId) ? -1 : key(a.sourceId) > key(b.sourceId) ? 1 : 0;
    return bySource !== 0 ? bySource : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

export async function writeIndex(entries: IndexEntry[]): Promise<Uint8Array> {
  const payloads = [];
  for (const e of sortIndexEntries(entries)) {
    if (!SHA256_HEX.test(e.hash)) throw new FormatError('index', e.name, `PackageHash "${e.hash}" is not a sha256 hex digest`);
    payloads.push(await encodeRecordPayload({ kind: PayloadKind.Meta, records: recordsFromMeta(e) }));
  }
  return encodeStone(FileType.Repository, payloads);
}
