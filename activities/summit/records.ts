import type { EntityManager } from '@mikro-orm/core';
import type { BuildPickup, BuildResult, ImportResult } from '../../core/contracts/build';
import type { BuilderStatus, TaskCommand, TaskCommandResult } from '../../core/contracts/hub';
import type { RecordedFailure } from '../../core/contracts/summit';
import { FINISHED_WAVE_STATUSES, type WaveStatus } from '../../core/contracts/wave';
import type { Store } from '../../db/store';
import { fetchBuildLog, type FetchedLog, type LogLocation } from './log-collection';
import { ArtefactOrigins } from '../../core/security/artefact-origins';

/** What the activities tell the operator about their side work (the build log's collection). */
export interface RecordLog {
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
}

/**
 * Activities that record in the read model what the workflows decided. Each is idempotent (moving a task to the
 * status it already has is a no-op), so Temporal may retry any of them, and each goes through the store's one
 * compare-and-set path (Store.moveTask; Store.recordMove writes it without reading the task first when the task
 * is in the status the build's step implies), so a record never overwrites a move made meanwhile by another writer.
 */
export function recordActivities(store: Store, log: () => RecordLog = () => console, origins: ArtefactOrigins = ArtefactOrigins.ANY) {
  /**
   * A builder names its own server (its log, its artefacts): summit reads it only where builders may be
   * (SUMMIT_ARTEFACT_ORIGINS), else it neither keeps nor fetches the address.
   */
  const allowed = <T extends { url: string; builder: string }>(taskId: string, where: T | undefined): T | undefined => {
    const problem = where && origins.problem(where.url);
    if (!problem) return where;
    log().warn('build log address refused', { taskId, builderId: where.builder, problem });
    return undefined;
  };
  /**
   * A finished build's log, fetched from its builder before the record and kept by the record's own transaction
   * (the `also` of Store.recordMove). Best effort: a log that cannot be fetched (a builder gone, an old builder
   * without sealed logs) is noted and left; retrying the record for it would hold the build's end.
   */
  const logWrite = async (taskId: string, from: LogLocation | undefined): Promise<{ also?: (em: EntityManager) => Promise<void> }> => {
    if (!from) return {};
    let got: FetchedLog;
    try {
      got = await fetchBuildLog(taskId, from);
    } catch (err) {
      log().warn('build log not collected', { taskId, builderId: from.builder, error: err instanceof Error ? err.message : String(err) });
      return {};
    }
    return {
      also: async (em) => {
        await store.logs.setCollected(taskId, got, from.builder, em);
        log().info('build log collected', { taskId, builderId: from.builder, storedBytes: got.stored.length, plainBytes: got.plainBytes });
      },
    };
  };
  const recordedSource = async (taskId: string): Promise<LogLocation | undefined> => (await store.logs.state(taskId)).source;
  return {
    /** A queued build whose workflow could not be started goes back to new; the hub tries again later. */
    async returnToReady(taskId: string, reason: string): Promise<void> {
      await store.moveTask(taskId, 'new', reason, {}, { onlyFrom: ['queued'] });
    },

    /**
     * A builder picked the build up: queued → building, with the builder and the pickup time (a retry on another
     * builder records the new one). A cancelled task stays cancelled.
     */
    async recordStarted(taskId: string, pickup: BuildPickup): Promise<void> {
      const source = allowed(taskId, pickup.log && { builder: pickup.builderId, ...pickup.log, attempt: pickup.attempt });
      await store.recordMove(taskId, 'queued', 'building', `picked up by ${pickup.builderId}${pickup.attempt > 1 ? ` (attempt ${pickup.attempt})` : ''}`, {
        builder: pickup.builderId, startedAt: new Date(pickup.at),
      }, { onlyFrom: ['queued', 'building'], ...(source ? { also: (em) => store.logs.setSource(taskId, source, em) } : {}) });
    },

    /** Collects the log first: the build workflow has the builder clean up after the build's end is recorded. */
    async recordBuilt(taskId: string, result: Pick<BuildResult, 'builderId' | 'logPath'> & Partial<Pick<BuildResult, 'artefactBaseUrl' | 'artefactToken'>>): Promise<void> {
      const from = allowed(taskId, result.artefactBaseUrl && result.artefactToken
        ? { builder: result.builderId, url: result.artefactBaseUrl, token: result.artefactToken }
        : await recordedSource(taskId));
      // The log is kept in the transaction that records the build's end.
      await store.recordMove(taskId, 'building', 'publishing', `built on ${result.builderId}`, { builder: result.builderId, logPath: result.logPath }, await logWrite(taskId, from));
    },

    async recordPublished(taskId: string, imported: ImportResult): Promise<void> {
      const published = imported.published.map((p) => ({ name: p.name, uri: p.uri, sha256: p.sha256, size: p.size }));
      await store.recordMove(taskId, 'publishing', 'completed', `published in ${imported.index} history ${imported.historyId}`, { published });
    },

    /** An admin's cancel wins over the failure it caused: only a queued, building or publishing task fails. */
    async recordFailure(taskId: string, failure: RecordedFailure): Promise<void> {
      // A failed import leaves the log collected when the build was recorded; a failed build's log is kept here.
      const keep = failure.logPath ? await logWrite(taskId, await recordedSource(taskId)) : {};
      await store.recordMove(taskId, 'building', 'failed', failure.reason, {
        reason: failure.reason,
        logTail: failure.logTail ?? null,
        ...(failure.logPath ? { logPath: failure.logPath } : {}),
        ...(failure.builder ? { builder: failure.builder } : {}),
      }, { onlyFrom: ['queued', 'building', 'publishing'], ...keep });
    },

    /** Admin retry: a failed or cancelled task becomes new again; the hub then dispatches a new attempt. */
    async retryTask(cmd: TaskCommand): Promise<TaskCommandResult> {
      const task = await store.setStatus(cmd.taskId, 'new', `retried by ${cmd.by}`, { reason: null, logTail: null });
      // A wave that has ended publishes nothing more: the retried build (and what its failure blocked there) joins
      // the commit's next wave, which the hub starts after this command.
      const wave = task.wave ? await store.waves.findWave(task.wave) : null;
      if (wave && FINISHED_WAVE_STATUSES.includes(wave.status as WaveStatus)) {
        const next = await store.waves.openWave(wave.repository, wave.commit, 'retry');
        const blocked = (await store.waves.tasksOf(wave.id)).filter((t) => t.status === 'blocked').map((t) => t.id);
        await store.waves.assign([task.id, ...blocked], next.id);
      }
      return { taskId: task.id, status: task.status };
    },

    /** Admin cancel; returns the status it had, so the hub knows whether a build workflow must be stopped. */
    async cancelTask(cmd: TaskCommand): Promise<TaskCommandResult & { previous: string }> {
      const { task, from } = await store.moveTask(cmd.taskId, 'cancelled', `cancelled by ${cmd.by}`);
      return { taskId: task.id, status: task.status, previous: from };
    },

    /** Builders' heartbeats, as the hub received them: `lastSeen` is the heartbeat's time, never a planning pass. */
    async recordBuilders(beats: Array<{ status: BuilderStatus; lastSeen: string }>): Promise<void> {
      for (const { status, lastSeen } of beats) {
        await store.upsertBuilder({
          id: status.id, host: status.host, isaLevels: status.isaLevels, slots: status.slots, busy: status.busy, diskFree: status.diskFree,
          health: status.health ?? null,
          lastSeen: new Date(lastSeen),
        });
      }
    },
  };
}
