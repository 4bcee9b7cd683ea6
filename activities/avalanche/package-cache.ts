import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { isSha256Hex } from '../../core/formats/hash';
import { sha256File } from './artefacts';
import type { BuildLog } from './build-log';
import { fetchVerified, type FetchSource } from './fetch';
import { KeyedLock } from './keyed-lock';

/**
 * Dependency packages kept by content hash (`avalanche/packages/<sha256>.stone`): a package whose sha256 summit
 * names is downloaded once per builder, verified on the way in, and hashed again at every later use, so a cached
 * file changed on the disk is noticed, removed and fetched again. The build reads it only on the host
 * (extraction into its own `<mason>/deps`), never through a bind: no build can write to the cache.
 *
 * Concurrent slots asking for one hash share one download (a lock per hash). Bounded disk: after each download the least recently
 * used files beyond `maxBytes` are removed, never one a running build is using.
 *
 * Extracted trees are not cached: a trivial dependency's fetch + verify + extract costs ~20 ms in `npm run
 * bench:build`; a cached tree would have to be bound read-only or copied into each build anyway.
 */
export const DEFAULT_PACKAGE_CACHE_BYTES = 4 * 1024 ** 3;

export interface PackageCacheStats {
  /** Downloads (a hash not cached, or a cached file that no longer matched its hash). */
  downloads: number;
  /** Uses of a cached file whose hash matched. */
  hits: number;
  /** Cached files that no longer matched their hash. */
  corrupt: number;
}

export class PackageCache {
  readonly stats: PackageCacheStats = { downloads: 0, hits: 0, corrupt: 0 };
  private readonly lock = new KeyedLock();
  private readonly inUse = new Map<string, number>();
  /**
   * What the cache folder holds (size, last use by hash), read from it once, at the first download, and kept up
   * to date by this process (the only one using the folder): a download then costs no walk of the whole cache.
   */
  private held?: Map<string, { size: number; used: number }>;

  constructor(readonly root: string, private readonly maxBytes = DEFAULT_PACKAGE_CACHE_BYTES) {}

  fileOf(sha256: string): string {
    return join(this.root, `${sha256}.stone`);
  }

  /**
   * The verified package file for `sha256`, fetched from `source` if needed, held for the duration of `use`
   * (the cache does not remove a file while a build reads it).
   */
  async with<T>(source: FetchSource, sha256: string, what: string, log: BuildLog, signal: AbortSignal | undefined, use: (file: string) => Promise<T>): Promise<T> {
    const hash = sha256.toLowerCase();
    if (!isSha256Hex(hash)) throw new Error(`${what}: "${sha256}" is not a sha256`);
    this.inUse.set(hash, (this.inUse.get(hash) ?? 0) + 1);
    try {
      await this.ensure(source, hash, what, log, signal);
      return await use(this.fileOf(hash));
    } finally {
      const n = (this.inUse.get(hash) ?? 1) - 1;
      if (n > 0) this.inUse.set(hash, n);
      else this.inUse.delete(hash);
    }
  }

  private async ensure(source: FetchSource, hash: string, what: string, log: BuildLog, signal: AbortSignal | undefined): Promise<void> {
    const file = this.fileOf(hash);
    // One slot at a time per hash: a second slot asking for a package being downloaded waits for it, then verifies it.
    await this.lock.run(hash, async () => {
      const actual = await sha256File(file).catch(() => undefined);
      if (actual === hash) {
        this.stats.hits++;
        const now = new Date();
        await utimes(file, now, now).catch(() => undefined);
        const entry = this.held?.get(hash);
        if (entry) entry.used = now.getTime();
        await log.write(`    cached (${hash.slice(0, 12)}…), hash verified\n`);
        return;
      }
      if (actual !== undefined) {
        this.stats.corrupt++;
        await log.write(`    cached copy no longer has sha256 ${hash}: fetching it again\n`);
        await rm(file, { force: true });
        this.held?.delete(hash);
      }
      await this.download(source, hash, what, signal);
    });
  }

  private async download(source: FetchSource, hash: string, what: string, signal: AbortSignal | undefined): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const part = `${this.fileOf(hash)}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await fetchVerified(source, part, hash, what, signal);
      await rename(part, this.fileOf(hash));
    } finally {
      await rm(part, { force: true });
    }
    this.stats.downloads++;
    if (this.held) {
      const s = await stat(this.fileOf(hash)).catch(() => undefined);
      if (s) this.held.set(hash, { size: s.size, used: s.mtimeMs });
    } else {
      this.held = await this.scan();
    }
    await this.trim(this.held);
  }

  /** The cached files by hash; leftovers of killed downloads removed. */
  private async scan(): Promise<Map<string, { size: number; used: number }>> {
    const held = new Map<string, { size: number; used: number }>();
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      const path = join(this.root, name);
      const m = /^([0-9a-f]{64})\.stone$/.exec(name);
      if (!m) {
        if (!name.includes(`.part-${process.pid}-`)) await rm(path, { force: true });
        continue;
      }
      const s = await stat(path).catch(() => undefined);
      if (s) held.set(m[1], { size: s.size, used: s.mtimeMs });
    }
    return held;
  }

  /** Least recently used files beyond maxBytes removed, except those in use. */
  private async trim(held: Map<string, { size: number; used: number }>): Promise<void> {
    let total = 0;
    for (const f of held.values()) total += f.size;
    if (total <= this.maxBytes) return;
    for (const [hash, f] of [...held].sort((a, b) => a[1].used - b[1].used)) {
      if (total <= this.maxBytes) break;
      if (this.inUse.has(hash)) continue;
      await rm(this.fileOf(hash), { force: true });
      held.delete(hash);
      total -= f.size;
    }
  }
}
