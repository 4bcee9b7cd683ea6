import type { InferEntity, MikroORM } from '@mikro-orm/core';
import { IndexEvent } from './entities';

export type IndexEventRow = InferEntity<typeof IndexEvent>;
export type NewIndexEvent = Pick<IndexEventRow, 'index' | 'command' | 'params' | 'by' | 'outcome'> & Partial<Pick<IndexEventRow, 'detail' | 'streams'>>;

/** The audit trail of admin commands on published repositories (entities.ts, IndexEvent). */
export class IndexEventStore {
  constructor(private readonly orm: MikroORM) {}

  async record(event: NewIndexEvent): Promise<IndexEventRow> {
    const em = this.orm.em.fork();
    const row = em.create(IndexEvent, { detail: null, streams: null, ...event });
    await em.flush();
    return row;
  }

  /** Newest first. */
  async list(index: string, limit: number): Promise<IndexEventRow[]> {
    return this.orm.em.fork().find(IndexEvent, { index }, { orderBy: { id: 'desc' }, limit });
  }
}
