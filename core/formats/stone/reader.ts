import { ByteReader, toHex } from '../bytes';
import { FormatError } from '../errors';
import { xxh3_64Once, xxh3_64Pool } from '../hash';
import { decompressExact, ZstdStreamDecoder } from '../zstd';
import {
  Compression,
  decodeHeader,
  decodePayloadHeader,
  HEADER_SIZE,
  PAYLOAD_HEADER_SIZE,
  PAYLOAD_KIND_NAMES,
  PayloadHeader,
  PayloadKind,
  StoneHeader,
} from './header';
import {
  AttributeRecord,
  decodeAttributeRecord,
  decodeIndexRecord,
  decodeLayoutRecord,
  decodeMetaRecord,
  IndexRecord,
  LayoutRecord,
  MetaRecord,
} from './records';
import { ByteSource } from './source';

/**
 * Ceiling for the plain size of a record payload (meta, layout, index, attributes): these are read whole, so a
 * header must not be able to make us allocate on its word. 256 MiB holds the layout of millions of files.
 */
export const MAX_RECORD_PAYLOAD = 256 * 1024 * 1024;
/** Content is streamed in chunks of this many stored bytes. */
const CONTENT_READ_CHUNK = 1024 * 1024;

export type RecordPayload =
  | { kind: PayloadKind.Meta; records: MetaRecord[] }
  | { kind: PayloadKind.Layout; records: LayoutRecord[] }
  | { kind: PayloadKind.Index; records: IndexRecord[] }
  | { kind: PayloadKind.Attributes; records: AttributeRecord[] };

export interface PayloadEntry {
  /** Position among the file's payloads, from 0. */
  position: number;
  header: PayloadHeader;
  /** File offset of the stored body. */
  offset: number;
  /** Decoded records; absent for the content payload, which is only ever streamed. */
  decoded?: RecordPayload;
}

function payloadName(position: number, kind: number): string {
  return `payload ${position} (${PAYLOAD_KIND_NAMES[kind] ?? `kind ${kind}`})`;
}

/** A stone opened for reading: header and every record payload decoded and checked; content left in place. */
export class StoneReader {
  private constructor(
    readonly where: string,
    private readonly source: ByteSource,
    readonly header: StoneHeader,
    readonly payloads: PayloadEntry[],
  ) {}

  /** Read and verify the header and all record payloads (checksums, sizes, record counts). */
  static async open(source: ByteSource, where: string): Promise<StoneReader> {
    const header = decodeHeader(await source.read(0, HEADER_SIZE), where);
    const payloads: PayloadEntry[] = [];
    let offset = HEADER_SIZE;
    for (let position = 0; position < header.numPayloads; position++) {
      if (offset + PAYLOAD_HEADER_SIZE > source.size) {
        throw new FormatError('stone', where, `truncated: payload ${position} header at byte ${offset} is past the end (${source.size} bytes)`);
      }
      const ph = decodePayloadHeader(await source.read(offset, PAYLOAD_HEADER_SIZE), `${where}: payload ${position} header`);
      const name = payloadName(position, ph.kind);
      const bodyOffset = offset + PAYLOAD_HEADER_SIZE;
      if (ph.storedSize > source.size - bodyOffset) {
        throw new FormatError('stone', `${where}: ${name}`, `truncated: stored size ${ph.storedSize} runs past the end of the file (${source.size - bodyOffset} bytes left)`);
      }
      const entry: PayloadEntry = { position, header: ph, offset: bodyOffset };
      if (ph.kind !== PayloadKind.Content) {
        entry.decoded = decodeRecords(ph, await readPlain(source, entry, `${where}: ${name}`), `${where}: ${name}`);
      }
      payloads.push(entry);
      offset = bodyOffset + ph.storedSize;
    }
    if (offset !== source.size) {
      throw new FormatError('stone', where, `${source.size - offset} unexpected bytes after the last payload`);
    }
    return new StoneReader(where, source, header, payloads);
  }

  /** Each meta payload's records, in file order (a repository index or manifest has one per package). */
  metaPayloads(): MetaRecord[][] {
    return this.payloads.flatMap((p) => (p.decoded?.kind === PayloadKind.Meta ? [p.decoded.records] : []));
  }

  /** All layout records (a binary package has one layout payload). */
  layout(): LayoutRecord[] {
    return this.payloads.flatMap((p) => (p.decoded?.kind === PayloadKind.Layout ? p.decoded.records : []));
  }

  index(): IndexRecord[] {
    return this.payloads.flatMap((p) => (p.decoded?.kind === PayloadKind.Index ? p.decoded.records : []));
  }

  attributes(): AttributeRecord[] {
    return this.payloads.flatMap((p) => (p.decoded?.kind === PayloadKind.Attributes ? p.decoded.records : []));
  }

  get content(): PayloadEntry | undefined {
    return this.payloads.find((p) => p.header.kind === PayloadKind.Content);
  }

  /** The decompressed bytes of a record payload, as stored (for round-trip checks and inspection). */
  async plainBytes(entry: PayloadEntry): Promise<Uint8Array> {
    if (entry.header.kind === PayloadKind.Content) {
      throw new FormatError('stone', this.where, 'the content payload is streamed, not read whole: use contentChunks()');
    }
    return readPlain(this.source, entry, `${this.where}: ${payloadName(entry.position, entry.header.kind)}`);
  }

  /**
   * Check the content payload's stored checksum without decompressing it: a cheap pass that lets callers refuse
   * a damaged package before they write a single file of it.
   */
  async verifyContent(): Promise<void> {
    const entry = this.content;
    if (!entry) return;
    const hasher = await xxh3_64Pool.take();
    for await (const chunk of this.storedChunks(entry)) hasher.update(chunk);
    const digest = hasher.digest('binary');
    xxh3_64Pool.give(hasher);
    checkChecksum(digest, entry.header.checksum, `${this.where}: ${payloadName(entry.position, entry.header.kind)}`);
  }

  /**
   * The decompressed content payload as a stream of chunks; memory stays bounded whatever the package size. The
   * stored checksum and the declared plain size are checked as the stream ends.
   */
  async *contentChunks(): AsyncGenerator<Uint8Array> {
    const entry = this.content;
    if (!entry) return;
    const where = `${this.where}: ${payloadName(entry.position, entry.header.kind)}`;
    const hasher = await xxh3_64Pool.take();
    const decoder = entry.header.compression === Compression.Zstd ? new ZstdStreamDecoder(where) : undefined;
    let produced = 0;
    const stream = this.storedChunks(entry);
    try {
      // Iterated by hand: a for-await loop would close `stream` on error, and the catch below still needs it.
      for (let next = await stream.next(); !next.done; next = await stream.next()) {
        const stored = next.value;
        hasher.update(stored);
        const plainChunks = decoder ? decoder.push(stored) : [stored];
        for (const plain of plainChunks) {
          produced += plain.byteLength;
          if (produced > entry.header.plainSize) {
            throw new FormatError('stone', where, `decompresses to more than its declared plain size ${entry.header.plainSize}`);
          }
          yield plain;
        }
      }
      decoder?.end();
    } catch (err) {
      // A damaged payload usually fails to decompress before its end is hashed: finish the hash so the error
      // names the real cause (the stored bytes changed) rather than the symptom.
      if (err instanceof FormatError) {
        for (let next = await stream.next(); !next.done; next = await stream.next()) hasher.update(next.value);
        checkChecksum(hasher.digest('binary'), entry.header.checksum, where);
      }
      throw err;
    }
    const digest = hasher.digest('binary');
    // Given back only here: a reader that stops early, or fails, leaves its hasher to the collector.
    xxh3_64Pool.give(hasher);
    checkChecksum(digest, entry.header.checksum, where);
    if (produced !== entry.header.plainSize) {
      throw new FormatError('stone', where, `decompresses to ${produced} bytes, header declares ${entry.header.plainSize}`);
    }
  }

  private async *storedChunks(entry: PayloadEntry): AsyncGenerator<Uint8Array> {
    for (let done = 0; done < entry.header.storedSize; ) {
      const n = Math.min(CONTENT_READ_CHUNK, entry.header.storedSize - done);
      const chunk = await this.source.read(entry.offset + done, n);
      if (chunk.byteLength !== n) throw new FormatError('stone', this.where, 'file shrank while being read');
      done += n;
      yield chunk;
    }
  }
}

function checkChecksum(actual: Uint8Array, expected: Uint8Array, where: string): void {
  if (toHex(actual) !== toHex(expected)) {
    throw new FormatError('stone', where, `checksum mismatch: stored bytes hash to ${toHex(actual)}, header says ${toHex(expected)}`);
  }
}

async function readPlain(source: ByteSource, entry: PayloadEntry, where: string): Promise<Uint8Array> {
  const { header } = entry;
  if (header.plainSize > MAX_RECORD_PAYLOAD) {
    throw new FormatError('stone', where, `plain size ${header.plainSize} exceeds the ${MAX_RECORD_PAYLOAD}-byte limit for record payloads`);
  }
  const stored = await source.read(entry.offset, header.storedSize);
  checkChecksum(await xxh3_64Once(stored), header.checksum, where);
  return header.compression === Compression.Zstd ? decompressExact(stored, header.plainSize, where) : stored;
}

function decodeRecords(header: PayloadHeader, plain: Uint8Array, where: string): RecordPayload {
  const r = new ByteReader(plain, 'stone', where);
  const decode = <T>(one: (r: ByteReader) => T): T[] => {
    const out: T[] = [];
    for (let i = 0; i < header.numRecords; i++) out.push(one(r));
    if (r.remaining !== 0) r.fail(`${r.remaining} bytes left after ${header.numRecords} records`);
    return out;
  };
  switch (header.kind) {
    case PayloadKind.Meta: return { kind: header.kind, records: decode(decodeMetaRecord) };
    case PayloadKind.Layout: return { kind: header.kind, records: decode(decodeLayoutRecord) };
    case PayloadKind.Index: return { kind: header.kind, records: decode(decodeIndexRecord) };
    case PayloadKind.Attributes: return { kind: header.kind, records: decode(decodeAttributeRecord) };
    default: throw new FormatError('stone', where, `payload kind ${header.kind} has no records`);
  }
}
