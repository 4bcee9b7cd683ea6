import type { ClosureReport } from '../contracts/vessel';
import type { PackageMeta } from '../formats/stone/meta';

/**
 * Closure of a published set under its runtime dependencies (issue 9, closure): every `depends` entry of every
 * package must be provided, in the same architecture, by a package of the set itself or of a declared base
 * repository — else moss refuses to install the package ("No such name: …"). What provides a dependency is what
 * moss matches: a package's `provides` strings, and its name for a plain-name dependency (`liba-devel` depends on
 * `liba`).
 *
 * Pure and linear: one set of providers per architecture, one lookup per dependency, so a 10,000-package index is
 * checked in milliseconds (`node dist/bench/run.js repo`).
 */

export type ClosureEntry = Pick<PackageMeta, 'name' | 'architecture' | 'depends' | 'provides'>;
export type ClosureSet = Readonly<Record<string, readonly ClosureEntry[]>>;

export interface Unresolved {
  dependency: string;
  architecture: string;
  neededBy: string[];
}

/** What every architecture of `sets` provides, merged: names and provides strings. */
export function providersOf(sets: readonly ClosureSet[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const set of sets) {
    for (const [arch, entries] of Object.entries(set)) {
      let provided = out.get(arch);
      if (!provided) out.set(arch, (provided = new Set()));
      for (const e of entries) {
        provided.add(e.name);
        for (const p of e.provides) provided.add(p);
      }
    }
  }
  return out;
}

/**
 * Each dependency of `published` that neither it nor any of `bases` provides, with the packages that need it,
 * sorted by architecture then dependency (neededBy sorted too), so two checks of one set report alike.
 */
export function unresolvedDependencies(published: ClosureSet, bases: readonly ClosureSet[] = []): Unresolved[] {
  const providers = providersOf([published, ...bases]);
  const missing = new Map<string, Unresolved>();
  for (const [arch, entries] of Object.entries(published)) {
    const provided = providers.get(arch) ?? new Set<string>();
    for (const e of entries) {
      for (const dep of e.depends) {
        if (provided.has(dep)) continue;
        const key = `${arch}\0${dep}`;
        let u = missing.get(key);
        if (!u) missing.set(key, (u = { dependency: dep, architecture: arch, neededBy: [] }));
        u.neededBy.push(e.name);
      }
    }
  }
  return [...missing.values()]
    .map((u) => ({ ...u, neededBy: [...new Set(u.neededBy)].sort() }))
    .sort((a, b) => (a.architecture === b.architecture ? cmp(a.dependency, b.dependency) : cmp(a.architecture, b.architecture)));
}

/**
 * The report a refused publish carries (core/contracts/vessel.ts): one row per unresolved dependency. When the set
 * spans several architectures, each dependency is named with its architecture (`x86_64:soname(libc.so.6(x86_64))`)
 * because the same text can be provided in one and missing in another.
 */
export function closureReport(index: string, published: ClosureSet, bases: readonly ClosureSet[] = []): ClosureReport {
  return reportOf(index, unresolvedDependencies(published, bases), Object.keys(published).length > 1);
}

/** The report of unresolved dependencies already found; `severalArchitectures` names each one's architecture. */
export function reportOf(index: string, unresolved: readonly Unresolved[], severalArchitectures: boolean): ClosureReport {
  return { index, unresolved: unresolved.map((u) => ({ dependency: severalArchitectures ? `${u.architecture}:${u.dependency}` : u.dependency, neededBy: u.neededBy })) };
}

/** One line for logs and failure messages: the first few unresolved dependencies and who needs them. */
export function describeClosure(report: ClosureReport, shown = 5): string {
  const rows = report.unresolved.slice(0, shown).map((u) => `${u.dependency} (needed by ${u.neededBy.join(', ')})`);
  const more = report.unresolved.length > shown ? ` and ${report.unresolved.length - shown} more` : '';
  return `index ${report.index}: ${report.unresolved.length} runtime dependenc${report.unresolved.length === 1 ? 'y' : 'ies'} nothing in the repository provides: ${rows.join('; ')}${more}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The same answer as unresolvedDependencies, kept up to date from one published set to the next: entries are
 * immutable objects and a publish reuses the objects of every package it did not change, so the tracker compares
 * the sets by identity and updates its counts only for the entries that came or went — a publish of one package
 * into a 10,000-package index touches a handful of strings instead of every dependency of every package.
 */
export class ClosureTracker {
  private entries = new Set<ClosureEntry>();
  private readonly arch = new Map<ClosureEntry, string>();
  /** `arch\0text` → how many entries provide it (name or provides). */
  private readonly providers = new Map<string, number>();
  /** `arch\0dependency` → the entries that need it. */
  private readonly needers = new Map<string, Set<ClosureEntry>>();
  /** Keys of needers with no provider. */
  private readonly missing = new Set<string>();

  update(set: ClosureSet): void {
    const next = new Set<ClosureEntry>();
    const archOf = new Map<ClosureEntry, string>();
    for (const [arch, entries] of Object.entries(set)) {
      for (const e of entries) {
        next.add(e);
        archOf.set(e, arch);
      }
    }
    for (const e of this.entries) if (!next.has(e) || archOf.get(e) !== this.arch.get(e)) this.remove(e);
    for (const e of next) if (!this.entries.has(e)) this.add(e, archOf.get(e)!);
    this.entries = next;
  }

  /** Like unresolvedDependencies, minus what `alsoProvided(arch, dependency)` provides (declared bases). */
  unresolved(alsoProvided?: (arch: string, dependency: string) => boolean): Unresolved[] {
    return this.missingDependencies(alsoProvided).map((u) => ({ ...u, neededBy: this.neededBy(u.architecture, u.dependency) }));
  }

  /**
   * The unresolved dependencies without who needs them, sorted: cheap (a publish's question), where neededBy of a
   * dependency ten thousand packages share costs a sort of ten thousand names (a refused publish's report).
   */
  missingDependencies(alsoProvided?: (arch: string, dependency: string) => boolean): Array<{ architecture: string; dependency: string }> {
    const out: Array<{ architecture: string; dependency: string }> = [];
    for (const key of this.missing) {
      const [architecture, dependency] = splitKey(key);
      if (!alsoProvided?.(architecture, dependency)) out.push({ architecture, dependency });
    }
    return out.sort((a, b) => (a.architecture === b.architecture ? cmp(a.dependency, b.dependency) : cmp(a.architecture, b.architecture)));
  }

  neededBy(architecture: string, dependency: string): string[] {
    return [...new Set([...(this.needers.get(`${architecture}\0${dependency}`) ?? [])].map((e) => e.name))].sort();
  }

  private provided(e: ClosureEntry): Set<string> {
    return new Set([e.name, ...e.provides]);
  }

  private add(e: ClosureEntry, arch: string): void {
    this.arch.set(e, arch);
    for (const p of this.provided(e)) {
      const key = `${arch}\0${p}`;
      this.providers.set(key, (this.providers.get(key) ?? 0) + 1);
      this.missing.delete(key);
    }
    for (const d of new Set(e.depends)) {
      const key = `${arch}\0${d}`;
      let who = this.needers.get(key);
      if (!who) this.needers.set(key, (who = new Set()));
      who.add(e);
      if (!this.providers.get(key)) this.missing.add(key);
    }
  }

  private remove(e: ClosureEntry): void {
    const arch = this.arch.get(e)!;
    this.arch.delete(e);
    for (const p of this.provided(e)) {
      const key = `${arch}\0${p}`;
      const n = (this.providers.get(key) ?? 1) - 1;
      if (n > 0) this.providers.set(key, n);
      else {
        this.providers.delete(key);
        if (this.needers.get(key)?.size) this.missing.add(key);
      }
    }
    for (const d of new Set(e.depends)) {
      const key = `${arch}\0${d}`;
      const who = this.needers.get(key);
      who?.delete(e);
      if (who && who.size === 0) {
        this.needers.delete(key);
        this.missing.delete(key);
      }
    }
  }
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf('\0');
  return [key.slice(0, at), key.slice(at + 1)];
}
