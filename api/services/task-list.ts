import type { Store, TaskCursor, TaskFilter } from '../../db/store';

/**
 * GET /api/tasks: a page of tasks and the count of all that match. The page is always read now; the count is
 * the expensive half at 100,000 tasks (it walks the whole index range of the filter) and a dashboard polling
 * one filter asks the same question many times a second, so a count is shared by the requests for the same
 * filter for up to `maxAgeMs`. The response says which it got: `totalExact` is true when the count was taken
 * for this request, `totalAt` when it was taken. `total=exact` always counts now.
 */
export interface TaskPage {
  /** The page's tasks as a JSON array, written by the database (Store.listTasksJson). */
  itemsJson: string;
  total: number;
  /** True when `total` was counted for this response; false when it is another request's count, at most `maxAgeMs` old. */
  totalExact: boolean;
  /** When `total` was counted (ISO 8601). */
  totalAt: string;
  next: TaskCursor | null;
}

export type TotalMode = 'exact' | 'recent';

/** A second: fresh enough for anyone reading a total beside a page that may change under them anyway. */
export const DEFAULT_TOTAL_MAX_AGE_MS = 1_000;
/** Distinct filters remembered at most (a filter holds a short key and two numbers). */
const MAX_FILTERS = 1_000;

interface Counted {
  total: number;
  at: number;
}

export class TaskList {
  private readonly counts = new Map<string, Promise<Counted>>();

  constructor(
    private readonly store: Store,
    private readonly maxAgeMs = DEFAULT_TOTAL_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async page(filter: TaskFilter, mode: TotalMode = 'recent'): Promise<TaskPage> {
    const [page, counted] = await Promise.all([this.store.listTasksJson(filter), this.count(filter, mode)]);
    return { itemsJson: page.json, total: counted.count.total, totalExact: counted.fresh, totalAt: new Date(counted.count.at).toISOString(), next: page.next };
  }

  private async count(filter: TaskFilter, mode: TotalMode): Promise<{ count: Counted; fresh: boolean }> {
    const key = JSON.stringify([[...new Set(filter.status ?? [])].sort(), filter.repository ?? null, filter.source ?? null]);
    const started = this.now();
    const cached = mode === 'recent' && this.maxAgeMs > 0 ? this.counts.get(key) : undefined;
    if (cached) {
      // Reused, even one still running for another request: only a count this request started is called exact.
      const count = await cached.catch(() => undefined);
      if (count && started - count.at <= this.maxAgeMs) return { count, fresh: false };
    }
    const at = this.now();
    const counting = this.store.countTasks(filter).then((total) => ({ total, at }));
    this.counts.delete(key);
    this.counts.set(key, counting);
    if (this.counts.size > MAX_FILTERS) this.counts.delete(this.counts.keys().next().value!);
    // A failed count is not remembered: the next request asks the database again.
    counting.catch(() => {
      if (this.counts.get(key) === counting) this.counts.delete(key);
    });
    return { count: await counting, fresh: true };
  }
}
