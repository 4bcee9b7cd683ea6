import type { IndexEntry } from '../formats/repo-index';
import { poolPath } from './pool';
import { judgePackage, type Candidate, type PublishedSet, type Refusal } from './release-rules';

/**
 * Judge the builds of one publish together (core/repo/release-rules.ts holds the rules for one package).
 *
 * Builds are judged in arrival order, each against the published set as the builds before it left it, and each as
 * a whole: a refused build changes nothing and does not stop the builds after it. The published set is copied
 * once per batch, not once per build, and every lookup is by name, so a batch of 1,000 builds against 10,000
 * packages stays linear.
 */

/** One build waiting for a publish. */
export interface BatchBuild {
  candidates: readonly Candidate[];
  /**
   * Files whose pool path already holds a different file that a published history lists (found on disk by the
   * caller), with the reason: such a file can only be added by replacing a published one, which is never done.
   */
  poolClashes?: ReadonlyMap<string, string>;
}

export type BuildVerdict =
  | { kind: 'refused'; refusals: Refusal[] }
  /**
   * Every package is already published with the same sha256. `inBase`: by the set the batch started from (the
   * build was published by an earlier history, e.g. this is a retry), not only by an earlier build of this batch.
   */
  | { kind: 'unchanged'; entries: IndexEntry[]; inBase: boolean }
  | {
      kind: 'changed';
      /** This build's entries as they will be published, in candidate order. */
      entries: IndexEntry[];
      /** Pool paths (relative to the repository root) of the files this build adds, with their candidates. */
      additions: Array<{ candidate: Candidate; poolPath: string }>;
    };

export interface BatchPlan {
  /** One verdict per build, in the order given. */
  verdicts: BuildVerdict[];
  /** The whole new published set (untouched architectures copied), or undefined when no build changed it. */
  published?: Record<string, IndexEntry[]>;
}

interface ArchSet {
  list: IndexEntry[];
  at: Map<string, number>;
}

export function planBatch(base: PublishedSet, builds: readonly BatchBuild[]): BatchPlan {
  const sets = new Map<string, ArchSet>();
  const baseEntries = new Set<IndexEntry>();
  for (const [arch, entries] of Object.entries(base)) {
    sets.set(arch, { list: [...entries], at: new Map(entries.map((e, i) => [e.name, i])) });
    for (const e of entries) baseEntries.add(e);
  }
  const archSet = (arch: string): ArchSet => {
    let s = sets.get(arch);
    if (!s) sets.set(arch, (s = { list: [], at: new Map() }));
    return s;
  };

  let changed = false;
  const verdicts = builds.map((build): BuildVerdict => {
    const verdict = judgeBuild(build, (arch, name) => {
      const s = sets.get(arch);
      const i = s?.at.get(name);
      return i === undefined ? undefined : s!.list[i];
    });
    if (verdict.kind === 'changed') {
      changed = true;
      for (const { entry, arch } of verdict.apply) {
        const s = archSet(arch);
        const i = s.at.get(entry.name);
        if (i === undefined) {
          s.at.set(entry.name, s.list.length);
          s.list.push(entry);
        } else s.list[i] = entry;
      }
      return { kind: 'changed', entries: verdict.entries, additions: verdict.additions };
    }
    if (verdict.kind === 'unchanged') return { ...verdict, inBase: verdict.entries.every((e) => baseEntries.has(e)) };
    return verdict;
  });
  if (!changed) return { verdicts };
  const published: Record<string, IndexEntry[]> = {};
  for (const [arch, s] of sets) published[arch] = s.list;
  return { verdicts, published };
}

type Judged =
  | { kind: 'refused'; refusals: Refusal[] }
  | { kind: 'unchanged'; entries: IndexEntry[] }
  | { kind: 'changed'; entries: IndexEntry[]; additions: Array<{ candidate: Candidate; poolPath: string }>; apply: Array<{ arch: string; entry: IndexEntry }> };

/** A whole build: all of it is published or none of it. Candidates may span architectures. */
function judgeBuild(build: BatchBuild, lookup: (arch: string, name: string) => IndexEntry | undefined): Judged {
  const { candidates } = build;
  if (candidates.length === 0) return { kind: 'refused', refusals: [{ file: '(none)', reason: 'the build has no packages to import' }] };
  const refusals: Refusal[] = [];
  const seen = new Map<string, string>();
  for (const c of candidates) {
    const key = `${c.meta.architecture}/${c.meta.name}`;
    const first = seen.get(key);
    if (first) refusals.push({ file: c.file, reason: `${c.file}: package ${c.meta.name} (${c.meta.architecture}) is also in ${first}; a build publishes each package once` });
    else seen.set(key, c.file);
  }
  if (refusals.length > 0) return { kind: 'refused', refusals };

  const entries: IndexEntry[] = [];
  const additions: Array<{ candidate: Candidate; poolPath: string }> = [];
  const apply: Array<{ arch: string; entry: IndexEntry }> = [];
  for (const c of candidates) {
    const verdict = judgePackage(lookup(c.meta.architecture, c.meta.name), c);
    if (verdict.action === 'refuse') {
      refusals.push({ file: c.file, reason: verdict.reason });
      continue;
    }
    entries.push(verdict.entry);
    if (verdict.action === 'unchanged') continue;
    const clash = build.poolClashes?.get(c.file);
    if (clash !== undefined) {
      refusals.push({ file: c.file, reason: clash });
      continue;
    }
    additions.push({ candidate: c, poolPath: poolPath(c.meta, c.file) });
    apply.push({ arch: c.meta.architecture, entry: verdict.entry });
  }
  if (refusals.length > 0) return { kind: 'refused', refusals };
  if (additions.length === 0) return { kind: 'unchanged', entries };
  return { kind: 'changed', entries, additions, apply };
}

export type ImportPlan =
  | { kind: 'refused'; refusals: Refusal[] }
  /** Everything is already published with the same hashes: nothing to write. */
  | { kind: 'unchanged'; entries: IndexEntry[] }
  | {
      kind: 'changed';
      /** The whole new published set, every architecture (untouched ones copied). */
      published: Record<string, IndexEntry[]>;
      /** This build's entries as they will be published, in candidate order. */
      entries: IndexEntry[];
      /** Pool paths (relative to the repository root) of the files this import adds, with their candidates. */
      additions: Array<{ candidate: Candidate; poolPath: string }>;
    };

/** One build on its own: a batch of one. */
export function planImport(published: PublishedSet, candidates: readonly Candidate[]): ImportPlan {
  const { verdicts: [verdict], published: next } = planBatch(published, [{ candidates }]);
  if (verdict.kind === 'changed') return { kind: 'changed', published: next!, entries: verdict.entries, additions: verdict.additions };
  if (verdict.kind === 'unchanged') return { kind: 'unchanged', entries: verdict.entries };
  return verdict;
}
