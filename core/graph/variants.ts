import { BuildGraphOptions, DependencyGraph, GraphInputError, buildGraph } from './graph';
import { RecipeNode } from './recipe';

/**
 * One build variant of a profile: an architecture baseline (`x86_64`) or an ISA level layered on one
 * (`x86_64-v3x`: -march=x86-64-v3 plus extras, FORMATS.md §7). Each variant publishes to its own index.
 */
export interface VariantSpec {
  id: string;
  /** Index id the variant's packages are published to. */
  index: string;
  /**
   * The variant whose packages this one's builds may also use (the v3x build root sees the v3x index over the
   * baseline index). Absent for a baseline.
   */
  layersOn?: string;
  /** Source names built for this variant; absent means every recipe (always the case for a baseline). */
  only?: readonly string[];
}

export interface Profile {
  variants: readonly VariantSpec[];
}

/** A recipe built for one variant: the unit the farm schedules. */
export interface VariantTask {
  id: string;
  source: string;
  variant: string;
  index: string;
}

export function variantTaskId(source: string, variant: string): string {
  return `${source}@${variant}`;
}

/**
 * Which scopes a node of each variant resolves dependencies from: its own, then what it layers on,
 * transitively. A baseline sees only itself, so variant tasks can never block the baseline.
 */
export function variantScopes(profile: Profile): (scope: string) => readonly string[] {
  const byId = new Map(profile.variants.map((v) => [v.id, v]));
  if (byId.size !== profile.variants.length) throw new GraphInputError('profile declares a variant twice');
  const chains = new Map<string, string[]>();
  for (const variant of profile.variants) {
    const chain = [variant.id];
    for (let v = variant; v.layersOn !== undefined; ) {
      const next = byId.get(v.layersOn);
      if (!next) throw new GraphInputError(`variant "${v.id}" layers on unknown variant "${v.layersOn}"`);
      if (chain.includes(next.id)) throw new GraphInputError(`variants layer on each other in a loop: ${chain.join(' → ')}`);
      chain.push(next.id);
      v = next;
    }
    chains.set(variant.id, chain);
  }
  return (scope) => chains.get(scope) ?? [scope];
}

/**
 * Fan recipes out into one node per variant they are built for (id `source@variant`, scope = variant) and build
 * the graph over them. A variant task depends on the same-variant tasks of its dependencies where they exist
 * and on the baseline tasks of its dependencies (the baseline packages are in its build root too); baseline
 * tasks depend only on baseline tasks. Cycles are therefore always within one variant.
 */
export function buildVariantGraph(
  recipes: readonly RecipeNode[],
  profile: Profile,
  options: Omit<BuildGraphOptions, 'visibleScopes'> = {},
): { graph: DependencyGraph; tasks: VariantTask[] } {
  const visibleScopes = variantScopes(profile);
  const nodes: RecipeNode[] = [];
  const meta = new Map<string, VariantTask>();
  for (const variant of profile.variants) {
    const only = variant.only ? new Set(variant.only) : undefined;
    for (const recipe of recipes) {
      if (only && !only.has(recipe.source)) continue;
      const id = variantTaskId(recipe.source, variant.id);
      nodes.push({ ...recipe, id, scope: variant.id });
      meta.set(id, { id, source: recipe.source, variant: variant.id, index: variant.index });
    }
  }
  const graph = buildGraph(nodes, { ...options, visibleScopes });
  return { graph, tasks: graph.nodes.map((id) => meta.get(id)!) };
}
