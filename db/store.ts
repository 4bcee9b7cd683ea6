import { EntityManager, InferEntity, MikroORM, UniqueConstraintViolationException } from '@mikro-orm/core';
import { isOpen, OPEN_STATUSES, TaskStatus, transition } from '../core/task/state';
import type { Knex, SqlEntityManager } from '@mikro-orm/knex';
import { Builder, InvalidRecipe, Recipe, Repository, Task, TaskEvent } from './entities';
import { TASK_COLUMNS_SQL, taskCountQuery, taskFromRow, taskJsonSql, taskPageQuery, toDate } from './task-query';

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

/** The embedded driver's connection (libsql's better-sqlite3-style Database), as far as the task list uses it. */
interface EmbeddedConnection {
  prepare(sql: string): { all(args: unknown[]): Array<Record<string, unknown>> };
}

export type NewTask = Pick<TaskRow, 'id' | 'project' | 'repository' | 'source' | 'version' | 'release' | 'isa' | 'index' | 'commit' | 'recipePath'>;

/**
 * All reads and writes of summit's read model, one method per question or fact. Each call uses its own
 * EntityManager fork, so callers (activities, API handlers) never share an identity map.
 */
export class Store {
  /** Prepared statements of the embedded driver, per connection: the pool renews its connections (db/orm.ts). */
  private readonly statements = new WeakMap<EmbeddedConnection, Map<string, { all(args: unknown[]): Array<Record<string, unknown>> }>>();

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
   * and `next`, the cursor of the following page when there is one. With `count` (the default) also `total`,
   * the count of all tasks matching the filters (not only those after the cursor); without it `total` is null.
   *
   * Lean on purpose: one parameterised SELECT of the listed columns (db/task-query.ts: one index range per
   * status), rows turned into plain objects, no entity hydration, identity map or unit of work (a page is read,
   * never changed).
   */
  async listTasks(filter: TaskFilter & { count?: boolean }): Promise<{ items: TaskRow[]; total: number | null; next: TaskCursor | null }> {
    const [rows, total] = await Promise.all([
      this.rawRows(...taskPageQuery(filter, TASK_COLUMNS_SQL, this.dateParam(filter.after?.createdAt))),
      filter.count === false ? null : this.countTasks(filter),
    ]);
    const items = rows.slice(0, filter.limit).map(taskFromRow);
    const last = items.at(-1);
    const next = rows.length > filter.limit && last ? { createdAt: last.createdAt, id: last.id } : null;
    return { items, total, next };
  }

  /**
   * The same page as listTasks, its items already as JSON text (an array, each item what JSON.stringify of the
   * task gives: the same keys in the same order, dates as ISO 8601 in UTC), written by the database: the API sends
   * it as it is. At 50 tasks a page this spares the process the rows' 24 columns crossing into JavaScript, the
   * objects made from them and their serialisation, most of a list request's CPU time (bench/api.bench.ts).
   */
  async listTasksJson(filter: TaskFilter): Promise<{ json: string; next: TaskCursor | null }> {
    const select = `${taskJsonSql(this.embedded() ? 'sqlite' : 'postgresql')} AS "j", "created_at", "id"`;
    const rows = await this.rawRows(...taskPageQuery(filter, select, this.dateParam(filter.after?.createdAt)));
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    const next = rows.length > filter.limit && last ? { createdAt: toDate(last.created_at)!, id: last.id as string } : null;
    return { json: `[${page.map((r) => r.j as string).join(',')}]`, next };
  }

  /** How many tasks match the filters (status, repository, source; paging ignored), counted now from the indexes. */
  async countTasks(filter: Pick<TaskFilter, 'status' | 'repository' | 'source'>): Promise<number> {
    const [row] = await this.rawRows(...taskCountQuery(filter));
    // PostgreSQL's count is a bigint, which its driver returns as a string.
    return Number(row.n);
  }

  private knex(): Knex {
    return (this.orm.em as unknown as SqlEntityManager).getKnex('read');
  }

  /** A Date as the driver stores it: SQLite keeps milliseconds since the epoch, PostgreSQL a timestamp. */
  private dateParam(d: Date | undefined): unknown {
    return d && this.orm.em.getPlatform().processDateProperty(d);
  }

  /**
   * Rows of a parameterised query (`?` placeholders). On the embedded file the statement is prepared once per
   * connection and kept (the task list's few query shapes: a statement prepared anew on every request cost ~8 %
   * of the API's CPU; the knex dialect keeps none). PostgreSQL goes through knex (pg's own protocol).
   */
  private async rawRows(sql: string, args: unknown[]): Promise<Array<Record<string, unknown>>> {
    const knex = this.knex();
    if (!this.embedded()) {
      const res = await knex.raw<{ rows: Array<Record<string, unknown>> }>(sql, args as Knex.RawBinding[]);
      return res.rows;
    }
    const client = knex.client as { acquireConnection(): Promise<EmbeddedConnection>; releaseConnection(c: EmbeddedConnection): Promise<unknown> };
    const conn = await client.acquireConnection();
    try {
      let prepared = this.statements.get(conn);
      if (!prepared) this.statements.set(conn, (prepared = new Map()));
      let statement = prepared.get(sql);
      if (!statement) prepared.set(sql, (statement = conn.prepare(sql)));
      return statement.all(args);
    } finally {
      await client.releaseConnection(conn);
    }
  }

  private embedded(): boolean {
    return !this.orm.em.getPlatform().constructor.name.startsWith('PostgreSql');
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
   * Moving to the status it already has is a no-op, so activities that record a move can be retried.
   */
  async setStatus(id: string, to: TaskStatus, reason: string, fields: Partial<TaskRow> = {}): Promise<TaskRow> {
    const em = this.em();
    const task = await em.findOne(Task, { id });
    if (!task) throw new NotFoundError('task', id);
    if (task.status === to) {
      em.assign(task, fields);
      await em.flush();
      return task;
    }
    const from = task.status as TaskStatus;
    transition(id, from, to);
    const now = new Date();
    em.assign(task, { ...fields, status: to });
    if (to === 'building') em.assign(task, { startedAt: now, attempts: task.attempts + 1 });
    if (to === 'publishing') em.assign(task, { builtAt: now });
    if (!isOpen(to)) em.assign(task, { finishedAt: now });
    if (to === 'new') em.assign(task, { finishedAt: null });
    em.create(TaskEvent, { task: id, from, to, reason });
    await em.flush();
    return task;
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
