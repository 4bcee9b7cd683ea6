import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIndex, type IndexEntry } from '../../core/formats/repo-index';
import { parseRootIndex, type RootIndex } from '../../core/formats/root-index';
import { historyIds, isHistoryId } from '../../core/repo/history';
import { NotFoundError } from '../../db/store';

/**
 * The published repositories as a reader sees them (moss, a mirror, the dashboard): each index's root index
 * (`<base>/<index>/moss-root-index.json`), its streams and tags, and the `stone.index` of a history version. Read
 * from the same place builders fetch packages from (SUMMIT_PACKAGES_URL: vessel's HTTP server, or its folder on
 * this host), so it works wherever the API runs. History versions are immutable, so their parsed indexes are kept
 * (a few, least recently used first out); a root index is read again after ROOT_TTL_MS.
 */
const ROOT_TTL_MS = 2_000;
const KEPT_HISTORIES = 16;
/** A stone.index of 100,000 packages is ~30 MB; anything far above is not one of ours. */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;
const ARCH = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export interface PublishedHistory {
  id: string;
  /** Entries by architecture. */
  arches: Record<string, IndexEntry[]>;
}

export class PublishedIndexes {
  private readonly roots = new Map<string, { at: number; root: Promise<RootIndex | null> }>();
  private readonly histories = new Map<string, Promise<PublishedHistory>>();

  constructor(
    private readonly baseUrl: string | undefined,
    readonly indexes: readonly string[],
    private readonly now: () => number = Date.now,
    /** The profile's architectures (core/profile.ts): what a history over HTTP, which cannot be listed, is read for. */
    private readonly architectures: readonly string[] = ['x86_64'],
  ) {}

  /** The root index of `index`, or null when nothing was published to it yet. NotFoundError for an unknown index. */
  async root(index: string): Promise<RootIndex | null> {
    if (!this.indexes.includes(index)) throw new NotFoundError('index', index);
    const kept = this.roots.get(index);
    if (kept && this.now() - kept.at < ROOT_TTL_MS) return kept.root;
    const root = this.read(`${index}/moss-root-index.json`).then((bytes) => (bytes ? parseRootIndex(bytes.toString('utf8'), `${index}/moss-root-index.json`) : null));
    this.roots.set(index, { at: this.now(), root });
    root.catch(() => this.roots.delete(index));
    return root;
  }

  /** One history version's packages; NotFoundError when the root index does not list it. */
  async history(index: string, id: string): Promise<PublishedHistory> {
    const root = await this.root(index);
    if (!root || !isHistoryId(id) || !root.history[id]) throw new NotFoundError('history', `${index}/${id}`);
    const key = `${index}/${id}`;
    let found = this.histories.get(key);
    if (found) {
      this.histories.delete(key);
    } else {
      found = this.readHistory(index, id);
      found.catch(() => this.histories.delete(key));
    }
    this.histories.set(key, found);
    if (this.histories.size > KEPT_HISTORIES) this.histories.delete(this.histories.keys().next().value!);
    return found;
  }

  /** The history a stream or tag points at. */
  async streamHistory(index: string, stream: string): Promise<PublishedHistory | null> {
    const root = await this.root(index);
    const pointer = root?.streams[stream] ?? root?.tags[stream];
    return pointer ? this.history(index, pointer.history) : null;
  }

  /** Every version of one package across the newest `limit` history versions, newest first. */
  async packageHistory(index: string, name: string, limit = 20): Promise<Array<{ history: string; arch: string; entry: IndexEntry }>> {
    const root = await this.root(index);
    if (!root) return [];
    const ids = historyIds(root).reverse().slice(0, limit);
    const out: Array<{ history: string; arch: string; entry: IndexEntry }> = [];
    for (const id of ids) {
      const h = await this.history(index, id);
      for (const [arch, entries] of Object.entries(h.arches)) for (const entry of entries) if (entry.name === name) out.push({ history: id, arch, entry });
    }
    return out;
  }

  private async readHistory(index: string, id: string): Promise<PublishedHistory> {
    const arches: Record<string, IndexEntry[]> = {};
    for (const arch of await this.arches(index, id)) {
      const where = `${index}/history/${id}/${arch}/stone.index`;
      const bytes = await this.read(where);
      if (bytes) arches[arch] = await readIndex(bytes, where);
    }
    return { id, arches };
  }

  /** The architectures of a history: listed from the folder when it is on this host; the profile's over HTTP (an absent one reads as nothing). */
  private async arches(index: string, id: string): Promise<string[]> {
    const dir = this.localPath(`${index}/history/${id}`);
    if (!dir) return [...this.architectures];
    try {
      return (await readdir(dir)).filter((a) => ARCH.test(a)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private localPath(relative: string): string | undefined {
    if (!this.baseUrl?.startsWith('file:')) return undefined;
    return join(fileURLToPath(this.baseUrl), ...relative.split('/'));
  }

  /** A file under the base, or null when it does not exist. */
  private async read(relative: string): Promise<Buffer | null> {
    if (!this.baseUrl) return null;
    const local = this.localPath(relative);
    if (local) {
      try {
        const s = await stat(local);
        if (!s.isFile()) return null;
        if (s.size > MAX_INDEX_BYTES) throw new Error(`${relative} is ${s.size} bytes, more than any index this reads`);
        return await readFile(local);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    }
    const res = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/${relative}`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`${relative}: ${res.status} from the repository server`);
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_INDEX_BYTES) throw new Error(`${relative} is ${length} bytes, more than any index this reads`);
    return Buffer.from(await res.arrayBuffer());
  }
}
