import { createHash } from 'node:crypto';
import { chmodSync, constants, copyFileSync, existsSync, lstatSync, lutimesSync, mkdirSync, readlinkSync, symlinkSync, utimesSync, type Stats } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { redactUrl } from '../../core/security/source-url';
import type { BuildLog } from './build-log';
import { runHostCommand, runHostPipe } from './host-command';
import { KeyedLock } from './keyed-lock';
import { smallTreeEntries } from './small-tree';

/**
 * One kept bare clone per recipe repository URL, below the builder's data dir (`avalanche/clones/<key>`, the key a
 * hash of the URL): a build fetches only its commit into it (`--depth=1`, so a first fetch brings one tree, later
 * ones only what changed since the commits already there) and takes out only the recipe's folder
 * (`git archive <commit> -- <path> | tar -x`). A commit already in the clone is not fetched again.
 *
 * - Every fetch names the URL after `--` and runs under the caller's GIT_ALLOW_PROTOCOL; the clone keeps no
 *   remote, so no URL is ever read back from its config. The URL was checked by the caller (checkout.ts).
 * - Slots of one builder share the clone: one lock per clone serialises fetch and archive (one builder is one
 *   process; a second process on the same data dir is not supported, as for the work folders).
 * - Anything failing in a kept clone (a corrupt object, a half-written clone of a killed builder, a fetch that
 *   failed) removes it and starts once more from an empty one; only a second failure fails the attempt (a
 *   builder's problem, retried like any checkout failure).
 * - Many builds of one commit (a wave): after WHOLE_TREE_AFTER of them the commit's whole tree is taken out once
 *   below the clone and later builds copy their folder from it in-process (copyFolderOut), at most KEPT_TREES trees.
 * - Bounded disk: each fetched commit keeps a ref `refs/kept/<commit>`; past MAX_KEPT_COMMITS commits the clone
 *   is removed after the build that crossed the line, and the next build starts a fresh depth-1 clone. So a clone
 *   holds at most one full tree plus the changes of that many commits. Clones unused for
 *   UNUSED_CLONE_DAYS and half-made ones are removed when the builder starts (workers/avalanche/leftovers.ts).
 */
export const MAX_KEPT_COMMITS = 100;
export const UNUSED_CLONE_DAYS = 30;
/** Written into a clone once it served a build: a clone without it is half-made and is started again. */
export const READY_MARKER = 'summit-ready';

export function clonesRoot(avalancheRoot: string): string {
  return join(avalancheRoot, 'clones');
}

/** What happened to the kept clones since the builder started: facts for tests and figures. */
export interface KeptCloneStats {
  /** Empty clones made (first use of a URL, or after removing a broken or full one). */
  created: number;
  /** Fetches of a commit the clone did not hold. */
  fetches: number;
  /** Clones removed because something in them failed. */
  recovered: number;
  /** Whole trees of a commit taken out of a clone (WHOLE_TREE_AFTER). */
  wholeTrees: number;
}

/**
 * Builds of one commit that each take out only their folder; from the next one on, the commit's whole tree is
 * taken out once (the same `git archive | tar -x`, without a path) below the clone, and each later build of it
 * copies its folder from there in-process: a wave of a thousand recipes at one commit runs git once, not a
 * thousand times. A commit built only a few times never costs a whole tree.
 */
export const WHOLE_TREE_AFTER = 3;
/** Whole trees kept per clone (the newest); older ones are removed when another is taken out. */
export const KEPT_TREES = 2;
/** A folder with more entries than this is taken out by git even when its commit's whole tree is there. */
const COPY_ENTRY_LIMIT = 2000;
/** Below a clone: the whole trees, `<commit>/`, each renamed into place once complete. */
const TREES = 'summit-trees';

export interface MaterialiseInput {
  /** The checked URL or real local path (checkout.ts). */
  url: string;
  /** The GIT_ALLOW_PROTOCOL for it. */
  allowProtocol: string;
  commit: string;
  /** The recipe folder, relative to the repository's top (already checked to stay inside). */
  path: string;
  /** Where the folder goes: `<dest>/<path>/...`. */
  dest: string;
  log: BuildLog;
  signal?: AbortSignal;
}

export class KeptClones {
  readonly stats: KeptCloneStats = { created: 0, fetches: 0, recovered: 0, wholeTrees: 0 };
  private readonly lock = new KeyedLock();
  /**
   * Per clone dir, the commits this process saw in it: their time and how many builds took them since the builder
   * started or the clone was last made anew. Forgotten with the clone, so it holds at most the commits one clone
   * keeps (MAX_KEPT_COMMITS).
   */
  private readonly commits = new Map<string, Map<string, { time: number; builds: number }>>();

  constructor(readonly root: string) {}

  /** The folder of the kept clone of `url`. */
  dirOf(url: string): string {
    return join(this.root, createHash('sha256').update(url).digest('hex').slice(0, 32));
  }

  /**
   * The recipe folder of `commit` into `dest`; returns the commit's time (unix seconds). A path the commit does
   * not have leaves `dest` without it (the caller reports the missing recipe).
   */
  async materialise(input: MaterialiseInput): Promise<number> {
    const dir = this.dirOf(input.url);
    return this.lock.run(dir, async () => {
      try {
        return await this.attempt(dir, input);
      } catch (err) {
        if (input.signal?.aborted) throw err;
        this.stats.recovered++;
        const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
        await input.log.marker(`kept clone of ${redactUrl(input.url)} unusable (${reason}); cloning again`);
        this.forget(dir);
        await rm(dir, { recursive: true, force: true });
        await rm(input.dest, { recursive: true, force: true });
        return await this.attempt(dir, input);
      }
    });
  }

  private async attempt(dir: string, input: MaterialiseInput): Promise<number> {
    const { log, signal, commit } = input;
    // Literal pathspecs: a recipe path is a folder name, never `:(glob)` or `:!` magic.
    const env = { GIT_ALLOW_PROTOCOL: input.allowProtocol, GIT_LITERAL_PATHSPECS: '1' };
    const git = (...args: string[]) => runHostCommand('git', ['-C', dir, '-c', 'gc.auto=0', ...args], { log, signal, env, quietStdout: true });
    const probe = (...args: string[]) => runHostCommand('git', ['-C', dir, ...args], { signal, env, quiet: true });
    const ready = join(dir, READY_MARKER);
    if (!existsSync(ready)) {
      this.forget(dir);
      await rm(dir, { recursive: true, force: true });
      await mkdir(this.root, { recursive: true });
      await runHostCommand('git', ['init', '--quiet', '--bare', '--', dir], { log, signal, env });
      this.stats.created++;
    }
    // Commits this process saw in the clone, with their time: a build of one of them spawns only the archive.
    let known = this.commits.get(dir);
    if (!known) this.commits.set(dir, (known = new Map()));
    let time = known.get(commit)?.time ?? (await commitTime(probe, commit).catch(() => undefined));
    let full = false;
    if (time === undefined) {
      this.stats.fetches++;
      try {
        await git('fetch', '--quiet', '--no-tags', '--depth=1', '--', input.url, `+${commit}:refs/kept/${commit}`);
      } catch {
        // A server that refuses to send a commit by its id (uploadpack.allowReachableSHA1InWant off): its branches.
        await git('fetch', '--quiet', '--no-tags', '--', input.url, '+refs/heads/*:refs/kept-heads/*');
        await git('update-ref', `refs/kept/${commit}`, commit);
      }
      time = await commitTime(git, commit);
      // Fetches write loose refs, and nothing packs them here (gc.auto=0).
      full = (await readdir(join(dir, 'refs', 'kept')).catch(() => [])).length > MAX_KEPT_COMMITS;
    }
    const seen = (known.get(commit)?.builds ?? 0) + 1;
    known.set(commit, { time, builds: seen });
    await mkdir(input.dest, { recursive: true });
    if (!full && seen > WHOLE_TREE_AFTER) {
      const tree = await this.wholeTree(dir, commit, env, log, signal);
      if (copyFolderOut(tree, input.path, input.dest)) {
        await this.touch(ready);
        return time;
      }
    }
    try {
      await runHostPipe(
        // tar.umask 022: the files come out as a checkout under the usual umask made them (0644/0755).
        ['git', ['-C', dir, '-c', 'tar.umask=022', 'archive', '--format=tar', commit, ...(input.path ? ['--', input.path] : [])]],
        ['tar', ['-x', '-C', input.dest, '--no-same-owner']],
        { log, signal, env },
      );
    } catch (err) {
      // No such folder in a readable commit is the recipe's problem, told by the caller; anything else is the
      // clone's (ls-tree fails on a damaged tree, and prints nothing only where the path is absent).
      const listed = await probe('ls-tree', '--name-only', commit, '--', input.path).catch(() => undefined);
      if (listed === undefined || listed.trim() !== '' || signal?.aborted) throw err;
    }
    if (full) {
      this.forget(dir);
      await log.write(`kept clone holds more than ${MAX_KEPT_COMMITS} commits: removed, the next build starts it again\n`);
      await rm(dir, { recursive: true, force: true });
    } else {
      await this.touch(ready);
    }
    return time;
  }

  /** Commits whose builds are counted, over every clone: bounded by the clones and what each keeps. */
  get countedCommits(): number {
    let n = 0;
    for (const known of this.commits.values()) n += known.size;
    return n;
  }

  /** What this process knew of a clone it is removing. */
  private forget(dir: string): void {
    this.commits.delete(dir);
  }

  private async touch(ready: string): Promise<void> {
    const now = new Date();
    await utimes(ready, now, now).catch(() => writeFile(ready, ''));
  }

  /** The commit's whole tree below the clone, taken out now unless it is there; older trees beyond KEPT_TREES removed. */
  private async wholeTree(dir: string, commit: string, env: Record<string, string>, log: BuildLog, signal?: AbortSignal): Promise<string> {
    const trees = join(dir, TREES);
    const tree = join(trees, commit);
    if (existsSync(tree)) return tree;
    const partial = `${tree}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    await runHostPipe(
      ['git', ['-C', dir, '-c', 'tar.umask=022', 'archive', '--format=tar', commit]],
      ['tar', ['-x', '-C', partial, '--no-same-owner']],
      { log, signal, env },
    );
    await rename(partial, tree);
    this.stats.wholeTrees++;
    const others = (await readdir(trees)).filter((n) => n !== commit);
    const byAge = await Promise.all(others.map(async (n) => ({ n, at: (await stat(join(trees, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    for (const { n } of byAge.sort((a, b) => b.at - a.at).slice(KEPT_TREES - 1)) await rm(join(trees, n), { recursive: true, force: true });
    return tree;
  }
}

/**
 * Copy `<tree>/<path>` to `<dest>/<path>` as `git archive … -- <path> | tar -x` would have written it: folders,
 * files with their modes, links as links, modification times kept. Every folder on the way to `path` must be a
 * real folder of the tree (a link there leads out of it: nothing is copied, as git archive copies nothing
 * through a link). False when the folder has more than COPY_ENTRY_LIMIT entries (the caller runs git instead).
 * The tree is the builder's own, written by tar from the commit and by nothing else since.
 */
function copyFolderOut(tree: string, path: string, dest: string): boolean {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) return false; // the whole repository: git writes it
  let at = tree;
  for (const [i, part] of parts.entries()) {
    at = join(at, part);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) return true; // not in the commit: the caller reports the missing recipe
    if (i < parts.length - 1 && !st.isDirectory()) return true;
  }
  const entries = smallTreeEntries([at], COPY_ENTRY_LIMIT);
  if (!entries) return false;
  const target = join(dest, ...parts);
  // The leading folders, as tar makes them from the archive's folder entries.
  if (parts.length > 1) mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const folders: Array<{ to: string; stats: Stats }> = [];
  for (const { path: from, stats } of entries) {
    const to = join(target, relative(at, from));
    if (stats.isDirectory()) {
      mkdirSync(to, { mode: 0o700 });
      folders.push({ to, stats });
    } else if (stats.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to);
      lutimesSync(to, stats.atime, stats.mtime);
    } else if (stats.isFile()) {
      copyFileSync(from, to, constants.COPYFILE_EXCL);
      chmodSync(to, stats.mode & 0o777);
      utimesSync(to, stats.atime, stats.mtime);
    }
  }
  // Folder modes and times last, deepest first: writing into a folder changes its time.
  for (const { to, stats } of folders.reverse()) {
    chmodSync(to, stats.mode & 0o777);
    utimesSync(to, stats.atime, stats.mtime);
  }
  return true;
}

async function commitTime(git: (...args: string[]) => Promise<string>, commit: string): Promise<number> {
  const out = (await git('show', '-s', '--format=%ct', `${commit}^{commit}`)).trim();
  const time = Number(out);
  if (!out || !Number.isSafeInteger(time)) throw new Error(`git show gave no commit time for ${commit}`);
  return time;
}

/**
 * Kept clones to remove when the builder starts: half-made ones (no ready marker: a builder killed while making
 * it) and those unused for UNUSED_CLONE_DAYS. Returns the folders removed.
 */
export async function removeStaleClones(root: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const dir = join(root, name);
    const used = await stat(join(dir, READY_MARKER)).then((s) => s.mtimeMs, () => undefined);
    if (used !== undefined && now - used < UNUSED_CLONE_DAYS * 86_400_000) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
