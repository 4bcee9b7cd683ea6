/**
 * Notifications from the record activities (patch `notify-from-records`) on a real Temporal dev server: the real
 * build, hub and wave workflows, the real notifying activities (activities/summit/notify.ts) sending with a real
 * client; what they wrap (the read model's records, the builder, vessel, planning) are stubs written here.
 *
 * - a build's `built` reaches the hub only once its record is written, and its end once the stage is recorded,
 *   with no signal sent by the build workflow itself (its history has none, and four workflow tasks);
 * - a signal sent twice (a retried record activity) changes nothing: the hub plans no second time, a `built`
 *   repeated after the build's end frees no slot, and the wave looks no second time;
 * - a signal to a workflow that is not running is logged, the record does not fail.
 */
import { Worker } from '@temporalio/worker';
import { temporal as proto } from '@temporalio/proto';
import { recordAndTellActivities, clientSignals, type WrappedRecords } from '../activities/summit/notify';
import type { SummitActivities, VesselActivities, AvalancheActivities } from '../core/contracts/activities';
import type { BuildResult, ImportResult } from '../core/contracts/build';
import type { BuildId, BuilderId } from '../core/contracts/ids';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import { VESSEL_QUEUE } from '../core/contracts/queues';
import { BUILD_FLOW, type Dispatch, type PlanInput, type PlanResult } from '../core/contracts/summit';
import type { WaveProgress } from '../core/contracts/wave';
import { buildFinishedSignal, hubStateQuery, replanSignal, waveBuildEndedSignal, waveStateQuery } from '../workflows/signals';
import { waitFor } from './helpers/farm';
import { taskQueueFor } from './support/temporal';
import { useWorkflowTestEnvironment } from './support/worker';

jest.setTimeout(180_000);

const EMPTY_PLAN: PlanResult = { dispatch: [], blocked: [], unblocked: [], waiting: 0, queued: 0, unservable: [] };
type EventType = proto.api.enums.v1.EventType;
const { EventType } = proto.api.enums.v1;

const env = useWorkflowTestEnvironment();

/** What the stubs saw, in order. */
interface World {
  /** Records written (task id and step). */
  records: Array<{ taskId: string; step: 'built' | 'staged' | 'published' }>;
  /** Each plan the hub asked for: the builds it counted freed, and which builds' `built` record existed then. */
  plans: Array<{ freed: string[]; builtRecorded: string[] }>;
  /** Each look of the wave at its progress. */
  looks: number;
  warnings: string[];
}

const newWorld = (): World => ({ records: [], plans: [], looks: 0, warnings: [] });

function summitStubs(world: World): Partial<SummitActivities> & ReturnType<typeof recordAndTellActivities> {
  // The record is written only after a round trip to Temporal (the hub's state): a signal sent before the write
  // would have the hub plan in between, with the build freed and its record missing.
  const records: WrappedRecords = {
    recordBuilt: async (taskId) => {
      await env.client.workflow.getHandle(HUB_WORKFLOW_ID).query(hubStateQuery);
      world.records.push({ taskId, step: 'built' });
    },
    recordStaged: async (taskId) => void world.records.push({ taskId, step: 'staged' }),
    recordPublished: async (taskId) => void world.records.push({ taskId, step: 'published' }),
  };
  const log = () => ({ info: () => undefined, warn: (message: string) => void world.warnings.push(message) });
  return {
    planBuilds: async (input: PlanInput): Promise<PlanResult> => {
      world.plans.push({ freed: [...(input.freed ?? [])], builtRecorded: world.records.filter((r) => r.step === 'built').map((r) => r.taskId) });
      return EMPTY_PLAN;
    },
    recordBuilders: async () => undefined,
    newWaves: async () => [],
    recordStarted: async () => undefined,
    waveProgress: async (waveId): Promise<WaveProgress> => {
      world.looks++;
      return { waveId, status: 'building', total: 2, done: 0, failed: 0, dropped: 0, open: 2, etaMs: null, openByIndex: { main: 2 } };
    },
    ...recordAndTellActivities(records, clientSignals(env.client), log),
  };
}

const dispatch = (taskId: BuildId, queue: string, wave?: string): Dispatch => ({
  taskId, isa: 'x86_64', index: 'main', source: 'liba', commit: 'c0ffee'.repeat(7).slice(0, 40), repoUrl: 'file:///nowhere', recipePath: 'liba/stone.yaml',
  version: '1.0.0', release: 1, buildRelease: 1, dependencies: [], criticalPath: 1, queue, ...(wave ? { wave } : {}),
});

const result = (taskId: BuildId): BuildResult => ({
  buildId: taskId, builderId: 'av1' as BuilderId, artefactBaseUrl: 'http://av1.invalid', artefactToken: 't', artefacts: [], logPath: '/log', startedAt: new Date(0).toISOString(), finishedAt: new Date(0).toISOString(),
});
const imported = (taskId: BuildId): ImportResult => ({ buildId: taskId, index: 'main', historyId: '', indexPath: '', published: [], released: true });

/** Runs the test's body with the summit worker (workflows, summit and avalanche stubs) and vessel's stubs. */
async function withFarm<T>(world: World, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = taskQueueFor(expect.getState().currentTestName);
  const avalanche: AvalancheActivities = { buildRecipe: async (req) => result(req.buildId), cleanupBuild: async () => undefined };
  const vessel: Partial<VesselActivities> = { stageArtefacts: async (req) => imported(req.buildId), importArtefacts: async (req) => imported(req.buildId) };
  const summit = await Worker.create({ connection: env.connection, namespace: env.server.namespace, taskQueue, workflowBundle: env.bundle, activities: { ...summitStubs(world), ...avalanche } });
  const store = await Worker.create({ connection: env.connection, namespace: env.server.namespace, taskQueue: VESSEL_QUEUE, activities: vessel });
  return summit.runUntil(store.runUntil(body(taskQueue)));
}

async function historyOf(workflowId: string): Promise<proto.api.history.v1.IHistoryEvent[]> {
  return (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}
const count = (events: proto.api.history.v1.IHistoryEvent[], type: EventType): number => events.filter((e) => e.eventType === type).length;

/** Waits until the workflow has completed a workflow task after the last signal it received (it has handled it). */
async function handledLastSignal(workflowId: string): Promise<void> {
  await waitFor(`${workflowId} to handle its last signal`, async () => {
    const events = await historyOf(workflowId);
    const last = events.map((e) => e.eventType).lastIndexOf(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    return events.slice(last).some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) ? true : undefined;
  }, 30_000);
}

async function startHub(taskQueue: string): Promise<void> {
  await env.client.workflow.start('hubWorkflow', { workflowId: HUB_WORKFLOW_ID, taskQueue, args: [{ replanEveryMs: 3_600_000 }] });
}

async function stopHub(): Promise<void> {
  await env.client.workflow.getHandle(HUB_WORKFLOW_ID).terminate('test over');
}

describe('notifications from the record activities', () => {
  it('tell the hub `built` only once the record is written, and the end after the stage is recorded; the build workflow sends no signal', async () => {
    const world = newWorld();
    await withFarm(world, async (taskQueue) => {
      await startHub(taskQueue);
      try {
        await waitFor('the hub\'s first plan', async () => (world.plans.length > 0 ? true : undefined), 30_000);
        const taskId = 'build/notify/liba/x86_64' as BuildId;
        const wave = 'wave-notify';
        await env.client.workflow.start('waveWorkflow', { workflowId: wave, taskQueue, args: [{ waveId: wave }] });
        await waitFor('the wave\'s first look', async () => (world.looks > 0 ? true : undefined), 30_000);
        const looksBefore = world.looks;
        await env.client.workflow.execute('buildWorkflow', { workflowId: taskId, taskQueue, args: [dispatch(taskId, taskQueue, wave)] });

        // The hub planned with the build freed (its `built`), and then its record was there; then planned again
        // at its end (its slot no longer counted freed).
        await waitFor('the hub to plan after the build ended', async () => {
          const at = world.plans.findIndex((p) => p.freed.includes(taskId));
          return at >= 0 && world.plans.slice(at + 1).some((p) => !p.freed.includes(taskId)) ? true : undefined;
        }, 30_000, async () => JSON.stringify(world.plans));
        for (const plan of world.plans.filter((p) => p.freed.includes(taskId))) expect(plan.builtRecorded).toContain(taskId);
        await waitFor('the wave to look again', async () => (world.looks > looksBefore ? true : undefined), 30_000);
        expect(world.records).toEqual([{ taskId, step: 'built' }, { taskId, step: 'staged' }]);

        const build = await historyOf(taskId);
        expect(count(build, EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)).toBe(0);
        // Start; build done (record and stage); stage done (record, end). No pickup signal from this stub builder.
        expect(count(build, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)).toBe(3);
        const hub = await historyOf(HUB_WORKFLOW_ID);
        // Planning is a local activity: a marker, no activity task.
        expect(count(hub, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(0);
        expect(count(hub, EventType.EVENT_TYPE_MARKER_RECORDED)).toBeGreaterThanOrEqual(world.plans.length);
        await env.client.workflow.getHandle(wave).terminate('test over');
      } finally {
        await stopHub();
      }
    });
  });

  it('a signal sent twice (a retried record activity) changes nothing in the hub', async () => {
    const world = newWorld();
    await withFarm(world, async (taskQueue) => {
      await startHub(taskQueue);
      try {
        const hub = env.client.workflow.getHandle(HUB_WORKFLOW_ID);
        await waitFor('the hub\'s first plan', async () => (world.plans.length > 0 ? true : undefined), 30_000);
        const built = { taskId: 'b1', status: 'built', run: 'run-1' };
        await hub.signal(buildFinishedSignal, built);
        await waitFor('the plan for `built`', async () => (world.plans.some((p) => p.freed.includes('b1')) ? true : undefined), 30_000);
        const plans = world.plans.length;
        const { rounds } = await hub.query(hubStateQuery);

        // The same `built` again: handled, no plan.
        await hub.signal(buildFinishedSignal, built);
        await handledLastSignal(HUB_WORKFLOW_ID);
        expect(world.plans.length).toBe(plans);
        expect((await hub.query(hubStateQuery)).rounds).toBe(rounds);

        // Its end, then the `built` once more (a late retry): the slot is not counted freed again.
        await hub.signal(buildFinishedSignal, { ...built, status: 'completed' });
        await waitFor('the plan for the end', async () => (world.plans.length > plans ? true : undefined), 30_000);
        await hub.signal(buildFinishedSignal, built);
        await handledLastSignal(HUB_WORKFLOW_ID);
        const afterEnd = world.plans.length;
        await hub.signal(replanSignal, { reason: 'test' });
        await waitFor('the plan asked for', async () => (world.plans.length > afterEnd ? true : undefined), 30_000);
        expect(world.plans.length).toBe(afterEnd + 1);
        expect(world.plans.at(-1)?.freed).not.toContain('b1');

        // A new run of the same task (an admin's retry) is heard.
        await hub.signal(buildFinishedSignal, { ...built, run: 'run-2' });
        await waitFor('the plan for the new run', async () => (world.plans.at(-1)?.freed.includes('b1') ? true : undefined), 30_000);
      } finally {
        await stopHub();
      }
    });
  });

  it('a signal sent twice changes nothing in the wave', async () => {
    const world = newWorld();
    await withFarm(world, async (taskQueue) => {
      const waveId = 'wave-twice';
      const wave = env.client.workflow.getHandle(waveId);
      await env.client.workflow.start('waveWorkflow', { workflowId: waveId, taskQueue, args: [{ waveId }] });
      // Its first look (moving it to building), then the first look of its loop; then it waits.
      await waitFor('the wave\'s first looks', async () => (world.looks === 2 ? true : undefined), 30_000);
      const ended = { taskId: 'b1', status: 'completed', run: 'run-1' };
      await wave.signal(waveBuildEndedSignal, ended);
      await waitFor('the wave to look', async () => (world.looks === 3 ? true : undefined), 30_000);
      await wave.signal(waveBuildEndedSignal, ended);
      await handledLastSignal(waveId);
      expect(world.looks).toBe(3);
      expect((await wave.query(waveStateQuery)).progress.open).toBe(2);
      // Another build's end is a change.
      await wave.signal(waveBuildEndedSignal, { ...ended, taskId: 'b2' });
      await waitFor('the wave to look again', async () => (world.looks === 4 ? true : undefined), 30_000);
      await wave.terminate('test over');
    });
  });

  it('a dispatch naming the build flow runs the same way without patch markers or TemporalChangeVersion updates', async () => {
    const world = newWorld();
    await withFarm(world, async (taskQueue) => {
      const histories = [];
      // The stub's built record asks the hub's state first.
      await startHub(taskQueue);
      try {
        for (const flow of [undefined, BUILD_FLOW]) {
          const taskId = `build/notify/flow-${flow ?? 'none'}/x86_64` as BuildId;
          await env.client.workflow.execute('buildWorkflow', { workflowId: taskId, taskQueue, args: [{ ...dispatch(taskId, taskQueue), ...(flow ? { flow } : {}) }] });
          histories.push(await historyOf(taskId));
        }
      } finally {
        await stopHub();
      }
      const [patched, current] = histories;
      const patchMarkers = (events: proto.api.history.v1.IHistoryEvent[]) => events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length;
      const upserts = (events: proto.api.history.v1.IHistoryEvent[]) => count(events, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
      // Without the flow: the three patches it asks (local-records, signals-beside-activities, notify-from-records).
      expect(patchMarkers(patched)).toBe(3);
      expect(patchMarkers(current)).toBe(0);
      expect(upserts(patched) - upserts(current)).toBe(3);
      // The same way otherwise: records as local activities, no signal of its own, three workflow tasks.
      for (const events of histories) {
        expect(count(events, EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)).toBe(0);
        expect(count(events, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)).toBe(3);
        expect(count(events, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(2);
      }
      expect(world.records.map((r) => r.step)).toEqual(['built', 'published', 'built', 'published']);
    });
  });

  it('a workflow that is not running is logged, and the record stands', async () => {
    const world = newWorld();
    const { recordStagedAndTell } = summitStubs(world);
    const b9 = 'b9' as BuildId;
    await recordStagedAndTell(b9, imported(b9), { status: 'completed', hub: false, wave: 'wave-that-never-ran' });
    expect(world.records).toEqual([{ taskId: 'b9', step: 'staged' }]);
    expect(world.warnings).toEqual(['could not tell the wave; it looks again on its own timer']);
  });
});
