/**
 * The hub's local plan, run again by a retried workflow task, answers what it answered (activities/summit/plan-once.ts):
 * unit test on the SDK's mock activity environment (the context only; the plan is a stub counting its runs).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { planOnce } from '../activities/summit/plan-once';
import type { BuildId } from '../core/contracts/ids';
import type { PlanInput, PlanResult } from '../core/contracts/summit';

const input: PlanInput = { builders: [], prefetch: 0, holdBack: [], freed: [] };
const execution = { workflowId: 'summit-hub', runId: 'run-1' };
const ids = (r: PlanResult): string[] => r.dispatch.map((d) => d.taskId);

function counting(): { runs: () => number; plan: (input: PlanInput) => Promise<PlanResult> } {
  let n = 0;
  return {
    runs: () => n,
    plan: async () => {
      n++;
      return { dispatch: [{ taskId: `t${n}` as BuildId } as PlanResult['dispatch'][number]], blocked: [], unblocked: [], waiting: 0, queued: 0, unservable: [] };
    },
  };
}

test('a local plan run again (same run, same sequence number) gets the first answer; another plan runs', async () => {
  const { runs, plan } = counting();
  const once = planOnce(plan);
  const first = await new MockActivityEnvironment({ isLocal: true, activityId: '7', workflowExecution: execution }).run(once, input);
  const again = await new MockActivityEnvironment({ isLocal: true, activityId: '7', workflowExecution: execution }).run(once, input);
  expect(again).toEqual(first);
  expect(runs()).toBe(1);
  const next: PlanResult = await new MockActivityEnvironment({ isLocal: true, activityId: '8', workflowExecution: execution }).run(once, input);
  expect(ids(next)).toEqual(['t2']);
  const otherRun: PlanResult = await new MockActivityEnvironment({ isLocal: true, activityId: '7', workflowExecution: { ...execution, runId: 'run-2' } }).run(once, input);
  expect(ids(otherRun)).toEqual(['t3']);
});

test('a normal activity (durable result) always plans', async () => {
  const { runs, plan } = counting();
  const once = planOnce(plan);
  for (let i = 0; i < 2; i++) await new MockActivityEnvironment({ isLocal: false, activityId: '7', workflowExecution: execution }).run(once, input);
  expect(runs()).toBe(2);
});
