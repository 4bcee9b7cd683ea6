import type { EntityManager, InferEntity, MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { FINISHED_WAVE_STATUSES, waveIdOf, type WaveRemoval, type WaveStatus } from '../core/contracts/wave';
import { Builder, Task, Wave } from './entities';
import { NotFoundError } from './errors';

export type WaveRow = InferEntity<typeof Wave>;
/** What a wave needs of each of its tasks: counts, the estimate, the publish plan. */
export type WaveTaskRow = Pick<InferEntity<typeof Task>, 'id' | 'repository' | 'source' | 'version' | 'release' | 'isa' | 'index' | 'status' | 'builder' | 'startedAt' | 'builtAt' | 'finishedAt' | 'published' | 'reason'>;

/** A wave without its growing lists (WaveStore.brief). */
export type WaveBrief = Pick<WaveRow, 'id' | 'repository' | 'commit' | 'status' | 'removals' | 'startedAt'>;

const TASK_FIELDS = ['id', 'repository', 'source', 'version', 'release', 'isa', 'index', 'status', 'builder', 'startedAt', 'builtAt', 'finishedAt', 'published', 'reason'] as const;

// A cycle with store.ts (which makes the WaveStore); used only inside methods, so both modules are loaded by then.
const notFound = (id: string): Error => new NotFoundError('wave', id);

/** The waves of the read model (db/entities.ts Wave) and the questions asked about a wave's tasks. */
export class WaveStore {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  /**
   * The wave intake puts a commit's new tasks in: the newest wave of this repository and commit while it has not
   * ended, else a new one (`-2`, `-3`, … for a commit read again after its wave ended, e.g. a retry). `em`: in that
   * transaction (Store.createTasks); `status: 'building'`: a wave its own workflow starts (a try's), never the hub.
   */
  async openWave(repository: string, commit: string, origin: string, opts: { em?: EntityManager; status?: 'new' | 'building' } = {}): Promise<WaveRow> {
    const em = opts.em ?? this.em();
    const base = waveIdOf(repository, commit);
    const existing = await em.find(Wave, { repository, id: { $like: `${base}%` } }, { orderBy: { createdAt: 'desc' } });
    const open = existing.find((w) => !FINISHED_WAVE_STATUSES.includes(w.status as WaveStatus));
    if (open) return open;
    const id = waveIdOf(repository, commit, existing.length + 1);
    const wave = em.create(Wave, {
      id, repository, commit, origin, status: opts.status ?? 'new', removals: [], cascade: null, closure: null, histories: [], publishedTasks: [], skipped: [],
      reason: null, estimate: null, startedAt: opts.status === 'building' ? new Date() : null, finishedAt: null,
    });
    await em.flush();
    return wave;
  }

  async addRemovals(id: string, removals: readonly WaveRemoval[]): Promise<void> {
    if (removals.length === 0) return;
    const em = this.em();
    const wave = await em.findOneOrFail(Wave, { id }, { failHandler: () => notFound(id) });
    const known = new Set(wave.removals.map((r) => `${r.index}/${r.source}`));
    wave.removals = [...wave.removals, ...removals.filter((r) => !known.has(`${r.index}/${r.source}`))];
    await em.flush();
  }

  async addCascade(id: string, entries: ReadonlyArray<{ source: string; cause: string; depth: number }>): Promise<void> {
    if (entries.length === 0) return;
    const em = this.em();
    const wave = await em.findOneOrFail(Wave, { id }, { failHandler: () => notFound(id) });
    wave.cascade = [...(wave.cascade ?? []), ...entries];
    await em.flush();
  }

  /**
   * Waves recorded but whose workflow was not started yet (the hub starts them), but those of the repositories in
   * `filling`: an intake still running there may be adding to its wave (removals, a cascade's rebuilds).
   */
  async newWaves(filling: readonly string[] = []): Promise<string[]> {
    const where = filling.length > 0 ? { status: 'new', repository: { $nin: [...filling] } } : { status: 'new' };
    return (await this.em().find(Wave, where, { fields: ['id'], orderBy: { createdAt: 'asc' } })).map((w) => w.id);
  }

  async getWave(id: string): Promise<WaveRow> {
    return this.em().findOneOrFail(Wave, { id }, { failHandler: () => notFound(id) });
  }

  /**
   * What a wave's progress and a dispatch ask of the wave, without the lists that grow with it (the published
   * tasks, histories, skipped builds): both are asked at every build's end.
   */
  async brief(id: string): Promise<WaveBrief | null> {
    return this.em().findOne(Wave, { id }, { fields: ['id', 'repository', 'commit', 'status', 'removals', 'startedAt'] });
  }

  async findWave(id: string): Promise<WaveRow | null> {
    return this.em().findOne(Wave, { id });
  }

  /** Newest first. */
  async listWaves(opts: { limit: number; repository?: string; status?: readonly string[] }): Promise<WaveRow[]> {
    const where: Record<string, unknown> = {};
    if (opts.repository) where.repository = opts.repository;
    if (opts.status && opts.status.length > 0) where.status = { $in: [...opts.status] };
    return this.em().find(Wave, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: opts.limit });
  }

  /** Change what a wave records; `status` moves only a wave that has not ended (an end is final). */
  async update(id: string, fields: Partial<Pick<WaveRow, 'status' | 'closure' | 'histories' | 'publishedTasks' | 'skipped' | 'reason' | 'startedAt' | 'finishedAt' | 'estimate'>>): Promise<WaveRow> {
    const em = this.em();
    const wave = await em.findOneOrFail(Wave, { id }, { failHandler: () => notFound(id) });
    const ended = FINISHED_WAVE_STATUSES.includes(wave.status as WaveStatus);
    if (ended && fields.status && fields.status !== wave.status) return wave;
    Object.assign(wave, fields);
    if (fields.status && FINISHED_WAVE_STATUSES.includes(fields.status as WaveStatus) && !wave.finishedAt) wave.finishedAt = new Date();
    await em.flush();
    return wave;
  }

  /** A wave's latest estimate: one statement, no read (an estimate moves no status, so the end rule does not apply). */
  async setEstimate(id: string, estimate: WaveRow['estimate']): Promise<void> {
    if ((await this.em().nativeUpdate(Wave, { id }, { estimate })) === 0) throw notFound(id);
  }

  async tasksOf(id: string): Promise<WaveTaskRow[]> {
    return this.em().find(Task, { wave: id }, { fields: [...TASK_FIELDS], orderBy: { id: 'asc' } });
  }

  /**
   * A wave's tasks counted per (index, status): one GROUP BY over the wave's index range, so a wave's progress costs
   * a few rows however many builds it has (it is read at every build's end).
   */
  async statusCounts(id: string): Promise<Array<{ index: string; status: string; n: number }>> {
    const rows: Array<{ index: string; status: string; n: number | string }> = await this.em().getConnection().execute(
      'select "index", "status", count(*) as "n" from "tasks" where "wave" = ? group by "index", "status"',
      [id],
    );
    // PostgreSQL's count is a bigint, which its driver returns as a string.
    return rows.map((r) => ({ index: r.index, status: r.status, n: Number(r.n) }));
  }

  /** How many of the wave's tasks for one index are in these statuses (one count over the wave's index range). */
  async countIn(id: string, index: string, statuses: readonly string[]): Promise<number> {
    const rows: Array<{ n: number | string }> = await this.em().getConnection().execute(
      `select count(*) as "n" from "tasks" where "wave" = ? and "index" = ? and "status" in (${statuses.map(() => '?').join(', ')})`,
      [id, index, ...statuses],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The wave's tasks in these statuses, as plain rows (no entities) with what the estimate reads. */
  async tasksIn(id: string, statuses: readonly string[]): Promise<Array<Pick<WaveTaskRow, 'id' | 'source' | 'status' | 'startedAt'>>> {
    return (this.em() as unknown as SqlEntityManager).createQueryBuilder(Task)
      .select(['id', 'source', 'status', 'startedAt'])
      .where({ wave: id, status: { $in: [...statuses] } })
      .orderBy({ id: 'asc' })
      .execute('all', true);
  }

  /** Task counts per wave, for a list of waves (one query). */
  async countsOf(ids: readonly string[]): Promise<Map<string, Record<string, number>>> {
    const out = new Map<string, Record<string, number>>();
    if (ids.length === 0) return out;
    const rows: Array<{ wave: string; status: string; n: number | string }> = await this.em().getConnection().execute(
      `select "wave", "status", count(*) as "n" from "tasks" where "wave" in (${ids.map(() => '?').join(', ')}) group by "wave", "status"`,
      [...ids],
    );
    for (const r of rows) {
      const counts = out.get(r.wave) ?? {};
      counts[r.status] = Number(r.n);
      out.set(r.wave, counts);
    }
    return out;
  }

  /** Recent build times (s) of these sources, newest last per source: the wave's estimate of what is left. */
  async buildSeconds(sources: readonly string[], perSource = 5): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    if (sources.length === 0) return out;
    const rows = await this.em().find(
      Task,
      { source: { $in: [...sources] }, status: 'completed', startedAt: { $ne: null }, builtAt: { $ne: null } },
      { fields: ['source', 'startedAt', 'builtAt'], orderBy: { finishedAt: 'desc' }, limit: sources.length * perSource * 4 },
    );
    for (const r of rows) {
      const list = out.get(r.source) ?? [];
      if (list.length >= perSource) continue;
      list.push((r.builtAt!.getTime() - r.startedAt!.getTime()) / 1000);
      out.set(r.source, list);
    }
    return out;
  }

  /** Tasks of these (repository, source, ISA) with a release above `release`: newer releases that supersede a build. */
  async newerReleases(rows: ReadonlyArray<Pick<WaveTaskRow, 'repository' | 'source' | 'isa' | 'release' | 'id'>>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (rows.length === 0) return out;
    const sources = [...new Set(rows.map((r) => r.source))];
    const all = await this.em().find(Task, { repository: { $in: [...new Set(rows.map((r) => r.repository))] }, source: { $in: sources }, status: { $ne: 'superseded' } }, { fields: ['id', 'repository', 'source', 'isa', 'release'] });
    for (const r of rows) {
      const newer = all.find((t) => t.repository === r.repository && t.source === r.source && t.isa === r.isa && t.release > r.release);
      if (newer) out.set(r.id, newer.id);
    }
    return out;
  }

  /** Builds in flight (queued, building, publishing) of these sources with a lower release, and the newer task's id. */
  async inFlightOlder(repository: string, newer: ReadonlyArray<{ source: string; isa: string; release: number }>): Promise<Array<{ id: string; by: string }>> {
    if (newer.length === 0) return [];
    const rows = await this.em().find(Task, { repository, status: { $in: ['queued', 'building', 'publishing'] }, source: { $in: [...new Set(newer.map((n) => n.source))] } }, { fields: ['id', 'source', 'isa', 'release'] });
    const out: Array<{ id: string; by: string }> = [];
    for (const t of rows) {
      const n = newer.find((x) => x.source === t.source && x.isa === t.isa && x.release > t.release);
      if (n) out.push({ id: t.id, by: `${n.source} release ${n.release}` });
    }
    return out;
  }

  /** Point tasks at a wave (a retried task whose wave has ended joins a new one). */
  async assign(taskIds: readonly string[], id: string): Promise<void> {
    if (taskIds.length === 0) return;
    await this.em().nativeUpdate(Task, { id: { $in: [...taskIds] } }, { wave: id });
  }

  /** The slots of the builders heard from within `sinceMs`: how many builds run at once, for the estimate. */
  async liveSlots(sinceMs: number): Promise<number> {
    const rows = await this.em().find(Builder, { lastSeen: { $gte: new Date(Date.now() - sinceMs) } }, { fields: ['slots'] });
    return rows.reduce((n, b) => n + b.slots, 0);
  }
}
