/**
 * The wave workflow on a real Temporal dev server with its activities stubbed here (what the wave asks of the read
 * model and of vessel is what is checked): it waits, rather than fails, when vessel refuses a publish for closure,
 * shows the report, and publishes on the retry signal or its timer; it refuses to publish a finished part that is
 * not closed, naming what is missing; a cancel ends it without a publish.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { SummitActivities, VesselActivities } from '../core/contracts/activities';
import { VESSEL_QUEUE } from '../core/contracts/queues';
import { CLOSURE_UNRESOLVED, STREAM_COMMAND_REFUSED, type ClosureReport, type VesselAdminActivities } from '../core/contracts/vessel';
import type { WavePolicyActivities } from '../core/contracts/wave-policy';
import { WAVE_NOT_CLOSED, type PublishStagedRequest, type WaveProgress, type WaveStatus } from '../core/contracts/wave';
import type { WaveOutcome } from '../workflows/wave';
import { cancelWaveUpdate, publishFinishedUpdate, waveRetryClosureSignal, waveStateQuery } from '../workflows/signals';
import { waitFor } from './helpers/farm';
import { taskQueueFor } from './support/temporal';
import { useWorkflowTestEnvironment } from './support/worker';

jest.setTimeout(180_000);

const REPORT: ClosureReport = { index: 'main', unresolved: [{ dependency: 'soname(libc.so.6(x86_64))', neededBy: ['tool'] }] };

const env = useWorkflowTestEnvironment();

/** What the wave did, as its stubs saw it. */
interface World {
  open: number;
  closureRefusals: number;
  publishes: PublishStagedRequest[];
  closure: Array<ClosureReport[] | null>;
  recorded: Array<{ final: boolean; buildIds: string[] }>;
  cancelled: number;
  status: WaveStatus;
  /** Promote policy: the indexes it plans, whether vessel's promote fails, what it recorded. */
  promoteIndexes?: string[];
  promoteFails?: boolean;
  promoted?: Array<{ index: string; outcome: unknown }>;
}

function stubs(world: World): { summit: Partial<SummitActivities & WavePolicyActivities>; vessel: Partial<VesselActivities & VesselAdminActivities> } {
  const progress = (waveId: string): WaveProgress => ({
    waveId, status: world.status, total: 2, done: 2 - world.open, failed: 0, dropped: 0, open: world.open, etaMs: world.open > 0 ? 60_000 : 0, openByIndex: { main: world.open },
  });
  return {
    summit: {
      waveProgress: async (waveId, status) => {
        if (status) world.status = status;
        return progress(waveId);
      },
      wavePublishPlan: async () => ({ indexes: [{ index: 'main', buildIds: ['b1', 'b2'], removals: [] }], skipped: [] }),
      wavePublishFinishedPlan: async () => ({ ok: false, missing: [{ dependency: 'liba', neededBy: ['tool'] }] }),
      recordWavePublished: async (_id, _written, plan, final) => {
        world.recorded.push({ final, buildIds: plan.indexes.flatMap((i) => i.buildIds) });
        if (final) world.status = 'published';
      },
      recordWaveClosure: async (_id, reports) => {
        world.closure.push(reports);
        world.status = reports ? 'waiting-for-closure' : 'publishing';
      },
      wavePromotePlan: async () => (world.promoteIndexes ? { indexes: world.promoteIndexes } : { indexes: [], reason: 'no promote policy' }),
      recordPolicyPromote: async (_id, index, outcome) => void (world.promoted ??= []).push({ index, outcome }),
      cancelWave: async () => {
        world.cancelled++;
        world.status = 'cancelled';
        return { inFlight: [] };
      },
    },
    vessel: {
      publishStaged: async (req) => {
        world.publishes.push(req);
        if (world.closureRefusals > 0) {
          world.closureRefusals--;
          throw ApplicationFailure.nonRetryable('vessel: a run-time dependency resolves nowhere', CLOSURE_UNRESOLVED, REPORT);
        }
        return { index: req.index, historyId: '2', changed: true, refused: [], removed: [] };
      },
      promote: async (index, to, from) => {
        if (world.promoteFails) throw ApplicationFailure.nonRetryable(`no history ${from} in ${index}`, STREAM_COMMAND_REFUSED);
        return { index, histories: [], streams: { volatile: '2', [to ?? 'unstable']: '2' }, tags: {} };
      },
    },
  };
}

async function withWave<T>(world: World, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = taskQueueFor(expect.getState().currentTestName);
  const { summit, vessel } = stubs(world);
  const wave = await Worker.create({ connection: env.connection, namespace: env.server.namespace, taskQueue, workflowBundle: env.bundle, activities: summit });
  const store = await Worker.create({ connection: env.connection, namespace: env.server.namespace, taskQueue: VESSEL_QUEUE, activities: vessel });
  return wave.runUntil(store.runUntil(body(taskQueue)));
}

const world = (over: Partial<World> = {}): World => ({ open: 0, closureRefusals: 0, publishes: [], closure: [], recorded: [], cancelled: 0, status: 'new', ...over });

describe('the wave workflow', () => {
  it('waits for closure with the report shown, and publishes when asked to try again', async () => {
    const w = world({ closureRefusals: 1 });
    await withWave(w, async (taskQueue) => {
      // The timer alone would take an hour: only the signal can end this wave within the test.
      const handle = await env.client.workflow.start('waveWorkflow', { workflowId: `wave-closure-${taskQueue}`, taskQueue, args: [{ waveId: 'wave-x', options: { closureRetryMs: 3_600_000 } }] });
      const state = await waitFor('the wave to wait for closure', async () => {
        const s = await handle.query(waveStateQuery);
        return s.closure ? s : undefined;
      }, 60_000);
      expect(state.closure).toEqual([REPORT]);
      expect(w.closure).toEqual([[REPORT]]);
      expect(w.status).toBe('waiting-for-closure');
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.signal(waveRetryClosureSignal);
      const outcome = (await handle.result()) as WaveOutcome;
      expect(outcome).toEqual({ waveId: 'wave-x', status: 'published', histories: [{ index: 'main', historyId: '2' }] });
      expect(w.publishes).toHaveLength(2);
      expect(w.recorded.map((r) => r.final)).toEqual([false, true]);
      expect(w.closure.at(-1)).toBeNull();
    });
  });

  it('promotes unstable by the repository\'s policy once published, and a failed promote is recorded without failing the wave', async () => {
    const ok = world({ promoteIndexes: ['main'] });
    await withWave(ok, async (taskQueue) => {
      const handle = await env.client.workflow.start('waveWorkflow', { workflowId: `wave-policy-${taskQueue}`, taskQueue, args: [{ waveId: 'wave-p' }] });
      expect(((await handle.result()) as WaveOutcome).status).toBe('published');
      expect(ok.promoted).toEqual([{ index: 'main', outcome: { streams: { volatile: '2', unstable: '2' } } }]);
    });
    const failing = world({ promoteIndexes: ['main'], promoteFails: true });
    await withWave(failing, async (taskQueue) => {
      const handle = await env.client.workflow.start('waveWorkflow', { workflowId: `wave-policy-fails-${taskQueue}`, taskQueue, args: [{ waveId: 'wave-q' }] });
      expect(((await handle.result()) as WaveOutcome).status).toBe('published');
      expect(failing.promoted).toEqual([{ index: 'main', outcome: { error: 'no history volatile in main' } }]);
    });
    // No policy: nothing promoted, nothing recorded.
    const none = world();
    await withWave(none, async (taskQueue) => {
      const handle = await env.client.workflow.start('waveWorkflow', { workflowId: `wave-policy-none-${taskQueue}`, taskQueue, args: [{ waveId: 'wave-r' }] });
      expect(((await handle.result()) as WaveOutcome).status).toBe('published');
      expect(none.promoted).toBeUndefined();
    });
  });

  it('tries a publish refused for closure again on its timer', async () => {
    const w = world({ closureRefusals: 2 });
    await withWave(w, async (taskQueue) => {
      const handle = await env.client.workflow.start('waveWorkflow', { workflowId: `wave-timer-${taskQueue}`, taskQueue, args: [{ waveId: 'wave-y', options: { closureRetryMs: 200 } }] });
      expect(((await handle.result()) as WaveOutcome).status).toBe('published');
      expect(w.publishes).toHaveLength(3);
    });
  });

  it('refuses to publish a finished part that is not closed, naming what it misses; a cancel ends it unpublished', async () => {
    const w = world({ open: 1 });
    await withWave(w, async (taskQueue) => {
      const handle = await env.client.workflow.start('waveWorkflow', { workflowId: `wave-early-${taskQueue}`, taskQueue, args: [{ waveId: 'wave-z' }] });
      const refused = await handle.executeUpdate(publishFinishedUpdate, { args: [{ waveId: 'wave-z', by: 'admin' }] }).then(() => undefined, (err: unknown) => err);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (refused as WorkflowUpdateFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe(WAVE_NOT_CLOSED);
      expect(cause.details).toEqual([[{ dependency: 'liba', neededBy: ['tool'] }]]);
      expect(cause.message).toContain('liba (needed by tool)');
      expect(await handle.executeUpdate(cancelWaveUpdate, { args: [{ waveId: 'wave-z', by: 'admin' }] })).toEqual({ waveId: 'wave-z', status: 'cancelled' });
      expect(((await handle.result()) as WaveOutcome).status).toBe('cancelled');
      expect(w.cancelled).toBe(1);
      expect(w.publishes).toEqual([]);
    });
  });
});
