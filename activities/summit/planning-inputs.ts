import type { History } from '../../core/graph/durations';
import type { PublishedProvider } from '../../core/planning/build-dependencies';
import { CompletedHistory, LatestPublished } from '../../core/planning/completed';
import type { TrustLevel } from '../../core/contracts/trust';
import type { BuilderState } from '../../core/trust/standing';
import { adminStoreOf, type HoldView } from '../../db/admin-store';
import { builderRegistryOf } from '../../db/builder-registry-store';
import { MarkedCache, type MarkedGroup } from '../../db/change-markers';
import type { CompletedTaskRow, RecipeRow, RecipeSnapshotRow, RepositoryRow, Store } from '../../db/store';

/**
 * What a planning round reads besides the open tasks — recipes, build durations, what each index publishes — kept
 * in the summit process between rounds so that a round reads only what changed:
 * - recipes per repository, reloaded only when the repository's snapshot generation moved (intake bumps it in
 *   the transaction that replaces the recipes), so a repository's recipes at a commit are loaded once;
 * - durations and the newest published task per (repository, source, index), folded in from the tasks that
 *   completed since the last round (an index range on (status, finishedAt)); completed is terminal, so what was
 *   folded in never changes.
 * - the small tables admins and intake write from other processes (repositories, holds, protections, the builder
 *   registry, recipe snapshots), read again only when their change marker moved (db/change-markers.ts): one
 *   statement a round reads them all while nothing changed.
 * The first round of a process reads every completed task once.
 */
export interface PlanningInputs {
  /** Recipes by `repository/source`. */
  recipes: ReadonlyMap<string, RecipeRow>;
  /** Durations per source, oldest first (the last HISTORY_WINDOW of each: all the estimate looks at). */
  history: History;
  /** Every package the newest completed task of each (repository, source, index) published; the same array while nothing changed. */
  published: readonly PublishedProvider[];
  /** Registered repositories by id. */
  repositories: ReadonlyMap<string, RepositoryRow>;
  /** Admins' holds by subject (db/admin-store.ts). */
  holds: ReadonlyMap<string, HoldView>;
  /** Protected package names or globs by repository. */
  protections: ReadonlyMap<string, string[]>;
  /** Every enrolled builder's trust and state. */
  registry: ReadonlyMap<string, { trust: TrustLevel; state: BuilderState }>;
}

type MarkedGet = <T>(group: MarkedGroup, key: string, load: () => Promise<T>) => Promise<T>;

/**
 * Completions are read again for this long behind the newest one seen: a task's finishedAt is taken before its
 * transaction commits, so a completion may become visible after a later one was already read. Ids already
 * folded in are skipped.
 */
export const COMPLETION_LAG_MS = 60_000;

export class PlanningInputsCache {
  private readonly recipesByRepository = new Map<string, { generation: number; rows: RecipeRow[] }>();
  private recipes = new Map<string, RecipeRow>();
  private readonly history = new CompletedHistory();
  private readonly latest = new LatestPublished();
  /** Ids of completions at or after `since`, already folded in. */
  private recent = new Map<string, number>();
  private since: Date | undefined;
  private published: PublishedProvider[] = [];
  private publishedStale = true;

  private readonly marked: MarkedCache;

  constructor(private readonly store: Store) {
    this.marked = new MarkedCache(() => store.orm.em.fork());
  }

  async load(): Promise<PlanningInputs> {
    const get = await this.marked.round();
    const admin = adminStoreOf(this.store);
    const [recipesChanged, completedChanged, repositories, holds, protections, registry] = await Promise.all([
      this.refreshRecipes(get), this.refreshCompleted(),
      get('repositories', 'rows', async () => new Map((await this.store.listRepositories()).map((r) => [r.id, r]))),
      get('admin', 'holds', () => admin.holds()),
      get('admin', 'protections', () => admin.protections()),
      get('registry', 'levels', () => builderRegistryOf(this.store).levels()),
    ]);
    if (recipesChanged || completedChanged || this.publishedStale) {
      this.published = this.latest.providers(this.recipes);
      this.publishedStale = false;
    }
    return { recipes: this.recipes, history: this.history.durations(), published: this.published, repositories, holds, protections, registry };
  }

  private async refreshRecipes(get: MarkedGet): Promise<boolean> {
    const snapshots: RecipeSnapshotRow[] = await get('recipes', 'snapshots', () => this.store.recipeSnapshots());
    let changed = false;
    const live = new Set<string>();
    for (const s of snapshots) {
      live.add(s.repository);
      if (this.recipesByRepository.get(s.repository)?.generation === s.generation) continue;
      // Read after the snapshot row: rows newer than its generation only make the next round reload once more.
      this.recipesByRepository.set(s.repository, { generation: s.generation, rows: await this.store.listRecipes(s.repository) });
      changed = true;
    }
    for (const repository of [...this.recipesByRepository.keys()]) {
      if (!live.has(repository)) {
        this.recipesByRepository.delete(repository);
        changed = true;
      }
    }
    if (changed) {
      this.recipes = new Map();
      for (const repository of [...this.recipesByRepository.keys()].sort()) {
        for (const r of this.recipesByRepository.get(repository)!.rows) this.recipes.set(`${r.repository}/${r.source}`, r);
      }
    }
    return changed;
  }

  private async refreshCompleted(): Promise<boolean> {
    const from = this.since && new Date(this.since.getTime() - COMPLETION_LAG_MS);
    // After the first round only the ids and times of the lag window are read, then the whole rows of those not yet
    // folded in: most of the window was folded in by an earlier round.
    const rows: ReadonlyArray<Pick<CompletedTaskRow, 'id' | 'finishedAt'>> = from ? await this.store.completionsSince(from) : await this.store.completedTasksSince();
    const unseen = rows.filter((t) => !this.recent.has(t.id));
    const whole = !from ? (unseen as CompletedTaskRow[]) : unseen.length > 0 ? await this.store.completedTasks(unseen.map((t) => t.id)) : [];
    for (const t of whole) this.fold(t);
    const changed = whole.length > 0;
    const newest = rows.at(-1)?.finishedAt;
    if (newest && (!this.since || newest > this.since)) this.since = newest;
    if (this.since) {
      const horizon = this.since.getTime() - COMPLETION_LAG_MS;
      const kept = new Map<string, number>();
      for (const [id, at] of this.recent) if (at >= horizon) kept.set(id, at);
      for (const t of rows) if (t.finishedAt && t.finishedAt.getTime() >= horizon) kept.set(t.id, t.finishedAt.getTime());
      this.recent = kept;
    }
    return changed;
  }

  private fold(t: CompletedTaskRow): void {
    if (t.startedAt && t.builtAt && t.finishedAt) this.history.add(t.source, t.finishedAt.getTime(), (t.builtAt.getTime() - t.startedAt.getTime()) / 1000);
    this.latest.add(t);
  }
}

/**
 * The cache of the summit process, one per store (the hub's planning activity runs in one worker process). A
 * caller that wants its own (a test, a benchmark's cold round) makes a PlanningInputsCache.
 */
const caches = new WeakMap<Store, PlanningInputsCache>();

export function planningInputsFor(store: Store): PlanningInputsCache {
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new PlanningInputsCache(store)));
  return cache;
}
