import { resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { CLOSURE_UNRESOLVED } from '../../core/contracts/vessel';
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
  const bases: ClosureSet[] = [];
  for (const name of settings.baseIndexes?.(repo.index) ?? []) {
    const base = new Repository(name, resolve(reposDirOf(repo.dir, repo.index), name));
    const id = volatileHistory(await base.readRootIndex());
    if (id) bases.push(await base.readHistory(id));
  }

  // What the set's own packages (and the declared bases) leave unresolved, from the repository's tracker: only the
  // entries that changed since its last publish are looked at. The base package can only take away from that.
  const own: Record<string, IndexEntry[]> = {};
  for (const [arch, entries] of Object.entries(published)) own[arch] = settings.producer ? entries.filter((e) => !isBasePackage(e)) : entries;
  let tracker = trackers.get(repo);
  if (!tracker) trackers.set(repo, (tracker = new ClosureTracker()));
  tracker.update(own);
  const baseProviders = providersOf(bases);
  const missing = tracker.missingDependencies(bases.length === 0 ? undefined : (arch, dep) => baseProviders.get(arch)?.has(dep) ?? false);

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
    const report = reportOf(repo.index, withWho, Object.keys(published).length > 1);
    throw ApplicationFailure.create({ message: describeClosure(report), type: CLOSURE_UNRESOLVED, nonRetryable: true, details: [report] });
  }
  return closed;
}
