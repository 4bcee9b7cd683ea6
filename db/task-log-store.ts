import type { EntityManager, InferEntity } from '@mikro-orm/core';
import { TaskLog } from './entities';

export type TaskLogRow = InferEntity<typeof TaskLog>;

/** Where a running build's log is read: the builder's artefact server and a token of the build. */
export interface LiveLogSource {
  builder: string;
  url: string;
  token: string;
  attempt: number;
}

export interface CollectedLog {
  /** One zstd frame of the redacted log. */
  stored: Buffer;
  plainBytes: number;
  collectedAt: Date;
}

/** What the API needs to serve a task's log: the collected copy's size when there is one, else the live source. */
export interface TaskLogState {
  source?: LiveLogSource;
  collected?: { plainBytes: number; collectedAt: Date };
}

/**
 * The task_logs table (db/entities.ts TaskLog). A compressed log of a few MB is one row's blob: the database
 * is the one storage the API and summit's workers are sure to share, on one host or on many (the data folders
 * are per role and per host in docker-compose).
 */
export class TaskLogStore {
  constructor(private readonly em: () => EntityManager) {}

  /**
   * A builder picked the build up: its log is read there from now on (a later attempt replaces an earlier one).
   * One statement: the insert updates an existing row only when it is not of a later attempt (a late signal of an
   * earlier attempt changes nothing). `em`: inside a caller's transaction (the record of the pickup).
   */
  async setSource(task: string, source: LiveLogSource, em: EntityManager = this.em()): Promise<void> {
    await em.upsert(TaskLog, {
      task, builder: source.builder, url: source.url, token: source.token, attempt: source.attempt,
      collected: null, plainBytes: null, collectedAt: null, updatedAt: new Date(),
    }, { onConflictFields: ['task'], onConflictAction: 'merge', ...(source.attempt > 0 ? { onConflictWhere: { attempt: { $lte: source.attempt } } } : {}) });
  }

  async state(task: string): Promise<TaskLogState> {
    const row = await this.em().findOne(TaskLog, { task }, { fields: ['task', 'builder', 'url', 'token', 'attempt', 'plainBytes', 'collectedAt'] });
    if (!row) return {};
    return {
      source: row.url && row.token && row.builder ? { builder: row.builder, url: row.url, token: row.token, attempt: row.attempt } : undefined,
      collected: row.collectedAt && row.plainBytes !== null && row.plainBytes !== undefined ? { plainBytes: row.plainBytes, collectedAt: row.collectedAt } : undefined,
    };
  }

  /**
   * Keep the collected log; the token is dropped with it (nothing is read from the builder any more). `em`: inside
   * a caller's transaction (the record of the build's end).
   */
  async setCollected(task: string, log: Omit<CollectedLog, 'collectedAt'>, builder: string, em: EntityManager = this.em()): Promise<void> {
    await em.upsert(TaskLog, {
      task, builder, url: null, token: null, collected: log.stored, plainBytes: log.plainBytes, collectedAt: new Date(), updatedAt: new Date(),
    });
  }

  async collected(task: string): Promise<CollectedLog | undefined> {
    const row = await this.em().findOne(TaskLog, { task }, { fields: ['task', 'collected', 'plainBytes', 'collectedAt'] });
    if (!row?.collected || !row.collectedAt) return undefined;
    return { stored: Buffer.from(row.collected), plainBytes: row.plainBytes ?? 0, collectedAt: row.collectedAt };
  }

  /** A retried task starts a new log. */
  async forget(task: string): Promise<void> {
    await this.em().nativeDelete(TaskLog, { task });
  }
}
