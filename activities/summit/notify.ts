import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { BuildResult, ImportResult } from '../../core/contracts/build';
import type { BuildNotice, RecordAndTellActivities } from '../../core/contracts/activities';
import { HUB_WORKFLOW_ID } from '../../core/contracts/hub';
import type { BuildId } from '../../core/contracts/ids';
import { buildFinishedSignal, waveBuildEndedSignal, type BuildEnded } from '../../workflows/signals';
import type { RecordLog } from './records';

/** Sends a build's signal to a workflow by id (the current run); rejects when Temporal refuses it. */
export type SignalSender = (workflowId: string, signal: typeof buildFinishedSignal, payload: BuildEnded) => Promise<void>;

/** The summit worker's Temporal client as a SignalSender (payloads through the client's data converter). */
export function clientSignals(client: Client): SignalSender {
  return (workflowId, signal, payload) => client.workflow.getHandle(workflowId).signal(signal, payload);
}

/** The records the notifying activities wrap (activities/summit/records.ts, as composed in index.ts). */
export interface WrappedRecords {
  recordBuilt(taskId: BuildId, result: Pick<BuildResult, 'builderId' | 'logPath'> & Partial<Pick<BuildResult, 'buildId' | 'artefactBaseUrl' | 'artefactToken'>>): Promise<void>;
  recordStaged(taskId: BuildId, staged: ImportResult): Promise<void>;
  recordPublished(taskId: BuildId, imported: ImportResult): Promise<void>;
}

/** The build workflow's run that asked (a local activity's), so that a receiver can tell a repeat from a new run. */
function callerRun(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.runId;
  } catch {
    return undefined;
  }
}

/**
 * When a staged build tells its wave (WaveTelling): always when it was the last open build of its index in the
 * wave (the wave publishes that index then), and otherwise at most once per `progressEveryMs` per wave (the wave's
 * progress and estimate in the Temporal UI). Without it, every build tells.
 */
export interface WaveTellingOptions {
  /** The wave's tasks of this index still open (core/contracts/wave.ts WAVE_OPEN_TASK_STATUSES), after the record. */
  openIn(waveId: string, index: string): Promise<number>;
  progressEveryMs: number;
  clock?: () => number;
}

/** Waves remembered for their last progress signal (a bounded window; a forgotten wave is told at its next build). */
const WAVES_KEPT = 1000;

/**
 * Which staged builds tell their wave. A wave woken by every build's end costs a workflow task, a look at the read
 * model and a memo update per build (a 1,000-build wave: 1,000 of each); the wave needs only the last build of an
 * index (to publish it) and a progress tick now and then. Each build counts after its own record is committed,
 * so of two builds ending together the later one sees the other ended: the last build of an index always tells.
 * A count that fails tells (the wave's own timer is the last resort).
 */
export class WaveTelling {
  private readonly told = new Map<string, number>();
  constructor(private readonly opts: WaveTellingOptions) {}

  async shouldTell(waveId: string, index: string): Promise<boolean> {
    const now = (this.opts.clock ?? Date.now)();
    const last = this.told.get(waveId);
    let tell = last === undefined || now - last >= this.opts.progressEveryMs;
    if (!tell) tell = await this.opts.openIn(waveId, index).then((open) => open === 0, () => true);
    if (tell) {
      this.told.delete(waveId);
      this.told.set(waveId, now);
      if (this.told.size > WAVES_KEPT) this.told.delete(this.told.keys().next().value!);
    }
    return tell;
  }
}

/**
 * Records that tell the hub and the build's wave themselves, after the write (patch `notify-from-records` of the
 * build workflow): a signal the build workflow sends costs it a workflow task of its own (the
 * ExternalWorkflowExecutionSignaled event wakes it), a signal an activity sends costs it nothing. The rules stay
 * the workflow's: the hub hears `built` only once the record is written (the read model never shows more builds on
 * a builder than it has slots); signals are best effort (a hub or wave that is not running is logged, the record
 * does not fail: both re-read the read model on their timers). A retried activity may signal twice: each signal
 * names the build workflow's run, and the hub and the wave ignore a repeat (workflows/hub.ts, workflows/wave.ts).
 */
export function recordAndTellActivities(records: WrappedRecords, send: SignalSender | undefined, log: () => RecordLog, waves?: WaveTelling): RecordAndTellActivities {
  const tell = async (taskId: string, notice: BuildNotice): Promise<void> => {
    if (!send) {
      log().warn('no Temporal client to signal with; the hub and the wave re-read on their timers', { taskId, status: notice.status });
      return;
    }
    const payload = { taskId, status: notice.status, ...withRun(callerRun()) };
    const targets: Array<[string, string]> = [];
    if (notice.hub) targets.push([HUB_WORKFLOW_ID, 'hub']);
    if (notice.wave) targets.push([notice.wave, 'wave']);
    await Promise.all(targets.map(async ([workflowId, who]) => {
      try {
        await send(workflowId, who === 'hub' ? buildFinishedSignal : waveBuildEndedSignal, payload);
      } catch (err) {
        log().warn(`could not tell the ${who}; it looks again on its own timer`, { taskId, workflowId, status: notice.status, error: err instanceof Error ? err.message : String(err) });
      }
    }));
  };
  return {
    async recordBuiltAndTell(taskId, result, notice) {
      await records.recordBuilt(taskId, result);
      // Sent, not waited for: the build's stage is scheduled when this returns, and need not wait for the hub's
      // round trip (tell never rejects: a refusal is logged).
      void tell(taskId, notice);
    },
    async recordStagedAndTell(taskId, staged, notice) {
      await records.recordStaged(taskId, staged);
      const toWave = notice.wave !== undefined && (!waves || (await waves.shouldTell(notice.wave, staged.index)));
      await tell(taskId, { ...notice, wave: toWave ? notice.wave : undefined });
    },
    async recordPublishedAndTell(taskId, imported, notice) {
      await records.recordPublished(taskId, imported);
      await tell(taskId, notice);
    },
  };
}

const withRun = (run: string | undefined): { run?: string } => (run ? { run } : {});
