import { getExternalWorkflowHandle, proxyActivities } from '@temporalio/workflow';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import type { SummitActivities } from '../core/contracts/activities';
import { refreshSignal } from './signals';

const summit = proxyActivities<SummitActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/**
 * Started by the poll Schedule (the fallback when a git hook is missing or summit was down during a push): asks
 * the hub to refresh every registered repository. Intake is idempotent, so a poll that finds nothing new costs a
 * `git fetch` per repository and nothing else.
 */
export async function pollRepositoriesWorkflow(): Promise<number> {
  const ids = await summit.listRepositoryIds();
  const hub = getExternalWorkflowHandle(HUB_WORKFLOW_ID);
  for (const repository of ids) await hub.signal(refreshSignal, { repository, origin: 'poll' });
  return ids.length;
}
