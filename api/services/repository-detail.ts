import type { RepositoryRow, Store } from '../../db/store';

export interface RepositoryDetail extends RepositoryRow {
  /** Recipes intake could not use at the last refresh, with the reasons (path order). */
  invalidRecipes: Array<{ path: string; commit: string; errors: string[] }>;
}

/** One repository as GET /api/repositories/:id shows it: the record and its invalid recipes. NotFoundError → 404. */
export async function repositoryDetail(store: Store, id: string): Promise<RepositoryDetail> {
  const repo = await store.getRepository(id);
  const invalid = await store.listInvalidRecipes(id);
  return { ...repo, invalidRecipes: invalid.map((r) => ({ path: r.path, commit: r.commit, errors: r.errors })) };
}
