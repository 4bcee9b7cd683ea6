import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readIndex, writeIndex, type EncodedEntries, type IndexEntry } from '../../core/formats/repo-index';
import { decodeHeader, HEADER_SIZE } from '../../core/formats/stone/header';
import {
  compressRootIndex,
  decompressRootIndex,
  emptyRootIndex,
  parseRootIndex,
  serializeRootIndex,
  type RootIndex,
} from '../../core/formats/root-index';
import { historyIds, isHistoryId } from '../../core/repo/history';
import { historyIndexPath, indexUri, isSafeSegment } from '../../core/repo/pool';
import type { PublishedSet } from '../../core/repo/release-rules';
import type { HistoryVersion, RepositoryHistory } from '../../core/contracts/vessel';
import { commitInOrder, isErrno, prepareFileAtomic, preparedAll, writeFileAtomic, type PreparedFile } from './atomic-file';

export const ROOT_INDEX_FILE = 'moss-root-index.json';
export const ROOT_INDEX_ZST_FILE = 'moss-root-index.json.zst';

/**
 * One published repository on disk (an index such as `main`): its pool, its immutable history versions and its
 * root index. The files are the whole state — no database: the root index says which history each stream and tag
 * names, and a history's stone.index files say what it publishes. Callers hold the index's lock for every write.
 */
export class Repository {
  constructor(
    readonly index: string,
    readonly dir: string,
  ) {}

  get rootIndexPath(): string {
    return join(this.dir, ROOT_INDEX_FILE);
  }

  indexFile(historyId: string, arch: string): string {
    return join(this.dir, historyIndexPath(historyId, arch));
  }

  async readRootIndex(): Promise<RootIndex> {
    try {
      return parseRootIndex(await readFile(this.rootIndexPath, 'utf8'), this.rootIndexPath);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return emptyRootIndex();
      throw err;
    }
  }

  /**
   * The JSON first, then its zstd copy, each atomically. A crash in between leaves the copy one step behind, never
   * ahead: repairRootIndexCopy() brings it forward on the next write, so clients never see a stream go back.
   */
  async writeRootIndex(root: RootIndex): Promise<void> {
    await (await this.prepareRootIndex(root)).commit();
  }

  /** Both files of the root index written and flushed beside their targets (together); commit renames JSON, then copy. */
  async prepareRootIndex(root: RootIndex): Promise<PreparedFile> {
    await mkdir(this.dir, { recursive: true });
    const json = serializeRootIndex(root);
    const files = await preparedAll([prepareFileAtomic(this.rootIndexPath, json), prepareFileAtomic(join(this.dir, ROOT_INDEX_ZST_FILE), compressRootIndex(json))]);
    return { commit: () => commitInOrder(files), discard: async () => void (await Promise.all(files.map((f) => f.discard()))) };
  }

  async repairRootIndexCopy(): Promise<void> {
    let json: string;
    try {
      json = await readFile(this.rootIndexPath, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    const zstPath = join(this.dir, ROOT_INDEX_ZST_FILE);
    const copy = await readFile(zstPath).then((b) => decompressRootIndex(b, zstPath), () => undefined);
    if (copy !== json) await writeFileAtomic(zstPath, compressRootIndex(json));
  }

  /**
   * Remove the temporary folders of writes that crashed (only the lock holder may call this) and return the history
   * ids that have a folder, published or not (a crash can leave one the root index never named): one read of
   * history/ per publish.
   */
  async tidyHistoryFolder(): Promise<string[]> {
    const historyDir = join(this.dir, 'history');
    const names = await readdir(historyDir).catch((err) => (isErrno(err, 'ENOENT') ? [] : Promise.reject(err)));
    for (const name of names.filter((n) => n.startsWith('.tmp-'))) await rm(join(historyDir, name), { recursive: true, force: true });
    return names.filter(isHistoryId);
  }

  /** Every package a history version publishes, by architecture (with `encoded`, their stored payloads too). */
  async readHistory(historyId: string, encoded?: EncodedEntries): Promise<Record<string, IndexEntry[]>> {
    const dir = join(this.dir, 'history', historyId);
    const out: Record<string, IndexEntry[]> = {};
    for (const arch of (await readdir(dir)).filter(isSafeSegment).sort()) {
      const file = join(dir, arch, 'stone.index');
      out[arch] = await readIndex(await readFile(file), file, encoded);
    }
    return out;
  }

  /**
   * Write a new history version: every architecture's stone.index, flushed, into a hidden temporary folder; commit
   * makes the version appear whole with one rename. An existing version is never replaced (rename fails on a
   * non-empty target). Prepared apart from the commit so that its flush overlaps the root index's.
   */
  async prepareHistory(historyId: string, published: PublishedSet, encoded?: EncodedEntries): Promise<PreparedFile> {
    const historyDir = join(this.dir, 'history');
    const temp = join(historyDir, `.tmp-${historyId}-${randomBytes(4).toString('hex')}`);
    const discard = () => rm(temp, { recursive: true, force: true });
    try {
      await Promise.all(
        Object.keys(published).map(async (arch) => {
          const bytes = await writeIndex(published[arch], encoded);
          await mkdir(join(temp, arch), { recursive: true });
          // The folder is new and hidden, so the file needs no temporary name of its own: the folder's rename
          // publishes it.
          const fh = await open(join(temp, arch, 'stone.index'), 'wx');
          try {
            await fh.writeFile(bytes);
            await fh.sync();
          } finally {
            await fh.close();
          }
        }),
      );
    } catch (err) {
      await discard();
      throw err;
    }
    return {
      discard,
      commit: async () => {
        try {
          await rename(temp, join(historyDir, historyId));
        } catch (err) {
          await discard();
          throw err;
        }
      },
    };
  }

  /** sha256 of the file at a pool path, or undefined when there is none. */
  async poolFileHash(poolPath: string): Promise<string | undefined> {
    const file = join(this.dir, poolPath);
    try {
      return await sha256File(file);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /**
   * Move a verified staged file to its pool path. A rename on the same file system (staging/ sits beside repos/);
   * if they were ever split across file systems, a copy to a hidden temporary name and a rename instead.
   */
  async placeInPool(stagedPath: string, poolPath: string): Promise<void> {
    const dest = join(this.dir, poolPath);
    await mkdir(dirname(dest), { recursive: true });
    try {
      await rename(stagedPath, dest);
    } catch (err) {
      if (!isErrno(err, 'EXDEV')) throw err;
      const temp = join(dirname(dest), `.tmp-${randomBytes(4).toString('hex')}`);
      await copyFile(stagedPath, temp);
      await rename(temp, dest);
      await rm(stagedPath, { force: true });
    }
  }

  /** The published history versions that list the file at `poolPath` (scans their indexes: rare, on conflicts). */
  async historiesReferencing(root: RootIndex, poolPath: string): Promise<string[]> {
    const uri = indexUri(poolPath);
    const out: string[] = [];
    for (const id of historyIds(root)) {
      const published = await this.readHistory(id).catch(() => ({}));
      if (Object.values(published).some((entries) => entries.some((e) => e.uri === uri))) out.push(id);
    }
    return out;
  }

  async history(): Promise<RepositoryHistory> {
    const root = await this.readRootIndex();
    const histories: HistoryVersion[] = [];
    for (const id of historyIds(root)) {
      const dir = join(this.dir, 'history', id);
      const packages: Record<string, number> = {};
      for (const arch of (await readdir(dir)).filter(isSafeSegment).sort()) packages[arch] = await countIndexEntries(join(dir, arch, 'stone.index'));
      histories.push({ id, format: root.history[id].format, packages, createdAt: (await stat(dir)).mtime.toISOString() });
    }
    const pointers = (m: RootIndex['streams']) => Object.fromEntries(Object.entries(m).map(([k, p]) => [k, p.history]));
    return { index: this.index, histories, streams: pointers(root.streams), tags: pointers(root.tags) };
  }
}

/**
 * Packages in a stone.index without decoding it: the header's payload count (one meta payload per package), so
 * listing a thousand histories of a ten-thousand-package repository reads 32 bytes from each.
 */
async function countIndexEntries(file: string): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const bytes = new Uint8Array(HEADER_SIZE);
    await fh.read(bytes, 0, HEADER_SIZE, 0);
    return decodeHeader(bytes, file).numPayloads;
  } finally {
    await fh.close();
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
