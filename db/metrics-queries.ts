import { raw, type EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { FinishedTaskRow } from '../core/metrics/outcomes';
import { Task } from './entities';

/** Statuses counted as the queue of an ISA level: waiting for a slot (new) or handed to Temporal (queued). */
export const QUEUED_STATUSES = ['new', 'queued'] as const;

/** Read-model queries of the API's metrics (api/metrics.ts), answered at scrape time. */
export class MetricsQueries {
  constructor(private readonly em: () => EntityManager) {}

  /** Tasks waiting per ISA level and status (QUEUED_STATUSES), from the tasks_status_* indexes. */
  async queueDepth(): Promise<Array<{ isa: string; status: string; n: number }>> {
    const rows: Array<Record<string, unknown>> = await (this.em() as unknown as SqlEntityManager).createQueryBuilder(Task)
      .select(['isa', 'status', raw('count(*) as n')])
      .where({ status: { $in: [...QUEUED_STATUSES] } })
      .groupBy(['isa', 'status'])
      .execute('all', false);
    return rows.map((r) => ({ isa: String(r.isa), status: String(r.status), n: Number(r.n) }));
  }

  /**
   * Tasks that ended (completed or failed) after `since`, oldest first, at most `limit` (the index on status,
   * finishedAt): what the duration histograms and the refusal counter have not seen yet.
   */
  async finishedSince(since: Date, limit = 5_000): Promise<FinishedTaskRow[]> {
    const rows = await this.em().find(Task, { status: { $in: ['completed', 'failed'] }, finishedAt: { $gt: since } }, {
      fields: ['status', 'isa', 'reason', 'startedAt', 'builtAt', 'finishedAt'], orderBy: { finishedAt: 'asc' }, limit,
    });
    return rows.map((r) => ({ status: r.status, isa: r.isa, reason: r.reason ?? null, startedAt: r.startedAt ?? null, builtAt: r.builtAt ?? null, finishedAt: r.finishedAt ?? null }));
  }
}
