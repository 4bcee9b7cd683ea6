import { EntityManager, InferEntity, MikroORM, UniqueConstraintViolationException } from '@mikro-orm/core';
import { isOpen, OPEN_STATUSES, TaskStatus, transition } from '../core/task/state';
import { Builder, InvalidRecipe, Recipe, Repository, Task, TaskEvent } from './entities';

export type RepositoryRow = InferEntity<typeof Repository>;
export type RecipeRow = InferEntity<typeof Recipe>;
export type TaskRow = InferEntity<typeof Task>;
export type TaskEventRow = InferEntity<typeof TaskEvent>;
export type BuilderRow = InferEntity<typeof Builder>;
export type InvalidRecipeRow = InferEntity<typeof InvalidRecipe>;

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly kind: string, readonly id: string) {
    super(`${kind} "${id}" does not exist`);
  }
}

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

export interface TaskFilter {
  status?: TaskStatus[];
  repository?: string;
  source?: string;
  limit: number;
  offset: number;
  /** Keyset paging: only tasks after this one in the list's order (createdAt desc, id desc). */
  after?: TaskCursor;
}

/** Where a page of the task list ended: its last task's creation time and id. */
export interface TaskCursor {
  createdAt: Date;
  id: string;
}

export type NewTask = Pick<TaskRow, 'id' | 'project' | 'repository' | 'source' | 'version' | 'release' | 'isa' | 'index' | 'commit' | 'recipePath'>;

/**
 * All reads and writes of summit's read model, one method per question or fact. Each call uses its own
 * EntityManager fork, so callers (activities, API handlers) never share an identity map.
 */
export class Store {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  // Repositories

  async addRepository(row: Pick<RepositoryRow, 'id' | 'project' | 'url'> & Partial<Pick<RepositoryRow, 'ref' | 'cascade' | 'networking'>>): Promise<RepositoryRow> {
    const em = this.em();
    if (await em.findOne(Repository, { id: row.id })) throw new ConflictError(`repository "${row.id}" already exists`);
    const repo = em.create(Repository, { ref: 'HEAD', cascade: false, networking: false, lastCommit: null, lastRefreshAt: null, ...row });
    try {
      await em.flush();
    } catch (err) {
      // Two registrations of one id at once: both pass the check above, the second insert hits the primary key.
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`repository "${row.id}" already exists`);
      throw err;
    }
    return repo;
  }

  /**
   * Forget a repository: its row and its recipe snapshot, in one transaction. Refused (ConflictError) while it
   * has open tasks (new, blocked, building, publishing): those belong to the hub, which must cancel them first,
   * or a running build would publish for a repository that no longer exists. Finished tasks stay as history.
   */
  async removeRepository(id: string): Promise<void> {
    await this.em().transactional(async (em) => {
      const repo = await em.findOne(Repository, { id });
      if (!repo) throw new NotFoundError('repository', id);
      const open = await em.find(Task, { repository: id, status: { $in: [...OPEN_STATUSES] } }, { fields: ['id', 'status'], orderBy: { id: 'asc' } });
      if (open.length > 0) {
        const counts = new Map<string, number>();
        for (const t of open) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
        const listed = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
        throw new ConflictError(`repository "${id}" has open tasks (${listed}); cancel them first (POST /api/tasks/:id/cancel), then remove it`);
      }
      await em.nativeDelete(Recipe, { repository: id });
      em.remove(repo);
    });
  }

  async listRepositories(): Promise<RepositoryRow[]> {
    return this.em().find(Repository, {}, { orderBy: { id: 'asc' } });
  }

  async getRepository(id: string): Promise<RepositoryRow> {
    const repo = await this.em().findOne(Repository, { id });
    if (!repo) throw new NotFoundError('repository', id);
    return repo;
  }

  async markRefreshed(id: string, commit: string): Promise<void> {
    await this.em().nativeUpdate(Repository, { id }, { lastCommit: commit, lastRefreshAt: new Date() });
  }

  async listProjects(): Promise<Array<{ id: string; repositories: number }>> {
    const counts = new Map<string, number>();
    for (const r of await this.listRepositories()) counts.set(r.project, (counts.get(r.project) ?? 0) + 1);
    return [...counts].map(([id, repositories]) => ({ id, repositories }));
  }

  // Recipes

  /** Replace a repository's recipe snapshot with the recipes read at `commit`. */
  async replaceRecipes(repository: string, rows: Array<Omit<RecipeRow, 'id' | 'repository' | 'updatedAt'>>): Promise<void> {
    const em = this.em();
    const existing = new Map((await em.find(Recipe, { repository })).map((r) => [r.source, r]));
    for (const row of rows) {
      const current = existing.get(row.source);
      if (current) {
        em.assign(current, row);
        existing.delete(row.source);
      } else {
        em.create(Recipe, { ...row, repository } as RecipeRow);
      }
    }
    for (const gone of existing.values()) em.remove(gone);
    await em.flush();
  }

  async listRecipes(repository?: string): Promise<RecipeRow[]> {
    return this.em().find(Recipe, repository ? { repository } : {}, { orderBy: { source: 'asc' } });
  }

  /** Replace a repository's list of invalid recipes with the one read at `commit` (one transaction). */
  async replaceInvalidRecipes(repository: string, commit: string, rows: ReadonlyArray<{ path: string; errors: string[] }>): Promise<void> {
    await this.em().transactional(async (em) => {
      await em.nativeDelete(InvalidRecipe, { repository });
      // One row per path (the table's key): reasons found for the same file by different checks are merged.
      const byPath = new Map<string, string[]>();
      for (const row of rows) byPath.set(row.path, [...(byPath.get(row.path) ?? []), ...row.errors]);
      for (const [path, errors] of byPath) em.create(InvalidRecipe, { repository, commit, path, errors } as InvalidRecipeRow);
    });
  }

  async listInvalidRecipes(repository: string): Promise<InvalidRecipeRow[]> {
    return this.em().find(InvalidRecipe, { repository }, { orderBy: { path: 'asc' } });
  }

  // Tasks

  async getTask(id: string): Promise<TaskRow> {
    const task = await this.em().findOne(Task, { id });
    if (!task) throw new NotFoundError('task', id);
    return task;
  }

  async findTask(id: string): Promise<TaskRow | null> {
    return this.em().findOne(Task, { id });
  }

  /**
   * A page of tasks, newest first (ties by id, descending: one direction, so every filter's index serves it),
   * with `total`, the count of all tasks matching the filters (not only those after the cursor), and `next`,
   * the cursor of the following page when there is one.
   */
  async listTasks(filter: TaskFilter): Promise<{ items: TaskRow[]; total: number; next: TaskCursor | null }> {
    const where: Record<string, unknown> = {};
    if (filter.status?.length) where.status = { $in: filter.status };
    if (filter.repository) where.repository = filter.repository;
    if (filter.source) where.source = filter.source;
    const em = this.em();
    const page: Record<string, unknown> = filter.after
      ? { ...where, $or: [{ createdAt: { $lt: filter.after.createdAt } }, { createdAt: filter.after.createdAt, id: { $lt: filter.after.id } }] }
      : where;
    const [rows, total] = await Promise.all([
      em.find(Task, page, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: filter.limit + 1, offset: filter.offset }),
      em.fork().count(Task, where),
    ]);
    const items = rows.slice(0, filter.limit);
    const last = items.at(-1);
    const next = rows.length > filter.limit && last ? { createdAt: last.createdAt, id: last.id } : null;
    return { items, total, next };
  }

  async openTasks(): Promise<TaskRow[]> {
    return this.em().find(Task, { status: { $in: [...OPEN_STATUSES] } }, { orderBy: { id: 'asc' } });
  }

  /** Failed or cancelled tasks not yet replaced by a newer release: they block their dependents. */
  async currentStoppedTasks(): Promise<TaskRow[]> {
    return this.em().find(Task, { status: { $in: ['failed', 'cancelled'] } }, { orderBy: { id: 'asc' } });
  }

  /** For each source, the durations in seconds of its past successful builds, oldest first (scheduler history). */
  async buildDurations(): Promise<Map<string, number[]>> {
    const done = await this.em().find(Task, { status: 'completed', startedAt: { $ne: null }, builtAt: { $ne: null } }, { orderBy: { finishedAt: 'asc' } });
    const out = new Map<string, number[]>();
    for (const t of done) {
      const seconds = (t.builtAt!.getTime() - t.startedAt!.getTime()) / 1000;
      out.set(t.source, [...(out.get(t.source) ?? []), seconds]);
    }
    return out;
  }

  /** The newest completed task of every (repository, source, index): what each index publishes now. */
  async latestCompletedTasks(): Promise<TaskRow[]> {
    const done = await this.em().find(Task, { status: 'completed' }, { orderBy: { release: 'desc' } });
    const seen = new Set<string>();
    return done.filter((t) => {
      const key = `${t.repository}/${t.source}/${t.index}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  async tasksOfSource(repository: string, source: string, isa: string): Promise<TaskRow[]> {
    return this.em().find(Task, { repository, source, isa }, { orderBy: { release: 'desc' } });
  }

  /** The newest release of a source that reached its index (completed), or 0. */
  async publishedRelease(repository: string, source: string, isa: string): Promise<number> {
    const done = await this.em().findOne(Task, { repository, source, isa, status: 'completed' }, { orderBy: { release: 'desc' } });
    return done?.release ?? 0;
  }

  async createTask(row: NewTask, reason: string): Promise<TaskRow> {
    const em = this.em();
    const task = em.create(Task, {
      ...row, status: 'new', attempts: 0, builder: null, priority: 0, logPath: null, logTail: null, reason: null,
      supersededBy: null, published: null, startedAt: null, builtAt: null, finishedAt: null,
    });
    em.create(TaskEvent, { task: row.id, from: null, to: 'new', reason });
    await em.flush();
    return task;
  }

  /**
   * Move a task to `to` through the state machine (IllegalTransitionError otherwise) and record the event.
   * Moving to the status it already has only updates `fields`, so activities that record a move can be retried.
   * See moveTask for how concurrent writers are kept apart.
   */
  async setStatus(id: string, to: TaskStatus, reason: string, fields: Partial<TaskRow> = {}): Promise<TaskRow> {
    return (await this.moveTask(id, to, reason, fields)).task;
  }

  /**
   * The one path that changes a task's status. Compare-and-set: the row is written only where its status is
   * still the one just read (`UPDATE … WHERE id = ? AND status = <read>`), the event in the same transaction. When
   * another writer got there first (an admin's cancel while the build records its result), the move is decided
   * again against the new status: legal → written, illegal → IllegalTransitionError, and with `onlyFrom` a
   * status outside that list leaves the task alone (`moved: false`), e.g. a failure does not overwrite a cancel.
   * Returns the task as written and the status it came from.
   */
  async moveTask(
    id: string,
    to: TaskStatus,
    reason: string,
    fields: Partial<TaskRow> = {},
    opts: { onlyFrom?: readonly TaskStatus[] } = {},
  ): Promise<{ task: TaskRow; from: TaskStatus; moved: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const task = await this.em().findOne(Task, { id });
      if (!task) throw new NotFoundError('task', id);
      const from = task.status as TaskStatus;
      if (opts.onlyFrom && !opts.onlyFrom.includes(from) && from !== to) return { task, from, moved: false };
      const now = new Date();
      let values: Partial<TaskRow>;
      if (from === to) {
        values = { ...fields, updatedAt: now };
      } else {
        transition(id, from, to);
        values = { ...fields, status: to, updatedAt: now };
        if (to === 'queued') Object.assign(values, { attempts: task.attempts + 1, builder: null, startedAt: null, builtAt: null });
        if (to === 'building') values.startedAt = fields.startedAt ?? now;
        if (to === 'publishing') values.builtAt = now;
        if (!isOpen(to)) values.finishedAt = now;
        if (to === 'new') values.finishedAt = null;
      }
      const written = await this.em().transactional(async (em) => {
        const n = await em.nativeUpdate(Task, { id, status: from }, values);
        if (n === 1 && from !== to) await em.insert(TaskEvent, { task: id, from, to, reason, at: now });
        return n === 1;
      });
      if (written) return { task: Object.assign(task, values), from, moved: from !== to };
      // Another writer changed the status between the read and the write: decide again on what it is now.
      if (attempt >= 10) throw new ConflictError(`task ${id} kept changing while moving it to ${to}; try again`);
    }
  }

  /**
   * Hand tasks to build workflows: each `new` task of `ids` becomes `queued` (compare-and-set, one transaction
   * per task). Returns the ids actually moved; a task that changed meanwhile (cancelled, superseded) is skipped.
   */
  async queueTasks(ids: readonly string[], reason: (id: string) => string): Promise<string[]> {
    const moved: string[] = [];
    for (const id of ids) {
      const r = await this.moveTask(id, 'queued', reason(id), { reason: null }, { onlyFrom: ['new'] });
      if (r.moved) moved.push(id);
    }
    return moved;
  }

  async updateTask(id: string, fields: Partial<Pick<TaskRow, 'commit' | 'recipePath' | 'priority' | 'builder' | 'logPath' | 'reason'>>): Promise<void> {
    await this.em().nativeUpdate(Task, { id }, fields);
  }

  async taskEvents(id: string): Promise<TaskEventRow[]> {
    return this.em().find(TaskEvent, { task: id }, { orderBy: { id: 'asc' } });
  }

  // Builders

  async upsertBuilder(row: Omit<BuilderRow, 'lastSeen'> & { lastSeen?: Date }): Promise<void> {
    const em = this.em();
    const existing = await em.findOne(Builder, { id: row.id });
    const values = { ...row, lastSeen: row.lastSeen ?? new Date() };
    if (existing) em.assign(existing, values);
    else em.create(Builder, values as BuilderRow);
    await em.flush();
  }

  async listBuilders(): Promise<BuilderRow[]> {
    return this.em().find(Builder, {}, { orderBy: { id: 'asc' } });
  }
}
