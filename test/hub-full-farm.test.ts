/**
 * The hub's planning rounds when a build ends (patch `full-skips-completed`), on a real dev server with the real
 * hub workflow and stub summit activities: the end of a build that already gave its slot back (`built`) plans
 * nothing while the last plan left ready builds without a slot; it plans when the last plan had room, when the
 * build failed, and when it never said `built`.
 */
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { SummitActivities } from '../core/contracts/activities';
import type { BuilderStatus } from '../core/contracts/hub';
import type { PlanResult } from '../core/contracts/summit';
import { buildFinishedSignal, builderHeartbeatSignal, hubStateQuery } from '../workflows/signals';
import { waitFor } from './helpers/farm';
import { taskQueueFor } from './support/temporal';
import { useWorkflowTestEnvironment } from './support/worker';

jest.setTimeout(120_000);

const builder: BuilderStatus = { id: 'av1', host: 'av1.test', isaLevels: ['x86_64'], slots: 1, busy: 0, diskFree: 1e9 };

const env = useWorkflowTestEnvironment();

/** A hub whose every plan leaves `queued` ready builds without a slot; `plans` counts the planning rounds. */
async function withHub(queued: number, body: (hub: ReturnType<Client['workflow']['getHandle']>, plans: () => number) => Promise<void>): Promise<void> {
  const taskQueue = taskQueueFor(expect.getState().currentTestName);
  let plans = 0;
  const activities: Partial<SummitActivities> = {
    planBuilds: async (): Promise<PlanResult> => {
      plans++;
      return { dispatch: [], blocked: [], unblocked: [], waiting: 0, queued, unservable: [] };
    },
    recordBuilders: async () => undefined,
  };
  const worker = await Worker.create({ connection: env.connection, namespace: env.server.namespace, taskQueue, workflowBundle: env.bundle, activities });
  await worker.runUntil(async () => {
    const hub = await env.client.workflow.signalWithStart('hubWorkflow', {
      workflowId: `hub-${taskQueue}`, taskQueue, args: [{ replanEveryMs: 3_600_000 }], signal: builderHeartbeatSignal, signalArgs: [builder],
    });
    await waitFor('the first plan', async () => (plans >= 1 ? true : undefined), 30_000);
    await hub.signal(buildFinishedSignal, { taskId: 'a', status: 'built' });
    await waitFor('the plan after a slot freed', async () => (plans >= 2 ? true : undefined), 30_000);
    await waitFor('the round to end', async () => ((await hub.query(hubStateQuery)).rounds === 2 ? true : undefined), 30_000);
    await body(hub, () => plans);
    await hub.terminate('test over');
  });
}

describe('the hub planning when a build ends', () => {
  it('plans nothing for the end of a build that gave its slot back while every slot is taken; a failure plans', async () => {
    await withHub(3, async (hub, plans) => {
      await hub.signal(buildFinishedSignal, { taskId: 'a', status: 'completed' });
      // A query is answered after the signal before it has been handled: the round would have begun by then.
      expect((await hub.query(hubStateQuery)).rounds).toBe(2);
      expect(plans()).toBe(2);
      await hub.signal(buildFinishedSignal, { taskId: 'b', status: 'failed' });
      await waitFor('the plan after a failure', async () => (plans() >= 3 ? true : undefined), 30_000);
      await hub.signal(buildFinishedSignal, { taskId: 'c', status: 'completed' });
      await waitFor('the plan after the end of a build that never said built', async () => (plans() >= 4 ? true : undefined), 30_000);
    });
  });

  it('plans for the end of a build when the last plan left slots free', async () => {
    await withHub(0, async (hub, plans) => {
      await hub.signal(buildFinishedSignal, { taskId: 'a', status: 'completed' });
      await waitFor('the plan after the build ended', async () => (plans() >= 3 ? true : undefined), 30_000);
    });
  });
});
