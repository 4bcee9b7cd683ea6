import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { SummitActivities, VesselActivities } from '../core/contracts/activities';
import { VESSEL_QUEUE } from '../core/contracts/queues';
import { CLOSURE_UNRESOLVED, STREAM_COMMAND_REFUSED, type ClosureReport, type VesselAdminActivities } from '../core/contracts/vessel';
import type { WavePolicyActivities } from '../core/contracts/wave-policy';
import {
  WAVE_COMMAND_REFUSED,
  WAVE_NOT_CLOSED,
  type PublishStagedResult,
  type WaveCommand,
  type WaveCommandResult,
  type WaveProgress,
  type WavePublishPlan,
  type WaveState,
} from '../core/contracts/wave';
import { WakeTimer } from './wake-timer';
import { HeardSignals } from './heard-signals';
import { cancelWaveUpdate, publishFinishedUpdate, waveBuildEndedSignal, waveRetryClosureSignal, waveStateQuery } from './signals';

/** Read-model work: quick, retried until the database answers; an unknown wave is an answer, not an outage. */
const summit = proxyActivities<SummitActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NotFoundError', 'IllegalTransitionError'] },
});

/**
 * The same read-model work as a local activity (patch `local-progress`): the wave's look at its progress after a
 * build ended runs in the summit worker inside the workflow task the signal woke, instead of as an activity of its
 * own and a second workflow task for its result: one workflow task and one activity fewer per build. Only for
 * `waveProgress` without a status, which reads and writes nothing but the estimate (run twice, it does no harm).
 */
const summitLocal = proxyLocalActivities<SummitActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NotFoundError', 'IllegalTransitionError'] },
});

/**
 * One write of the index per call: the history of a big index takes a while to write, and the lock may be held by
 * another writer; heartbeats show it is alive. A closure refusal is the wave's to handle (it waits), not a retry's.
 */
const vessel = proxyActivities<VesselActivities>({
  taskQueue: VESSEL_QUEUE,
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: [CLOSURE_UNRESOLVED, 'ImportRefused'] },
});

/** The promote policy's read-model side: quick, like the read-model work above. */
const policy = proxyActivities<WavePolicyActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NotFoundError'] },
});

/** The policy's promote: one small file write under the index lock (as an admin's, workflows/index-admin.ts). */
const streams = proxyActivities<VesselAdminActivities>({
  taskQueue: VESSEL_QUEUE,
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [STREAM_COMMAND_REFUSED] },
});

/**
 * The repository's promote policy (core/contracts/wave-policy.ts), once the wave has published: `unstable` takes the
 * wave's history in each index it wrote when every build was published. A promote that fails is recorded and
 * logged; it never fails the wave, whose packages are published already.
 */
async function promoteByPolicy(waveId: string): Promise<void> {
  const plan = await policy.wavePromotePlan(waveId);
  if (plan.reason) log.info('no promote by policy', { waveId, reason: plan.reason });
  for (const index of plan.indexes) {
    try {
      const history = await streams.promote(index, 'unstable', 'volatile');
      await policy.recordPolicyPromote(waveId, index, { streams: history.streams });
      log.info('unstable promoted by policy', { waveId, index, unstable: history.streams.unstable });
    } catch (err) {
      const error = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
      await policy.recordPolicyPromote(waveId, index, { error });
      log.warn('promote by policy failed', { waveId, index, error });
    }
  }
}

export interface WaveOptions {
  /**
   * Look at the read model at least this often even when no build said it ended (ms): a build-ended signal may
   * be missed (the build ran before its wave started, a cancel from the hub).
   */
  recheckEveryMs: number;
  /** A wave waiting for closure tries its publish again this often (ms), or at once on the retry signal. */
  closureRetryMs: number;
  /** Continue as new once the history is this long (the state is in the read model; tests lower it). */
  historyEventsBeforeContinueAsNew: number;
}

const DEFAULTS: WaveOptions = { recheckEveryMs: 60_000, closureRetryMs: 10 * 60_000, historyEventsBeforeContinueAsNew: 10_000 };

export interface WaveInput {
  waveId: string;
  options?: Partial<WaveOptions>;
}

export interface WaveOutcome {
  waveId: string;
  status: 'published' | 'cancelled';
  histories: Array<{ index: string; historyId: string }>;
}

interface Command {
  kind: 'cancel' | 'publish-finished';
  cmd: WaveCommand;
  resolve: (r: WaveCommandResult) => void;
  reject: (err: unknown) => void;
}

const minutes = (ms: number): string => (ms < 60_000 ? `${Math.max(1, Math.round(ms / 1000))} s` : `${Math.round(ms / 60_000)} min`);

function details(p: WaveProgress, closure: ClosureReport[] | undefined, histories: WaveOutcome['histories']): string {
  const lines = [
    `### Wave \`${p.waveId}\`: ${p.status}`,
    `- ${p.done} of ${p.total} built, ${p.failed} failed, ${p.dropped} cancelled/superseded/blocked, ${p.open} to go${p.etaMs !== null && p.open > 0 ? ` (about ${minutes(p.etaMs)} left)` : ''}`,
    `- builds: \`BuildWave="${p.waveId}"\`; API: GET /api/waves/${p.waveId}`,
  ];
  for (const h of histories) lines.push(`- published: index \`${h.index}\` history \`${h.historyId}\``);
  for (const report of closure ?? []) {
    lines.push(`#### Waiting for closure of \`${report.index}\``);
    for (const u of report.unresolved.slice(0, 20)) lines.push(`- \`${u.dependency}\` needed by ${u.neededBy.map((n) => `\`${n}\``).join(', ')}`);
    if (report.unresolved.length > 20) lines.push(`- … ${report.unresolved.length - 20} more: GET /api/waves/${p.waveId}`);
  }
  return lines.join('\n');
}

function failureOf(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

/**
 * A wave: the builds of one push (or cascade, or rebuild request) of a repository, published together. The hub
 * decides where and when each build runs; the wave follows them (each tells it when it ends, and it re-reads the
 * read model on a timer), shows its progress and estimate in the Temporal UI (details, memo) and the read model,
 * and once no build of it is left to run asks vessel to publish every staged build, with its removals, in one
 * write per index: one new history. A refusal for closure (a run-time dependency nothing provides) is not a
 * failure: the wave waits, showing the report, and tries again on a signal or a timer. An admin may cancel it
 * (its builds in flight are cancelled, nothing more of it is published) or publish its finished part early where
 * that part is closed under run-time dependencies.
 */
export async function waveWorkflow(input: WaveInput): Promise<WaveOutcome> {
  const opts = { ...DEFAULTS, ...input.options };
  const { waveId } = input;
  const commands: Command[] = [];
  let changed = true;
  let retryClosure = false;
  let ended = false;
  const state: WaveState = { progress: { waveId, status: 'building', total: 0, done: 0, failed: 0, dropped: 0, open: 0, etaMs: null }, histories: [] };

  const show = (p: WaveProgress): void => {
    state.progress = p;
    setCurrentDetails(details(p, state.closure, state.histories));
    upsertMemo({ progress: { status: p.status, total: p.total, done: p.done, failed: p.failed, open: p.open, etaMs: p.etaMs } });
  };
  const command = (kind: Command['kind'], cmd: WaveCommand): Promise<WaveCommandResult> => {
    if (ended) throw ApplicationFailure.create({ type: WAVE_COMMAND_REFUSED, message: `wave ${waveId} has ended (${state.progress.status})`, nonRetryable: true });
    return new Promise((resolve, reject) => commands.push({ kind, cmd, resolve, reject }));
  };
  /**
   * Patch `notify-from-records`: a build's end is told by its record activity (activities/summit/notify.ts), naming
   * the build workflow's run; a retried activity may tell twice, and the repeat is ignored (no second look).
   */
  const heard = patched('notify-from-records') ? new HeardSignals() : undefined;
  setHandler(waveBuildEndedSignal, ({ taskId, status, run }) => {
    if (heard && run && !heard.first(taskId, run, status)) return;
    changed = true;
  });
  setHandler(waveRetryClosureSignal, () => void (retryClosure = true));
  setHandler(cancelWaveUpdate, (cmd) => command('cancel', cmd));
  setHandler(publishFinishedUpdate, (cmd) => command('publish-finished', cmd));
  setHandler(waveStateQuery, () => state);

  /** One write per index of the plan; a closure refusal comes back as reports, anything else is thrown. */
  const publish = async (plan: WavePublishPlan): Promise<{ written: PublishStagedResult[]; closure?: ClosureReport[] }> => {
    const written: PublishStagedResult[] = [];
    for (const ix of plan.indexes) {
      try {
        written.push(await vessel.publishStaged({ ...ix, waveId, architecture: 'x86_64' }));
      } catch (err) {
        const failure = failureOf(err);
        if (failure?.type !== CLOSURE_UNRESOLVED) throw err;
        const report = failure.details?.[0] as ClosureReport | undefined;
        return { written, closure: [report ?? { index: ix.index, unresolved: [] }] };
      }
    }
    return { written };
  };

  const wrote = (written: readonly PublishStagedResult[]): void => {
    for (const w of written) if (w.historyId && w.changed) state.histories.push({ index: w.index, historyId: w.historyId });
  };

  /** Admins' commands, in the order they came; true when the wave was cancelled. */
  const runCommands = async (): Promise<boolean> => {
    for (let c = commands.shift(); c; c = commands.shift()) {
      try {
        if (c.kind === 'cancel') {
          const { inFlight } = await summit.cancelWave(c.cmd);
          for (const id of inFlight) {
            await getExternalWorkflowHandle(id).cancel().catch((err) => log.warn('build workflow already gone', { waveId, taskId: id, error: String(err) }));
          }
          ended = true;
          show(await summit.waveProgress(waveId));
          c.resolve({ waveId, status: 'cancelled' });
          for (const rest of commands.splice(0)) rest.reject(ApplicationFailure.create({ type: WAVE_COMMAND_REFUSED, message: `wave ${waveId} was cancelled`, nonRetryable: true }));
          return true;
        }
        const early = await summit.wavePublishFinishedPlan(waveId);
        if (!early.ok) {
          c.reject(ApplicationFailure.create({
            type: WAVE_NOT_CLOSED, nonRetryable: true, details: [early.missing],
            message: `the finished part of ${waveId} is not closed under run-time dependencies: ${early.missing.map((m) => `${m.dependency} (needed by ${m.neededBy.join(', ')})`).join('; ')}`,
          }));
          continue;
        }
        const { written, closure } = await publish(early.plan);
        wrote(written);
        await summit.recordWavePublished(waveId, written, early.plan, false);
        if (closure) {
          c.reject(ApplicationFailure.create({ type: CLOSURE_UNRESOLVED, nonRetryable: true, details: closure, message: `vessel refused the history: ${closure.flatMap((r) => r.unresolved.map((u) => u.dependency)).join(', ')} resolve nowhere` }));
          continue;
        }
        c.resolve({ waveId, status: state.progress.status, published: early.plan.indexes.flatMap((i) => i.buildIds) });
      } catch (err) {
        c.reject(err);
      }
    }
    return false;
  };

  const cancelled = (): WaveOutcome => ({ waveId, status: 'cancelled', histories: state.histories });
  let progress = await summit.waveProgress(waveId, 'building');
  if (progress.status === 'cancelled' || progress.status === 'published') return { waveId, status: progress.status, histories: [] };
  show(progress);

  /**
   * Publish everything staged of one index and its removals in one write; wait, rather than fail, while vessel
   * refuses for closure. False when the wave was cancelled meanwhile.
   */
  const publishAll = async (index: string): Promise<boolean> => {
    for (;;) {
      if (await runCommands()) return false;
      const plan = await summit.wavePublishPlan(waveId, index);
      const { written, closure } = await publish(plan);
      wrote(written);
      if (!closure) {
        await summit.recordWavePublished(waveId, written, plan, false);
        if (state.closure) {
          state.closure = undefined;
          await summit.recordWaveClosure(waveId, null);
        }
        return true;
      }
      state.closure = closure;
      await summit.recordWaveClosure(waveId, closure);
      show(await summit.waveProgress(waveId));
      log.warn('wave waits for closure', { waveId, unresolved: closure.flatMap((r) => r.unresolved.map((u) => u.dependency)) });
      await condition(() => retryClosure || commands.length > 0, opts.closureRetryMs);
      retryClosure = false;
    }
  };

  // Follow the builds; publish each index (one write, one history) as soon as none of its builds is left to run.
  const published = new Set<string>();
  // Patch `local-progress`: the look after a build ended as a local activity, and one timer kept across waits
  // (workflows/wake-timer.ts) instead of one started and cancelled per build.
  const fewerTasks = patched('local-progress');
  const follow = fewerTasks ? summitLocal : summit;
  const wake = fewerTasks ? new WakeTimer() : undefined;
  for (;;) {
    const indexes = Object.entries(progress.openByIndex ?? {});
    for (const [index, open] of indexes) if (open > 0) published.delete(index);
    if (progress.open === 0) break;
    for (const [index, open] of indexes) {
      if (open > 0 || published.has(index)) continue;
      if (!(await publishAll(index))) return cancelled();
      published.add(index);
    }
    if (wake) {
      wake.within(opts.recheckEveryMs);
      wake.reset();
      await condition(() => changed || commands.length > 0 || wake.fired);
    } else await condition(() => changed || commands.length > 0, opts.recheckEveryMs);
    if (await runCommands()) return cancelled();
    changed = false;
    progress = await follow.waveProgress(waveId);
    show(progress);
    if (workflowInfo().historyLength > opts.historyEventsBeforeContinueAsNew && commands.length === 0) {
      return continueAsNew<typeof waveWorkflow>(input);
    }
  }

  // The rest (every index not published yet), then the wave ends.
  show(await summit.waveProgress(waveId, 'publishing'));
  for (const index of Object.keys(progress.openByIndex ?? {})) {
    if (published.has(index)) continue;
    if (!(await publishAll(index))) return cancelled();
    published.add(index);
  }
  if (await runCommands()) return cancelled();
  ended = true;
  await summit.recordWavePublished(waveId, [], { indexes: [], skipped: [] }, true);
  // Guarded so that waves recorded before the promote policy replay as they ran.
  if (patched('promote-policy')) await promoteByPolicy(waveId);
  show(await summit.waveProgress(waveId));
  for (const rest of commands.splice(0)) rest.reject(ApplicationFailure.create({ type: WAVE_COMMAND_REFUSED, message: `wave ${waveId} has been published`, nonRetryable: true }));
  return { waveId, status: 'published', histories: state.histories };
}
