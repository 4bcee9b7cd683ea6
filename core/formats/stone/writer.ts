import { ByteWriter } from '../bytes';
import { FormatError } from '../errors';
import { Hasher, xxh3_64Once, xxh3_64Pool } from '../hash';
import { compress, DEFAULT_LEVEL, ZstdStreamEncoder } from '../zstd';
import { Compression, encodeHeader, FileType, PayloadHeader, PayloadKind, writePayloadHeader } from './header';
import { encodeAttributeRecord, encodeIndexRecord, encodeLayoutRecord, encodeMetaRecord } from './records';
import { RecordPayload } from './reader';

export interface EncodedPayload {
  header: PayloadHeader;
  body: Uint8Array;
}

export interface EncodeOptions {
  compression?: Compression;
  level?: number;
}

/** The plain (uncompressed) bytes of a record payload: what the round-trip tests compare. */
export function encodeRecordsPlain(payload: RecordPayload): Uint8Array {
  return encodeRecordsInto(new ByteWriter(1024), payload).finish();
}

/**
 * One scratch writer for the plain bytes of every payload that gets compressed: they only live until zstd has
 * read them, and a fresh writer per payload was a tenth of an index write plus its garbage. Encoding is
 * synchronous up to compress(), so no other caller can interleave.
 */
const scratch = new ByteWriter(64 * 1024);

function encodeRecordsInto(w: ByteWriter, payload: RecordPayload): ByteWriter {
  switch (payload.kind) {
    case PayloadKind.Meta: for (const r of payload.records) encodeMetaRecord(w, r); break;
    case PayloadKind.Layout: for (const r of payload.records) encodeLayoutRecord(w, r); break;
    case PayloadKind.Index: for (const r of payload.records) encodeIndexRecord(w, r); break;
    case PayloadKind.Attributes: for (const r of payload.records) encodeAttributeRecord(w, r); break;
  }
  return w;
}

export async function encodeRecordPayload(payload: RecordPayload, opts: EncodeOptions = {}): Promise<EncodedPayload> {
  const compression = opts.compression ?? Compression.Zstd;
  // Only meta payloads (small, thousands per index) use the scratch writer, so it never grows to a layout's size.
  const useScratch = compression === Compression.Zstd && payload.kind === PayloadKind.Meta;
  const plain = useScratch ? encodeRecordsInto(scratch.reset(), payload).written() : encodeRecordsPlain(payload);
  const body = compression === Compression.Zstd ? compress(plain, opts.level ?? DEFAULT_LEVEL) : plain;
  const checksum = await xxh3_64Once(body);
  return {
    header: {
      storedSize: body.byteLength,
      plainSize: plain.byteLength,
      checksum,
      numRecords: payload.records.length,
      version: 1,
      kind: payload.kind,
      compression,
    },
    body,
  };
}

/** A whole stone in memory: right for indexes and manifests; packages stream their content instead. */
export function encodeStone(fileType: FileType, payloads: EncodedPayload[]): Uint8Array {
  if (payloads.length > 0xffff) {
    throw new FormatError('stone', 'writer', `${payloads.length} payloads: a stone holds at most 65535`);
  }
  const w = new ByteWriter(payloads.reduce((n, p) => n + 32 + p.body.byteLength, 32));
  w.bytes(encodeHeader({ numPayloads: payloads.length, fileType }));
  for (const p of payloads) writePayloadHeader(w, p.header).bytes(p.body);
  return w.finish();
}

/**
 * Builds the content payload one file at a time into a single zstd frame, hashing the stored bytes as they are
 * produced. Stored chunks are handed back to the caller to write wherever the package is going.
 */
export class ContentEncoder {
  private plainSize = 0;
  private storedSize = 0;

  private constructor(
    private readonly hasher: Hasher,
    private readonly zstd: ZstdStreamEncoder,
  ) {}

  static async create(level = DEFAULT_LEVEL): Promise<ContentEncoder> {
    return new ContentEncoder(await xxh3_64Pool.take(), new ZstdStreamEncoder(level));
  }

  get offset(): number {
    return this.plainSize;
  }

  write(plain: Uint8Array): Uint8Array[] {
    this.plainSize += plain.byteLength;
    return this.track([...this.zstd.write(plain)]);
  }

  end(): { tail: Uint8Array[]; header: PayloadHeader } {
    const tail = this.track([...this.zstd.end()]);
    const checksum = this.hasher.digest('binary');
    // The encoder is done with it (end() is its last call); an encoder abandoned on an error keeps its hasher.
    xxh3_64Pool.give(this.hasher);
    return {
      tail,
      header: {
        storedSize: this.storedSize,
        plainSize: this.plainSize,
        checksum,
        numRecords: 0,
        version: 1,
        kind: PayloadKind.Content,
        compression: Compression.Zstd,
      },
    };
  }

  private track(chunks: Uint8Array[]): Uint8Array[] {
    for (const c of chunks) {
      this.hasher.update(c);
      this.storedSize += c.byteLength;
    }
    return chunks;
  }
}
