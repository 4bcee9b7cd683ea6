import { HISTORY_WINDOW, type History } from '../graph/durations';
import type { RecipePackage } from '../graph/recipe';
import type { PublishedProvider } from './build-dependencies';

/**
 * What planning keeps of completed tasks, folded in one completion at a time (completed is terminal, so nothing
 * folded in ever has to be taken out): the recent build durations of each source, and the newest completed
 * task of each (repository, source, index) with the packages it published.
 */

/** Recent build durations per source: the last `window` by finish time, all an estimate looks at. */
export class CompletedHistory {
  private readonly bySource = new Map<string, Array<{ at: number; seconds: number }>>();
  private snapshot: Map<string, number[]> | undefined;

  constructor(private readonly window = HISTORY_WINDOW) {}

  /** One successful build of `source` that finished at `at` (ms) and ran `seconds` from pickup to built. */
  add(source: string, at: number, seconds: number): void {
    let list = this.bySource.get(source);
    if (!list) this.bySource.set(source, (list = []));
    let i = list.length;
    while (i > 0 && list[i - 1].at > at) i--;
    list.splice(i, 0, { at, seconds });
    if (list.length > this.window) list.splice(0, list.length - this.window);
    this.snapshot = undefined;
  }

  /** Durations per source, oldest first; the same map until something is added. */
  durations(): History {
    if (!this.snapshot) this.snapshot = new Map([...this.bySource].map(([source, list]) => [source, list.map((d) => d.seconds)]));
    return this.snapshot;
  }
}

/** A completed task as far as what it published goes. */
export interface CompletedPublication {
  repository: string;
  source: string;
  index: string;
  release: number;
  published?: ReadonlyArray<{ name: string; uri: string; sha256: string }> | null;
}

/** The newest completed task of each (repository, source, index): what each index publishes now. */
export class LatestPublished {
  private readonly byKey = new Map<string, CompletedPublication>();

  add(task: CompletedPublication): void {
    const key = `${task.repository}/${task.source}/${task.index}`;
    const current = this.byKey.get(key);
    if (!current || task.release > current.release) this.byKey.set(key, task);
  }

  /**
   * Every published package with what its recipe (by `repository/source`) says it provides and depends on,
   * newest release first (ties by repository/source/index), the order build roots are resolved in.
   */
  providers(recipes: ReadonlyMap<string, { packages: readonly RecipePackage[] }>): PublishedProvider[] {
    const tasks = [...this.byKey].sort(([ka, a], [kb, b]) => b.release - a.release || (ka < kb ? -1 : ka > kb ? 1 : 0)).map(([, t]) => t);
    const out: PublishedProvider[] = [];
    for (const t of tasks) {
      const meta = new Map((recipes.get(`${t.repository}/${t.source}`)?.packages ?? []).map((p) => [p.name, p]));
      for (const p of t.published ?? []) {
        const m = meta.get(p.name);
        out.push({ name: p.name, provides: [...(m?.provides ?? [])], depends: [...(m?.depends ?? [])], index: t.index, uri: p.uri, sha256: p.sha256 });
      }
    }
    return out;
  }
}
