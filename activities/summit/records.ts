import type { BuildResult, ImportResult } from '../../core/contracts/build';
import type { BuilderStatus, TaskCommand, TaskCommandResult } from '../../core/contracts/hub';
import type { RecordedFailure } from '../../core/contracts/summit';
import type { Store } from '../../db/store';

/**
 * Activities that record in the read model what the workflows decided. Each is idempotent (moving a task to the
 * status it already has is a no-op), so Temporal may retry any of them.
 */
export function recordActivities(store: Store) {
  return {
    async markBuilding(taskId: string, reason: string): Promise<void> {
      await store.setStatus(taskId, 'building', reason, { reason: null });
    },

    async recordBuilt(taskId: string, result: Pick<BuildResult, 'builderId' | 'logPath'>): Promise<void> {
      await store.setStatus(taskId, 'publishing', `built on ${result.builderId}`, { builder: result.builderId, logPath: result.logPath });
    },

    async recordPublished(taskId: string, imported: ImportResult): Promise<void> {
      const published = imported.published.map((p) => ({ name: p.name, uri: p.uri, sha256: p.sha256, size: p.size }));
      await store.setStatus(taskId, 'completed', `published in ${imported.index} history ${imported.historyId}`, { published });
    },

    async recordFailure(taskId: string, failure: RecordedFailure): Promise<void> {
      const task = await store.getTask(taskId);
      if (task.status === 'cancelled') return; // an admin's cancel wins over the failure it caused
      await store.setStatus(taskId, 'failed', failure.reason, {
        reason: failure.reason,
        logTail: failure.logTail ?? null,
        ...(failure.logPath ? { logPath: failure.logPath } : {}),
        ...(failure.builder ? { builder: failure.builder } : {}),
      });
    },

    /** Admin retry: a failed or cancelled task becomes new again; the hub then dispatches a new attempt. */
    async retryTask(cmd: TaskCommand): Promise<TaskCommandResult> {
      const task = await store.setStatus(cmd.taskId, 'new', `retried by ${cmd.by}`, { reason: null, logTail: null });
      return { taskId: task.id, status: task.status };
    },

    /** Admin cancel; returns the status it had, so the hub knows whether a build workflow must be stopped. */
    async cancelTask(cmd: TaskCommand): Promise<TaskCommandResult & { previous: string }> {
      const previous = (await store.getTask(cmd.taskId)).status;
      const task = await store.setStatus(cmd.taskId, 'cancelled', `cancelled by ${cmd.by}`);
      return { taskId: task.id, status: task.status, previous };
    },

    async recordBuilder(status: BuilderStatus): Promise<void> {
      await store.upsertBuilder({ id: status.id, host: status.host, isaLevels: status.isaLevels, slots: status.slots, busy: status.busy, diskFree: status.diskFree });
    },
  };
}
