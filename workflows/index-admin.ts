import { proxyActivities } from '@temporalio/workflow';
import { VESSEL_QUEUE } from '../core/contracts/queues';
import { STREAM_COMMAND_REFUSED, type IndexCommand, type IndexCommandResult, type VesselAdminActivities } from '../core/contracts/vessel';

/**
 * An admin's command on a published repository (streams, tags, rollback, prune), run by vessel: one short workflow
 * per command, started by the API (api/index-admin-temporal.ts) on the summit worker's queue, whose only step is
 * the vessel activity of the command on VESSEL_QUEUE. Vessel owns the repository's files and serialises writers
 * per index with its lock; the workflow gives the command Temporal's retries (a vessel restarting) and a record
 * in Temporal's history of who asked for what.
 */

// A stream command is one small file write; a prune of a large repository deletes many files, so the deadline is
// generous. A refusal (unknown history, bad tag, bad keep) is non-retryable and fails at once; anything else (the
// lock held by a publish, vessel restarting) is retried a few times.
const admin = proxyActivities<VesselAdminActivities>({
  taskQueue: VESSEL_QUEUE,
  startToCloseTimeout: '10 minutes',
  scheduleToStartTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: [STREAM_COMMAND_REFUSED] },
});

export async function indexAdminWorkflow(cmd: IndexCommand): Promise<IndexCommandResult> {
  switch (cmd.kind) {
    case 'history':
      return { kind: 'history', history: await admin.listHistory(cmd.index) };
    case 'promote':
      return { kind: 'history', history: await admin.promote(cmd.index, cmd.to, cmd.from) };
    case 'tag':
      return { kind: 'history', history: await admin.tagHistory(cmd.index, cmd.tag, cmd.historyId, cmd.replace) };
    case 'rollback':
      return { kind: 'history', history: await admin.rollbackStream(cmd.index, cmd.stream, cmd.historyId) };
    case 'prune': {
      const prune = await admin.pruneIndex(cmd.index, cmd.keep, cmd.dryRun);
      return { kind: 'prune', prune, history: await admin.listHistory(cmd.index) };
    }
  }
}
