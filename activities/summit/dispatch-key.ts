import { Context } from '@temporalio/activity';

/**
 * The key a planning activity queues its dispatches under (Task.dispatchKey): its workflow, run and activity id,
 * the same in every run of that one activity (a retry, or a local activity run again with its workflow task), and
 * never the same for two. Undefined outside an activity (a test, a benchmark calling planBuilds directly).
 */
export function dispatchKey(): string | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  const run = info.workflowExecution;
  return run ? `${run.workflowId}/${run.runId}/${info.isLocal ? 'local' : 'activity'}-${info.activityId}` : undefined;
}
