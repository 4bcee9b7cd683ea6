import { Context } from '@temporalio/activity';
import type { PlanInput, PlanResult } from '../../core/contracts/summit';

/** Plans remembered per process: a workflow task retried soon after is all this covers. */
const KEPT = 32;

/**
 * The hub's plan as a local activity (workflows/hub.ts, patch `local-planning`) runs again when the workflow task
 * that ran it fails (a worker restart mid-task, the server refusing the task): planBuilds moves what it dispatches
 * to `queued`, so a second run would dispatch nothing of it and those tasks would stay queued. A run of the same
 * local activity (same workflow run, same sequence number) in this process gets the plan the first run returned,
 * and the hub starts the same build workflows. A normal activity has a durable result: it is not remembered.
 */
export function planOnce(plan: (input: PlanInput) => Promise<PlanResult>): (input: PlanInput) => Promise<PlanResult> {
  const done = new Map<string, PlanResult>();
  return async (input) => {
    const key = localActivityKey();
    if (!key) return plan(input);
    const earlier = done.get(key);
    if (earlier) return earlier;
    const result = await plan(input);
    done.set(key, result);
    if (done.size > KEPT) done.delete(done.keys().next().value!);
    return result;
  };
}

function localActivityKey(): string | undefined {
  try {
    const { info } = Context.current();
    return info.isLocal && info.workflowExecution ? `${info.workflowExecution.workflowId}\n${info.workflowExecution.runId}\n${info.activityId}` : undefined;
  } catch {
    return undefined;
  }
}
