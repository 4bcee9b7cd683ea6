import { chmod, copyFile, mkdir, open, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { toHex } from '../core/formats/bytes';
import { FormatError } from '../core/formats/errors';
import { xxh3_128Pool, type Hasher } from '../core/formats/hash';
import { describePackage, PackageFile } from '../core/formats/stone/package';
import { StoneReader } from '../core/formats/stone/reader';
import { IndexRecord } from '../core/formats/stone/records';

export interface ExtractResult {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
}

/**
 * Unpack a binary package under `dir` (a layout target `bin/nano` lands at `<dir>/usr/bin/nano`). The content
 * checksum is verified before anything is written, each file's XXH3-128 as it is written; content streams
 * through, one file at a time.
 */
export async function extractPackage(reader: StoneReader, dir: string, onProgress?: (done: number, total: number) => void): Promise<ExtractResult> {
  const pkg = describePackage(reader);
  await reader.verifyContent();
  await mkdir(dir, { recursive: true });
  const byDigest = new Map<string, PackageFile[]>();
  const result: ExtractResult = { files: 0, directories: 0, symlinks: 0, bytes: 0 };
  for (const f of pkg.files) {
    const dest = safeJoin(dir, f.path, reader.where);
    if (f.type === 'directory') {
      await mkdir(dest, { recursive: true });
      result.directories++;
    } else if (f.type === 'regular') {
      const list = byDigest.get(f.digest!) ?? [];
      list.push(f);
      byDigest.set(f.digest!, list);
    }
  }

  const records = [...reader.index()].sort((a, b) => a.start - b.start);
  const total = records.reduce((n, r) => n + (r.end - r.start), 0);
  let pos = 0;
  let current = 0;
  let sink: { rec: IndexRecord; tmp: string; fh: Awaited<ReturnType<typeof open>>; hash: Hasher } | undefined;

  const startSink = async (rec: IndexRecord): Promise<void> => {
    const tmp = join(dir, `.summit-extract-${toHex(rec.digest)}`);
    const hash = await xxh3_128Pool.take();
    sink = { rec, tmp, fh: await open(tmp, 'w'), hash };
  };
  const finishSink = async (): Promise<void> => {
    if (!sink) return;
    const { rec, tmp, fh, hash } = sink;
    sink = undefined;
    await fh.close();
    const want = toHex(rec.digest);
    const got = hash.digest('hex');
    xxh3_128Pool.give(hash);
    const targets = byDigest.get(want) ?? [];
    if (got !== want) {
      await rm(tmp, { force: true });
      throw new FormatError('stone', reader.where, `${targets[0]?.path ?? `content ${want}`}: content hashes to ${got}, layout says ${want}`);
    }
    for (const [i, f] of targets.entries()) {
      const dest = safeJoin(dir, f.path, reader.where);
      await mkdir(dirname(dest), { recursive: true });
      if (i === targets.length - 1) await rename(tmp, dest);
      else await copyFile(tmp, dest);
      await chmod(dest, f.mode & 0o7777);
      result.files++;
    }
    if (targets.length === 0) await rm(tmp, { force: true });
  };

  // Empty files have empty ranges and may sit anywhere; open them as we reach their start.
  const advance = async (): Promise<void> => {
    while (!sink && current < records.length && records[current].start === pos) {
      await startSink(records[current++]);
      if (sink!.rec.end === pos) await finishSink();
    }
  };

  await advance();
  for await (let chunk of reader.contentChunks()) {
    while (chunk.byteLength > 0) {
      if (!sink) {
        throw new FormatError('stone', reader.where, `content byte ${pos} belongs to no index record`);
      }
      const take = Math.min(chunk.byteLength, sink.rec.end - pos);
      const part = chunk.subarray(0, take);
      sink.hash.update(part);
      await sink.fh.write(part);
      pos += take;
      result.bytes += take;
      chunk = chunk.subarray(take);
      if (pos === sink.rec.end) {
        await finishSink();
        onProgress?.(pos, total);
        await advance();
      }
    }
  }
  if (sink || current < records.length) {
    await finishSink().catch(() => undefined);
    throw new FormatError('stone', reader.where, `content ends at byte ${pos} before the index records do`);
  }

  for (const f of pkg.files) {
    if (f.type !== 'symlink') continue;
    const dest = safeJoin(dir, f.path, reader.where);
    await mkdir(dirname(dest), { recursive: true });
    await rm(dest, { force: true });
    await symlink(f.linkTarget!, dest);
    result.symlinks++;
  }
  // Directory modes last, deepest first: a read-only directory must not stop us writing into it.
  for (const f of [...pkg.files].reverse()) {
    if (f.type === 'directory') await chmod(safeJoin(dir, f.path, reader.where), f.mode & 0o7777);
  }
  return result;
}

/** Join a package path under `dir`, refusing anything that would escape it. */
function safeJoin(dir: string, path: string, where: string): string {
  const rel = normalize(path).replace(/^\/+/, '');
  if (rel === '..' || rel.startsWith(`..${sep}`) || rel.includes(`${sep}..${sep}`)) {
    throw new FormatError('stone', where, `layout path "${path}" escapes the install root`);
  }
  return join(dir, rel);
}
