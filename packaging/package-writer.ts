import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '../core/formats/bytes';
import { xxh3_128Pool } from '../core/formats/hash';
import { encodeHeader, encodePayloadHeader, FileType, PAYLOAD_HEADER_SIZE, PayloadKind } from '../core/formats/stone/header';
import { PackageMeta, recordsFromMeta } from '../core/formats/stone/meta';
import { IndexRecord, LayoutFileType, LayoutRecord } from '../core/formats/stone/records';
import { ContentEncoder, encodeRecordPayload } from '../core/formats/stone/writer';
import { RootEntry, scanInstallRoot } from './install-root';

/**
 * Pack an install root into a binary `.stone` (meta, layout, index, content — the order boulder writes).
 * Content is de-duplicated by XXH3-128 and streamed twice from disk (hash, then compress), so memory stays flat
 * whatever the package size. Entries are owned by root (uid/gid 0) as boulder packs them; paths sort bytewise,
 * so the same tree and metadata give the same bytes.
 */
export interface WrittenPackage {
  path: string;
  files: number;
  uniqueContents: number;
  plainContentSize: number;
}

export async function writePackageFromRoot(root: string, meta: PackageMeta, outPath: string, entries?: RootEntry[]): Promise<WrittenPackage> {
  const scanned = entries ?? (await scanInstallRoot(root));
  const layout: LayoutRecord[] = [];
  const index: IndexRecord[] = [];
  const contentOrder: Array<{ rel: string; size: number }> = [];
  const seen = new Map<string, IndexRecord>();
  let offset = 0;
  for (const e of scanned) {
    const base = { uid: 0, gid: 0, mode: e.mode | typeBits(e.type), tag: 0, target: e.relPath };
    if (e.type === 'regular') {
      const digest = await hashFile(join(root, e.relPath), e.size);
      const hex = toHex(digest);
      if (!seen.has(hex)) {
        const rec = { start: offset, end: offset + e.size, digest };
        seen.set(hex, rec);
        index.push(rec);
        contentOrder.push({ rel: e.relPath, size: e.size });
        offset += e.size;
      }
      layout.push({ ...base, fileType: LayoutFileType.Regular, source: digest });
    } else if (e.type === 'symlink') {
      layout.push({ ...base, fileType: LayoutFileType.Symlink, source: new TextEncoder().encode(e.linkTarget ?? '') });
    } else {
      layout.push({ ...base, fileType: LayoutFileType.Directory, source: new Uint8Array(0) });
    }
  }

  const payloads = [
    await encodeRecordPayload({ kind: PayloadKind.Meta, records: recordsFromMeta(meta) }),
    await encodeRecordPayload({ kind: PayloadKind.Layout, records: layout }),
    await encodeRecordPayload({ kind: PayloadKind.Index, records: index }),
  ];
  const fh = await open(outPath, 'w');
  try {
    let pos = 0;
    const put = async (bytes: Uint8Array): Promise<void> => {
      await fh.write(bytes, 0, bytes.byteLength, pos);
      pos += bytes.byteLength;
    };
    await put(encodeHeader({ numPayloads: payloads.length + 1, fileType: FileType.Binary }));
    for (const p of payloads) {
      await put(encodePayloadHeader(p.header));
      await put(p.body);
    }
    // The content header needs the stored size and checksum: reserve it, stream the body, then fill it in.
    const contentHeaderAt = pos;
    await put(new Uint8Array(PAYLOAD_HEADER_SIZE));
    const encoder = await ContentEncoder.create();
    for (const { rel, size } of contentOrder) {
      for await (const chunk of fileChunks(join(root, rel), size)) {
        for (const stored of encoder.write(chunk)) await put(stored);
      }
    }
    const { tail, header } = encoder.end();
    for (const stored of tail) await put(stored);
    if (header.plainSize !== offset) throw new Error(`install root changed while packing ${root}: read ${header.plainSize} bytes, expected ${offset}`);
    await fh.write(encodePayloadHeader(header), 0, PAYLOAD_HEADER_SIZE, contentHeaderAt);
  } finally {
    await fh.close();
  }
  return { path: outPath, files: layout.length, uniqueContents: index.length, plainContentSize: offset };
}

function typeBits(type: RootEntry['type']): number {
  return type === 'regular' ? 0o100000 : type === 'symlink' ? 0o120000 : 0o040000;
}

async function hashFile(path: string, size: number): Promise<Uint8Array> {
  const h = await xxh3_128Pool.take();
  for await (const chunk of fileChunks(path, size)) h.update(chunk);
  const digest = h.digest('binary');
  xxh3_128Pool.give(h);
  return digest;
}

/** Files up to this size are read whole, in one buffer of their size. */
const WHOLE_FILE_BYTES = 1 << 20;

/**
 * A file's bytes in pieces of at most 1 MiB. A file the scan found small (most of a package) is read whole into
 * a buffer of its own size: a 1 MiB stream buffer per file, and another for the read that finds its end, is
 * garbage the worker's collector would otherwise chase in every build. Whatever the file holds when read is what
 * comes out; the caller checks the total against the scan.
 */
async function* fileChunks(path: string, size: number): AsyncGenerator<Buffer> {
  if (size <= WHOLE_FILE_BYTES) {
    const bytes = await readFile(path);
    if (bytes.byteLength > 0) yield bytes;
    return;
  }
  for await (const chunk of createReadStream(path, { highWaterMark: WHOLE_FILE_BYTES })) yield chunk as Buffer;
}
