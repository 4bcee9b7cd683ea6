/**
 * Declared base repositories (issue 9, item 6): which base resolved which of a published set's runtime dependencies.
 * Pure: the closure gate (activities/vessel/closure-gate.ts) hands it what the set's own packages leave unresolved
 * and what each base provides, in the order the bases are declared; the first base providing a dependency is the
 * one that resolves it.
 */

/** What one base repository resolved: its index and the dependencies, sorted. */
export interface BaseResolution {
  base: string;
  dependencies: string[];
}

export interface BaseProviders {
  name: string;
  /** Architecture → every name and provider key its volatile history provides. */
  providers: ReadonlyMap<string, ReadonlySet<string>>;
}

export function resolveByBases<T extends { architecture: string; dependency: string }>(
  missing: readonly T[],
  bases: readonly BaseProviders[],
): { resolved: BaseResolution[]; unresolved: T[] } {
  const byBase = new Map<string, Set<string>>();
  const unresolved: T[] = [];
  for (const m of missing) {
    const base = bases.find((b) => b.providers.get(m.architecture)?.has(m.dependency));
    if (!base) {
      unresolved.push(m);
      continue;
    }
    (byBase.get(base.name) ?? byBase.set(base.name, new Set()).get(base.name)!).add(m.dependency);
  }
  const resolved = bases.flatMap((b) => (byBase.has(b.name) ? [{ base: b.name, dependencies: [...byBase.get(b.name)!].sort() }] : []));
  return { resolved, unresolved };
}
