import type { ApplicationFailure } from '@temporalio/common';
import type { BuildId } from '../../core/contracts/ids';
import type { EncodedEntries, IndexEntry } from '../../core/formats/repo-index';
import { nextHistoryId, recordHistory, volatileHistory } from '../../core/repo/history';
import { poolPath } from '../../core/repo/pool';
import { planBatch, type BatchBuild } from '../../core/repo/publish-batch';
import { summarizeRefusals, type Candidate, type PublishedSet } from '../../core/repo/release-rules';
import { commitInOrder, preparedAll } from './atomic-file';
import { closeHistory } from './closure-gate';
import { importRefused } from './refusal';
import type { Repository } from './repository';

/** A verified package and where its file waits in the staging folder. */
export interface StagedCandidate extends Candidate {
  stagedPath: string;
}

export interface PublishOutcome {
  /** The history version that publishes the build: the one its write made, or (nothing changed) the one volatile names. */
  historyId: string;
  /** The build's packages as published. */
  entries: IndexEntry[];
  /** False when every package was already published with the same sha256: nothing was written for it. */
  changed: boolean;
}

/** One build waiting for a write: its verified packages. */
export interface PendingBuild {
  buildId: BuildId;
  candidates: readonly StagedCandidate[];
}

export type BuildResult = { ok: true; outcome: PublishOutcome } | { ok: false; refusal: ApplicationFailure };

/**
 * What the publisher keeps between writes: the published set of the history it wrote or read last, keyed by that
 * history's id (versions are immutable, so an id always means the same entries), and the encoded payload of
 * every kept entry, so the next write neither reads the index back nor encodes the packages it did not change.
 */
export class KeptHistory {
  readonly encoded: EncodedEntries = new WeakMap();
  private kept?: { id: string; published: PublishedSet };

  async published(repo: Repository, id: string): Promise<PublishedSet> {
    if (this.kept?.id !== id) this.kept = { id, published: await repo.readHistory(id, this.encoded) };
    return this.kept.published;
  }

  remember(id: string, published: PublishedSet): void {
    this.kept = { id, published };
  }
}

/**
 * Publish a batch of builds (one write of the publisher) into a repository as its only writer (the caller holds the
 * index lock): one new history version holding every accepted build, and one move of volatile.
 *
 * Every build is judged before anything is written (core/repo/publish-batch.ts), so a refused build leaves the
 * pool, the history and the root index exactly as they were and does not stop the others. Then, in an order chosen
 * so that a crash at any point leaves a state every import of the batch, run again, converges from:
 *   1. files move from staging into the pool (a re-run finds them there with the right hash and carries on);
 *   2. the new history version appears whole (temporary folder + rename); a crash after it leaves an unpublished
 *      folder whose id is never reused;
 *   3. the root index moves volatile onto it (temporary file + rename) — the single step that publishes.
 * The history's files and the root index's are written and flushed together before either rename (one wait for the
 * disk instead of three); the renames keep the order above.
 * An error thrown here (not a refusal) fails every build of the batch; each is retried and converges.
 */
export async function publishBuilds(repo: Repository, kept: KeptHistory, builds: readonly PendingBuild[]): Promise<BuildResult[]> {
  return (await publishBatch(repo, kept, builds)).results;
}

/** What one write did: each build's result, the history (new, or the one volatile names) and the packages removed. */
export interface BatchOutcome {
  results: BuildResult[];
  historyId: string | undefined;
  changed: boolean;
  removed: string[];
}

/**
 * publishBuilds, plus removals (a wave's removed recipes): packages named in `removals` leave the new history
 * (every architecture); a write that only removes still makes a history.
 */
export async function publishBatch(repo: Repository, kept: KeptHistory, builds: readonly PendingBuild[], removals: readonly string[] = []): Promise<BatchOutcome> {
  const onDisk = await repo.tidyHistoryFolder();
  const root = await repo.readRootIndex();
  const baseId = volatileHistory(root);
  const full = baseId ? await kept.published(repo, baseId) : {};
  const gone = new Set(removals);
  const removed = [...new Set(Object.values(full).flatMap((entries) => entries.filter((e) => gone.has(e.name)).map((e) => e.name)))].sort();
  const base: PublishedSet = removed.length === 0 ? full : Object.fromEntries(Object.entries(full).map(([arch, entries]) => [arch, entries.filter((e) => !gone.has(e.name))]));

  // The pool path of an added package may already hold a file: the same one (an earlier attempt moved it before
  // crashing) is fine; a different one is replaced only if no published history lists it, because history
  // versions are immutable and so are the files they name. Only additions are looked at; a build refused for a
  // clash can turn a later build's package into an addition, so judge again until every addition was looked at.
  const present = new Map<string, string | undefined>();
  const listedBy = new Map<string, string[]>();
  const clashesOf = (b: PendingBuild): Map<string, string> | undefined => {
    const out = new Map<string, string>();
    for (const c of b.candidates) {
      const path = poolPath(c.meta, c.file);
      const users = listedBy.get(path);
      if (users && present.get(path) !== c.sha256) {
        out.set(c.file, `${c.file}: the pool already holds a different ${path} (sha256 ${present.get(path)}), published in history ${users.join(', ')}; a published file is never replaced: bump the release or build release`);
      }
    }
    return out.size > 0 ? out : undefined;
  };
  const looked = new Set<string>();
  let plan = planBatch(base, builds);
  for (;;) {
    // An addition needs a look unless its path was read already and either holds nothing, holds this very file,
    // or its published users are known.
    const unchecked = plan.verdicts
      .flatMap((v) => (v.kind === 'changed' ? v.additions : []))
      .filter((a) => !present.has(a.poolPath) || (present.get(a.poolPath) !== undefined && present.get(a.poolPath) !== a.candidate.sha256 && !looked.has(a.poolPath)));
    if (unchecked.length === 0) break;
    await inBatches(unchecked, async ({ candidate, poolPath: path }) => {
      if (!present.has(path)) present.set(path, await repo.poolFileHash(path));
      const hash = present.get(path);
      if (hash === undefined || hash === candidate.sha256) return;
      looked.add(path);
      const users = await repo.historiesReferencing(root, path);
      if (users.length > 0) listedBy.set(path, users);
    });
    if (listedBy.size > 0) plan = planBatch(base, builds.map((b): BatchBuild => ({ candidates: b.candidates, poolClashes: clashesOf(b) })));
  }

  // Closure (closure-gate.ts): the base package added, or CLOSURE_UNRESOLVED thrown before anything is written.
  if (plan.published) plan = { ...plan, published: await closeHistory(repo, plan.published) };

  let historyId = baseId;
  const published = plan.published ?? (removed.length > 0 ? base : undefined);
  if (published) {
    const moves = plan.verdicts.flatMap((verdict, i) => {
      if (verdict.kind !== 'changed') return [];
      const byFile = new Map(builds[i].candidates.map((c) => [c.file, c]));
      return verdict.additions.filter((a) => present.get(a.poolPath) !== a.candidate.sha256).map((a) => ({ stagedPath: byFile.get(a.candidate.file)!.stagedPath, poolPath: a.poolPath }));
    });
    await inBatches(moves, ({ stagedPath, poolPath: path }) => repo.placeInPool(stagedPath, path));
    historyId = nextHistoryId(root, onDisk);
    // The history and the root index are written and flushed together, then renamed in order: the history appears
    // whole before the root index names it.
    const [history, rootIndex] = await preparedAll([repo.prepareHistory(historyId, published, kept.encoded), repo.prepareRootIndex(recordHistory(root, historyId))]);
    await commitInOrder([history, rootIndex]);
    kept.remember(historyId, published);
  } else {
    // A re-run after a crash between the root index and its zstd copy: finish that write.
    await repo.repairRootIndexCopy();
  }

  const results = plan.verdicts.map((verdict, i): BuildResult => {
    const { buildId } = builds[i];
    if (verdict.kind === 'refused') return { ok: false, refusal: importRefused({ buildId, ...summarizeRefusals(verdict.refusals) }) };
    if (verdict.kind === 'unchanged') {
      // Published before this batch (a retry): the history that published it is the one volatile named.
      return { ok: true, outcome: { historyId: (verdict.inBase ? baseId : historyId)!, entries: verdict.entries, changed: false } };
    }
    return { ok: true, outcome: { historyId: historyId!, entries: verdict.entries, changed: true } };
  });
  return { results, historyId, changed: published !== undefined, removed };
}


/**
 * Run `fn` over `items` a few at a time: a batch of 1,000 builds checks and moves 1,000 pool files, and one
 * after another those file-system round trips took seconds. The order does not matter: every move happens
 * before the history that names the files is written.
 */
async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>, width = 16): Promise<void> {
  for (let at = 0; at < items.length; at += width) await Promise.all(items.slice(at, at + width).map(fn));
}
