import { EntityManager, InferEntity, MikroORM, raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import { isOpen, isTaskStatus, OPEN_STATUSES, TASK_STATUSES, TaskStatus, transition } from '../core/task/state';
import type { Knex, SqlEntityManager } from '@mikro-orm/knex';
import { Builder, InvalidRecipe, Recipe, RecipeSnapshot, Repository, Task, TaskEvent, type TaskRow } from './entities';
import { bumpMarkers } from './change-markers';
import { MetricsQueries } from './metrics-queries';
import { TaskLogStore } from './task-log-store';
import { WaveStore, type WaveRow } from './wave-store';
import { ConflictError, NotFoundError } from './errors';
import { TASK_COLUMNS_SQL, taskCountQuery, taskFromRow, taskJsonSql, taskPageQuery, toDate, type TaskCursor, type TaskFilter } from './task-query';

export type RepositoryRow = InferEntity<typeof Repository>;
export type RecipeRow = InferEntity<typeof Recipe>;
export type { TaskRow } from './entities';
export type TaskEventRow = InferEntity<typeof TaskEvent>;
export type BuilderRow = InferEntity<typeof Builder>;
export type InvalidRecipeRow = InferEntity<typeof InvalidRecipe>;
export type RecipeSnapshotRow = InferEntity<typeof RecipeSnapshot>;
/** A recipe as intake read it; the blob ids are absent for rows written by older code or by hand. */
export type RecipeInput = Omit<RecipeRow, 'id' | 'repository' | 'updatedAt' | 'blob' | 'manifestBlob'> & { blob?: string | null; manifestBlob?: string | null };
/** What intake needs of a task to decide about it (core/intake/tasks.ts). */
export type IntakeTaskRow = Pick<TaskRow, 'id' | 'source' | 'isa' | 'release' | 'commit' | 'status' | 'recipePath'>;
/** What planning needs of a task it schedules. */
export type SchedulingTaskRow = Pick<TaskRow, 'id' | 'repository' | 'source' | 'version' | 'release' | 'isa' | 'index' | 'commit' | 'recipePath' | 'status' | 'attempts' | 'builder'> & Partial<Pick<TaskRow, 'wave' | 'reason' | 'priority' | 'dispatchKey'>>;
/** What planning needs of a completed task: its build time and what it published. */
export type CompletedTaskRow = Pick<TaskRow, 'id' | 'repository' | 'source' | 'index' | 'release' | 'startedAt' | 'builtAt' | 'finishedAt' | 'published'>;

/** Statuses a task may be superseded from (core/task/state.ts): the tasks a newer release can replace. */
const SUPERSEDABLE: readonly TaskStatus[] = ['new', 'blocked', 'failed', 'cancelled'];
/** Rows per `IN (…)` list: well under every driver's bound on parameters. */
const IN_CHUNK = 500;

function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Recipes as plain rows, not entities (planning reloads a repository's recipes at each new commit, intake compares
 * against them): JSON and booleans arrive as the driver gives them (text and 0/1 from libsql) and are normalised.
 */
async function recipeRows(em: EntityManager, where: { repository?: string }): Promise<RecipeRow[]> {
  const rows: Array<Record<string, unknown>> = await (em as unknown as SqlEntityManager).createQueryBuilder(Recipe)
    .select('*').where(where).orderBy({ source: 'asc' }).execute('all', true);
  const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
  return rows.map((r) => ({ ...r, packages: json(r.packages), architectures: json(r.architectures), derived: Boolean(r.derived) }) as RecipeRow);
}

/** Same recipe content (the commit aside: it moves with every snapshot and is written once for all rows). */
function sameRecipe(a: RecipeRow, b: RecipeInput): boolean {
  return a.version === b.version && a.release === b.release && a.path === b.path && a.derived === b.derived &&
    (a.blob ?? null) === (b.blob ?? null) && (a.manifestBlob ?? null) === (b.manifestBlob ?? null) &&
    sameList(a.architectures, b.architectures) && a.packages.length === b.packages.length &&
    a.packages.every((p, i) => {
      const q = b.packages[i];
      return p.name === q.name && sameList(p.provides, q.provides) && sameList(p.depends, q.depends) && sameList(p.buildDepends, q.buildDepends);
    });
}

/** Field by field: PostgreSQL's jsonb hands objects back with their keys in its own order. */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * What a move from another status to `to` writes besides `fields`: the status and the timestamps it sets. A
 * queued build starts a new attempt (`attempts` gives the next number, or an SQL expression that counts it: made
 * only when used, as MikroORM keeps a raw fragment until a query takes it).
 */
function moveValues(to: TaskStatus, fields: Partial<TaskRow>, now: Date, attempts: () => number): Partial<TaskRow> {
  const values: Partial<TaskRow> = { ...fields, status: to, updatedAt: now };
  if (to === 'queued') Object.assign(values, { attempts: attempts(), builder: null, startedAt: null, builtAt: null });
  if (to === 'building') values.startedAt = fields.startedAt ?? now;
  if (to === 'publishing') values.builtAt = now;
  if (!isOpen(to)) values.finishedAt = now;
  if (to === 'new') values.finishedAt = null;
  return values;
}

export { ConflictError, NotFoundError } from './errors';
export type { TaskCursor, TaskFilter } from './task-query';

/** The embedded driver's connection (libsql's better-sqlite3-style Database), as far as the task list uses it. */
interface EmbeddedConnection {
  prepare(sql: string): { all(args: unknown[]): Array<Record<string, unknown>> };
}

export type NewTask = Pick<TaskRow, 'id' | 'project' | 'repository' | 'source' | 'version' | 'release' | 'isa' | 'index' | 'commit' | 'recipePath'> & { wave?: string | null };

/**
 * All reads and writes of summit's read model, one method per question or fact. Each call uses its own
 * EntityManager fork, so callers (activities, API handlers) never share an identity map.
 */
export class Store {
  /** Prepared statements of the embedded driver, per connection: the pool renews its connections (db/orm.ts). */
  private readonly statements = new WeakMap<EmbeddedConnection, Map<string, { all(args: unknown[]): Array<Record<string, unknown>> }>>();

  /** Public for the stores of other nouns (db/admin-store.ts) that share this connection. */
  constructor(readonly orm: MikroORM) {}

  /** Build logs: live sources and collected logs (db/task-log-store.ts). */
  readonly logs = new TaskLogStore(() => this.orm.em.fork());
  /** What the API's metrics ask of the read model (db/metrics-queries.ts). */
  readonly metrics = new MetricsQueries(() => this.orm.em.fork());

  /** The waves and their tasks (db/wave-store.ts), on the same database. */
  get waves(): WaveStore {
    return (this.waveStore ??= new WaveStore(this.orm));
  }
  private waveStore?: WaveStore;

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  // Repositories

  async addRepository(row: Pick<RepositoryRow, 'id' | 'project' | 'url'> & Partial<Pick<RepositoryRow, 'ref' | 'cascade' | 'networking' | 'promote' | 'base' | 'verify'>>): Promise<RepositoryRow> {
    try {
      return await this.em().transactional(async (em) => {
        if (await em.findOne(Repository, { id: row.id })) throw new ConflictError(`repository "${row.id}" already exists`);
        const repo = em.create(Repository, { ref: 'HEAD', cascade: false, networking: false, promote: null, base: null, verify: null, lastCommit: null, lastRefreshAt: null, ...row });
        await em.flush();
        await bumpMarkers(em, 'repositories');
        return repo;
      });
    } catch (err) {
      // Two registrations of one id at once: both pass the check above, the second insert hits the primary key.
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`repository "${row.id}" already exists`);
      throw err;
    }
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
      await em.nativeDelete(RecipeSnapshot, { repository: id });
      em.remove(repo);
      await bumpMarkers(em, 'repositories', 'recipes');
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

  /** Not a change planning reads (it keeps repositories by their change marker, db/change-markers.ts): no marker moves. */
  async markRefreshed(id: string, commit: string): Promise<void> {
    await this.em().nativeUpdate(Repository, { id }, { lastCommit: commit, lastRefreshAt: new Date() });
  }

  async listProjects(): Promise<Array<{ id: string; repositories: number }>> {
    const counts = new Map<string, number>();
    for (const r of await this.listRepositories()) counts.set(r.project, (counts.get(r.project) ?? 0) + 1);
    return [...counts].map(([id, repositories]) => ({ id, repositories }));
  }

  // Recipes

  /**
   * Replace a repository's recipe snapshot with the recipes read at `read.commit` (under the limits `read.readWith`
   * names), in one transaction: unchanged rows are not rewritten, the commit of all of them in one statement, and
   * the snapshot's generation moves so that planning reloads this repository's recipes.
   */
  async replaceRecipes(repository: string, rows: readonly RecipeInput[], read?: { commit: string; readWith: string }): Promise<void> {
    // Native statements on plain rows: a tree of 2,000 recipes as entities would hold the event loop for long.
    await this.em().transactional(async (em) => {
      const commit = read?.commit ?? rows[0]?.commit;
      if (commit !== undefined) await em.nativeUpdate(Recipe, { repository, commit: { $ne: commit } }, { commit });
      const existing = new Map((await recipeRows(em, { repository })).map((r) => [r.source, r]));
      const added: RecipeInput[] = [];
      const now = new Date();
      for (const row of rows) {
        const current = existing.get(row.source);
        const values = { blob: null, manifestBlob: null, ...row };
        if (current) {
          if (!sameRecipe(current, values)) await em.nativeUpdate(Recipe, { id: current.id }, { ...values, updatedAt: now });
          existing.delete(row.source);
        } else {
          added.push(values);
        }
      }
      for (const part of chunks(added)) await em.insertMany(Recipe, part.map((row) => ({ ...row, repository, updatedAt: now }) as RecipeRow));
      for (const part of chunks([...existing.values()].map((r) => r.id))) await em.nativeDelete(Recipe, { id: { $in: part } });
      const snapshot = await em.findOne(RecipeSnapshot, { repository });
      const facts = { commit: commit ?? '', readWith: read?.readWith ?? '', recipes: rows.length };
      if (snapshot) em.assign(snapshot, { ...facts, generation: snapshot.generation + 1 });
      else em.create(RecipeSnapshot, { repository, ...facts, generation: 1 } as RecipeSnapshotRow);
      await bumpMarkers(em, 'recipes');
    });
  }

  /** What each repository's recipes were read from, and their generation (one small row per repository). */
  async recipeSnapshots(): Promise<RecipeSnapshotRow[]> {
    return this.em().find(RecipeSnapshot, {}, { orderBy: { repository: 'asc' } });
  }

  async recipeSnapshot(repository: string): Promise<RecipeSnapshotRow | null> {
    return this.em().findOne(RecipeSnapshot, { repository });
  }

  /** A repository's recipes (every repository's without one), by source, as plain rows. */
  async listRecipes(repository?: string): Promise<RecipeRow[]> {
    return recipeRows(this.em(), repository ? { repository } : {});
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

  /** How many tasks are in each status (one GROUP BY over the status index); every status is a key, 0 where none. */
  async countTasksByStatus(): Promise<Record<TaskStatus, number>> {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    for (const row of await this.rawRows('SELECT "status" AS "s", COUNT(*) AS "n" FROM "tasks" GROUP BY "status"', [])) {
      // PostgreSQL's count is a bigint, which its driver returns as a string.
      if (typeof row.s === 'string' && isTaskStatus(row.s)) counts[row.s] = Number(row.n);
    }
    return counts;
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

  /**
   * What a planning round needs of the tasks it schedules: the open ones, then the failed or cancelled ones (they
   * block their dependents), each by id, as plain rows (the columns planning reads, no entities: a round reads a
   * few thousand of them, and hydrating entities would cost more than the rest of the round). Their reason and
   * priority too: the held reasons planning wrote and the admins' priorities come with them, not in queries of
   * their own.
   */
  async schedulingTasks(): Promise<{ open: SchedulingTaskRow[]; stopped: SchedulingTaskRow[] }> {
    const qb = (this.em() as unknown as SqlEntityManager).createQueryBuilder(Task);
    const rows: SchedulingTaskRow[] = await qb
      .select(['id', 'repository', 'source', 'version', 'release', 'isa', 'index', 'commit', 'recipePath', 'status', 'attempts', 'builder', 'wave', 'reason', 'priority', 'dispatchKey'])
      .where({ status: { $in: [...OPEN_STATUSES, 'failed', 'cancelled'] } })
      .orderBy({ id: 'asc' })
      .execute('all', true);
    const open = new Set<string>(OPEN_STATUSES);
    return { open: rows.filter((t) => open.has(t.status)), stopped: rows.filter((t) => !open.has(t.status)) };
  }

  /**
   * Completed tasks that finished at or after `since` (all of them without it), oldest first, with only what
   * planning keeps of them (activities/summit/planning-inputs.ts): an index range on (status, finishedAt).
   */
  async completedTasksSince(since?: Date): Promise<CompletedTaskRow[]> {
    return this.completedRows(since ? { status: 'completed', finishedAt: { $gte: since } } : { status: 'completed' });
  }

  private async completedRows(where: { status: 'completed'; finishedAt?: { $gte: Date }; id?: { $in: string[] } }): Promise<CompletedTaskRow[]> {
    // Plain rows, not entities: the first round of a process reads every completion (5-8 times faster).
    const rows: Array<CompletedTaskRow & { published: CompletedTaskRow['published'] | string }> = await (this.em() as unknown as SqlEntityManager)
      .createQueryBuilder(Task)
      .select(['id', 'repository', 'source', 'index', 'release', 'startedAt', 'builtAt', 'finishedAt', 'published'])
      .where(where)
      .orderBy({ finishedAt: 'asc', id: 'asc' })
      .execute('all', true);
    // Without entities, JSON arrives as the driver gives it: text from libsql, parsed from PostgreSQL.
    return rows.map((r) => ({ ...r, published: typeof r.published === 'string' ? (JSON.parse(r.published) as CompletedTaskRow['published']) : r.published }));
  }

  /**
   * The ids and end times of the tasks that completed at or after `since`, oldest first: what a planning round asks
   * of the completions it may have folded in already (an index range on (status, finishedAt), two narrow columns).
   */
  async completionsSince(since: Date): Promise<Array<Pick<CompletedTaskRow, 'id' | 'finishedAt'>>> {
    return (this.em() as unknown as SqlEntityManager).createQueryBuilder(Task)
      .select(['id', 'finishedAt'])
      .where({ status: 'completed', finishedAt: { $gte: since } })
      .orderBy({ finishedAt: 'asc', id: 'asc' })
      .execute('all', true);
  }

  /** These completed tasks (by id), oldest first, with what planning keeps of them. */
  async completedTasks(ids: readonly string[]): Promise<CompletedTaskRow[]> {
    const out: CompletedTaskRow[] = [];
    for (const part of chunks(ids)) out.push(...await this.completedRows({ status: 'completed', id: { $in: part } }));
    return out.sort((a, b) => (a.finishedAt?.getTime() ?? 0) - (b.finishedAt?.getTime() ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * For intake of one repository: every task whose id is in `ids` (the tasks this snapshot's releases get) and
   * every task a newer release may supersede. The answer decideIntake needs, in a few queries for a whole tree.
   */
  async intakeTasks(repository: string, ids: readonly string[]): Promise<IntakeTaskRow[]> {
    const fields = ['id', 'source', 'isa', 'release', 'commit', 'status', 'recipePath'] as const;
    const em = this.em();
    const rows = new Map<string, IntakeTaskRow>();
    for (const t of await em.find(Task, { repository, status: { $in: [...SUPERSEDABLE] } }, { fields: [...fields] })) rows.set(t.id, t);
    for (const part of chunks(ids)) {
      for (const t of await em.find(Task, { repository, id: { $in: part } }, { fields: [...fields] })) rows.set(t.id, t);
    }
    return [...rows.values()];
  }

  /** The newest completed release of every (source, ISA) of a repository: what its indexes hold. One query. */
  async publishedReleases(repository: string): Promise<Map<string, number>> {
    const rows: Array<{ source: string; isa: string; release: number | string }> = await this.em().getConnection().execute(
      'select "source", "isa", max("release") as "release" from "tasks" where "repository" = ? and "status" = ? group by "source", "isa"',
      [repository, 'completed'],
    );
    return new Map(rows.map((r) => [`${r.source}/${r.isa}`, Number(r.release)]));
  }

  /**
   * Many new tasks (each with its first event) in one transaction: intake's new releases of a whole tree. With `wave`, in that wave (opened or found by WaveStore.openWave) in the same
   * transaction: planning never sees one of them outside its wave (it would be published on its own), nor the hub
   * the wave without them.
   */
  async createTasks(
    rows: ReadonlyArray<{ task: NewTask; reason: string }>,
    opts: { wave?: { repository: string; commit: string; origin: string; status?: 'new' | 'building' } } = {},
  ): Promise<WaveRow | undefined> {
    if (rows.length === 0) return undefined;
    // Native multi-row inserts (no unit of work to compute): the rows are complete, timestamps included.
    const now = new Date();
    return this.em().transactional(async (em) => {
      const wave = opts.wave ? await this.waves.openWave(opts.wave.repository, opts.wave.commit, opts.wave.origin, { em, status: opts.wave.status }) : undefined;
      for (const part of chunks(rows)) {
        await em.insertMany(Task, part.map(({ task: row }) => ({
          wave: wave?.id ?? null, ...row, status: 'new', attempts: 0, builder: null, priority: 0, logPath: null, logTail: null, reason: null,
          supersededBy: null, published: null, startedAt: null, builtAt: null, finishedAt: null, createdAt: now, updatedAt: now,
        })));
        await em.insertMany(TaskEvent, part.map(({ task: row, reason }) => ({ task: row.id, from: null, to: 'new', reason, at: now })));
      }
      return wave;
    });
  }

  /**
   * Point tasks not yet started (new, blocked) at a newer commit of their recipe; a task that left those
   * statuses meanwhile keeps the commit it was dispatched with.
   */
  async moveToCommit(ids: readonly string[], commit: string): Promise<void> {
    for (const part of chunks(ids)) await this.em().nativeUpdate(Task, { id: { $in: part }, status: { $in: ['new', 'blocked'] } }, { commit });
  }

  /** The newest release of a source that reached its index (completed), or 0. */
  async publishedRelease(repository: string, source: string, isa: string): Promise<number> {
    const done = await this.em().findOne(Task, { repository, source, isa, status: 'completed' }, { orderBy: { release: 'desc' } });
    return done?.release ?? 0;
  }

  async createTask(row: NewTask, reason: string): Promise<TaskRow> {
    const em = this.em();
    const task = em.create(Task, {
      wave: null, ...row, status: 'new', attempts: 0, builder: null, priority: 0, logPath: null, logTail: null, reason: null,
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
        values = moveValues(to, fields, now, () => task.attempts + 1);
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
   * A move whose writer knows the status the task should have (`expected`: a build's record knows the step before
   * it), as moveTask decides it, without reading the task first: one compare-and-set `UPDATE … WHERE id = ? AND
   * status = <expected>` and its event in one transaction. When the task is not in `expected` (a retried record,
   * a cancel meanwhile) the move falls back to moveTask, which reads and decides on what the status is now.
   * Returns the status it came from and whether it moved; the task itself is not read. `also` writes what goes with
   * the move (a build log's source or copy) in the move's transaction: one commit where there were two.
   */
  async recordMove(
    id: string,
    expected: TaskStatus,
    to: TaskStatus,
    reason: string,
    fields: Partial<TaskRow> = {},
    opts: { onlyFrom?: readonly TaskStatus[]; also?: (em: EntityManager) => Promise<void> } = {},
  ): Promise<{ from: TaskStatus; moved: boolean }> {
    if (expected !== to && (!opts.onlyFrom || opts.onlyFrom.includes(expected))) {
      transition(id, expected, to);
      const now = new Date();
      const written = await this.em().transactional(async (em) => {
        const n = await em.nativeUpdate(Task, { id, status: expected }, moveValues(to, fields, now, () => raw<object, number>('"attempts" + 1')));
        if (n === 1) {
          await em.insert(TaskEvent, { task: id, from: expected, to, reason, at: now });
          await opts.also?.(em);
        }
        return n === 1;
      });
      if (written) return { from: expected, moved: true };
    }
    const { from, moved } = await this.moveTask(id, to, reason, fields, opts);
    // Written whether or not the task moved, as it would be on its own.
    if (opts.also) await this.em().transactional(opts.also);
    return { from, moved };
  }

  /**
   * Hand tasks to build workflows: each `new` task of `ids` becomes `queued` (compare-and-set), all in one
   * transaction with their events. Returns the ids actually moved; a task that changed meanwhile (cancelled,
   * superseded) is skipped. `dispatchKey`: the planning run that queues them (Task.dispatchKey).
   */
  async queueTasks(ids: readonly string[], reason: (id: string) => string, dispatchKey: string | null = null): Promise<string[]> {
    if (ids.length === 0) return [];
    const now = new Date();
    return this.em().transactional(async (em) => {
      const moved: string[] = [];
      for (const id of ids) {
        transition(id, 'new', 'queued');
        if ((await em.nativeUpdate(Task, { id, status: 'new' }, moveValues('queued', { reason: null, dispatchKey }, now, () => raw<object, number>('"attempts" + 1')))) === 1) moved.push(id);
      }
      for (const part of chunks(moved)) await em.insertMany(TaskEvent, part.map((id) => ({ task: id, from: 'new', to: 'queued', reason: reason(id), at: now })));
      return moved;
    });
  }

  async updateTask(id: string, fields: Partial<Pick<TaskRow, 'commit' | 'recipePath' | 'priority' | 'builder' | 'logPath' | 'reason'>>): Promise<void> {
    await this.em().nativeUpdate(Task, { id }, fields);
  }

  async taskEvents(id: string): Promise<TaskEventRow[]> {
    return this.em().find(TaskEvent, { task: id }, { orderBy: { id: 'asc' } });
  }

  // Builders

  async upsertBuilder(row: Omit<BuilderRow, 'lastSeen' | 'health'> & { lastSeen?: Date; health?: BuilderRow['health'] }): Promise<void> {
    const em = this.em();
    const existing = await em.findOne(Builder, { id: row.id });
    const values = { ...row, health: row.health ?? null, lastSeen: row.lastSeen ?? new Date() };
    if (existing) em.assign(existing, values);
    else em.create(Builder, values as BuilderRow);
    await em.flush();
  }

  async listBuilders(): Promise<BuilderRow[]> {
    return this.em().find(Builder, {}, { orderBy: { id: 'asc' } });
  }
}
