import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import { SUMMIT_QUEUE } from '../core/contracts/queues';
import type { HubOptions } from '../workflows/hub';

export const POLL_SCHEDULE_ID = 'summit-poll-repositories';

/**
 * Start the hub workflow unless it already runs (idempotent: every summit start calls it). A running hub keeps
 * the options it was started with (across continue-as-new); new options apply from its next start.
 */
export async function ensureHub(client: Client, options: Partial<HubOptions> = {}): Promise<void> {
  try {
    await client.workflow.start('hubWorkflow', { workflowId: HUB_WORKFLOW_ID, taskQueue: SUMMIT_QUEUE, args: [options] });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Create the poll Schedule, or move its interval to the configured one. */
export async function ensurePollSchedule(client: Client, everyMs: number): Promise<void> {
  const spec = { intervals: [{ every: everyMs }] };
  try {
    await client.schedule.create({
      scheduleId: POLL_SCHEDULE_ID,
      spec,
      action: { type: 'startWorkflow', workflowType: 'pollRepositoriesWorkflow', taskQueue: SUMMIT_QUEUE, args: [] },
      // A slow poll (many repositories) must not pile up: skip a tick while one runs.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(POLL_SCHEDULE_ID).update((prev) => ({ ...prev, spec }));
  }
}
