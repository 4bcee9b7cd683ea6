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
function providersOf(sets: readonly ClosureSet[]): Map<string, Set<string>> {
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
