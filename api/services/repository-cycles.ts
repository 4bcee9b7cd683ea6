import type { BootstrapPlan } from '../../core/graph/bootstrap';
import { buildGraph } from '../../core/graph/graph';
import { planOrder } from '../../core/graph/order';
import type { Store } from '../../db/store';

/**
 * The dependency cycles among one repository's recipes and how each is bootstrapped (which edges the first pass
 * builds without, in which stages, what is rebuilt after), computed by core/graph from the recipes intake stored,
 * the same code `summit graph` and planning use. Planning computes cycles over the open tasks of every repository
 * and keeps none; this answers from the recipes themselves, so a packager sees the cycles of the tree as it is.
 * Kept per repository until intake replaces its recipes (the snapshot's generation moves): a 2,000-recipe tree
 * costs one graph (~50 ms), once per commit.
 */
export interface RepositoryCycles {
  repository: string;
  /** The commit the recipes were read at; null before the first intake. */
  commit: string | null;
  recipes: number;
  cycles: BootstrapPlan[];
  /** Dependencies no recipe of the repository provides, by how many recipes want them. */
  unresolved: number;
}

export class RepositoryCyclesCache {
  private readonly kept = new Map<string, { generation: number; value: RepositoryCycles }>();

  constructor(private readonly store: Store) {}

  async of(repository: string): Promise<RepositoryCycles> {
    await this.store.getRepository(repository); // NotFoundError → 404 for an unknown one
    const snapshot = await this.store.recipeSnapshot(repository);
    if (!snapshot) return { repository, commit: null, recipes: 0, cycles: [], unresolved: 0 };
    const hit = this.kept.get(repository);
    if (hit && hit.generation === snapshot.generation) return hit.value;
    const recipes = await this.store.listRecipes(repository);
    const graph = buildGraph(recipes.map((r) => ({ source: r.source, version: r.version, release: r.release, packages: r.packages })));
    const value = { repository, commit: snapshot.commit, recipes: recipes.length, cycles: planOrder(graph).cycles, unresolved: graph.unresolved.length };
    this.kept.set(repository, { generation: snapshot.generation, value });
    // A farm has a handful of repositories; an unbounded map of removed ones is still bounded by those registered.
    if (this.kept.size > 256) this.kept.delete(this.kept.keys().next().value!);
    return value;
  }
}
