import { resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { CLOSURE_UNRESOLVED, type ClosureReport } from '../../core/contracts/vessel';
import { resolveByBases, type BaseResolution } from '../../core/repo/base-resolution';
import type { IndexEntry } from '../../core/formats/repo-index';
import { baseNeedOf, isBasePackage, type BaseNeed } from '../../core/repo/base-packages';
import { ClosureTracker, describeClosure, providersOf, reportOf, type ClosureSet, type Unresolved } from '../../core/repo/closure';
import { volatileHistory } from '../../core/repo/history';
import type { BaseProducer } from './base-packages';
import { isTryIndex } from '../../core/contracts/try';
import { reposDirOf } from './layout';
import { Repository } from './repository';

/**
 * The gate every new history passes before it is written (issue 9, closure): the published set gets the base
 * package its packages need from the build root (base-packages.ts), and then every runtime dependency of every
 * package must resolve in the set or in a declared base repository; otherwise the publish fails with the
 * non-retryable CLOSURE_UNRESOLVED carrying a ClosureReport, before anything is written.
 *
 * The settings of a vessel folder (its build root, its declared bases) are registered by vesselDeps() under the
 * folder of its repositories, and found here from the repository's own folder: the publish path
 * (publish.ts → closeHistory) needs no new parameter, so the publisher's signature stays its own.
 */
export interface ClosureSettings {
  /** Packs what the build root provides; absent: no base package is made (the set must be closed by itself). */
  producer?: BaseProducer;
  /** The indexes whose volatile history counts as a declared base repository of `index`. */
  baseIndexes?: (index: string) => readonly string[];
}

const settingsByReposDir = new Map<string, ClosureSettings>();
/**
 * Base repositories declared by the repositories publishing into an index (db/entities.ts Repository.base), by the
 * index's folder: each wave's publish names its repository's (publishStagedBuilds → declareBases), and the closure
 * of the index counts every base declared for it in this process (an index several repositories publish into is
 * closed over the bases any of them declared).
 */
const declaredBases = new Map<string, Set<string>>();
/** Per repository object: which declared base resolved what, in its last closure check. */
const resolutions = new WeakMap<Repository, BaseResolution[]>();

export function declareBases(repo: Repository, names: readonly string[]): void {
  const key = resolve(repo.dir);
  for (const name of names) (declaredBases.get(key) ?? declaredBases.set(key, new Set()).get(key)!).add(name);
}

/** Which base resolved what in the repository's last closure check (empty: none was needed). */
export function baseResolutionOf(repo: Repository): BaseResolution[] {
  return resolutions.get(repo) ?? [];
}
/** Per repository object (a publisher keeps one for its index): the closure of its last published set. */
const trackers = new WeakMap<Repository, ClosureTracker>();

export function registerClosureSettings(reposDir: string, settings: ClosureSettings): void {
  settingsByReposDir.set(resolve(reposDir), settings);
}

function settingsOf(repo: Repository): ClosureSettings {
  return settingsByReposDir.get(resolve(reposDirOf(repo.dir, repo.index))) ?? {};
}

/**
 * The variant indexes layer on the baseline (core/variants.ts, `layersOn`): `main-v3x` builds see `main`'s
 * packages, so `main` is a declared base of every `main-<level>`.
 */
export function variantBases(index: string): readonly string[] {
  // A try index (core/contracts/try.ts) holds only what its ref changed: the rest resolves in the main line.
  if (isTryIndex(index)) return ['main'];
  return index !== 'main' && index.startsWith('main-') ? ['main'] : [];
}

/**
 * `published` closed under its runtime dependencies: with the base package it needs (made or reused, an older one
 * replaced), or else a CLOSURE_UNRESOLVED failure. Called under the index lock, before the history is written.
 */
export async function closeHistory(repo: Repository, published: Record<string, IndexEntry[]>): Promise<Record<string, IndexEntry[]>> {
  const settings = settingsOf(repo);
  const bases: Array<{ name: string; set: ClosureSet }> = [];
  const reposDir = reposDirOf(repo.dir, repo.index);
  for (const name of new Set([...(settings.baseIndexes?.(repo.index) ?? []), ...(declaredBases.get(resolve(repo.dir)) ?? [])])) {
    if (name === repo.index) continue;
    const base = new Repository(name, resolve(reposDir, name));
    const id = volatileHistory(await base.readRootIndex());
    if (id) bases.push({ name, set: await base.readHistory(id) });
  }

  // What the set's own packages leave unresolved, from the repository's tracker: only the entries that changed since
  // its last publish are looked at; then what each declared base resolves (core/repo/base-resolution.ts). The base
  // package can only take away from the rest.
  const own: Record<string, IndexEntry[]> = {};
  for (const [arch, entries] of Object.entries(published)) own[arch] = settings.producer ? entries.filter((e) => !isBasePackage(e)) : entries;
  let tracker = trackers.get(repo);
  if (!tracker) trackers.set(repo, (tracker = new ClosureTracker()));
  tracker.update(own);
  const { resolved, unresolved: missing } = resolveByBases(tracker.missingDependencies(), bases.map((b) => ({ name: b.name, providers: providersOf([b.set]) })));
  resolutions.set(repo, resolved);

  const closed: Record<string, IndexEntry[]> = {};
  const unresolved: Array<{ architecture: string; dependency: string }> = [];
  for (const [arch, entries] of Object.entries(published)) {
    const archMissing = missing.filter((u) => u.architecture === arch);
    let base: IndexEntry | undefined;
    if (settings.producer) {
      const needs = archMissing.map((u) => baseNeedOf(u.dependency)).filter((n): n is BaseNeed => n !== undefined);
      const { entry } = needs.length > 0 ? await settings.producer.produce(repo, arch, needs) : {};
      // The same package as before keeps its entry object, so the index writer reuses its encoded bytes.
      const previous = entries.find(isBasePackage);
      base = entry && previous?.hash === entry.hash ? previous : entry;
    }
    const provided = new Set(base ? [base.name, ...base.provides] : []);
    unresolved.push(...archMissing.filter((u) => !provided.has(u.dependency)));
    closed[arch] = base ? [...own[arch], base] : own[arch];
  }

  if (unresolved.length > 0) {
    const withWho: Unresolved[] = unresolved.map((u) => ({ ...u, neededBy: tracker.neededBy(u.architecture, u.dependency) }));
    const report: ClosureReport = { ...reportOf(repo.index, withWho, Object.keys(published).length > 1), ...(resolved.length > 0 ? { resolvedByBase: resolved } : {}) };
    throw ApplicationFailure.create({ message: describeClosure(report), type: CLOSURE_UNRESOLVED, nonRetryable: true, details: [report] });
  }
  return closed;
}
