import {
  type LocalActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { AvalancheActivities, RecordAndTellActivities, SummitActivities, VesselActivities } from '../core/contracts/activities';
import { BUILD_FAILED, BuildFailureDetails, BuildPickup, BuildRequest, BuildResult, IMPORT_REFUSED, ImportRefusal } from '../core/contracts/build';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import { builderQueue, buildQueue, VESSEL_QUEUE } from '../core/contracts/queues';
import type { Dispatch } from '../core/contracts/summit';
import { BuildBuilder, BuildStatus } from './search-attributes';
import { buildFinishedSignal, buildPickedUpSignal, waveBuildEndedSignal } from './signals';

/** Recording in summit's read model: quick, retried until it works (the database may blip). */
const RECORD_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  // Unknown ids and illegal moves are answers, not outages: retrying cannot change them.
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NotFoundError', 'IllegalTransitionError', 'ConflictError'] },
};
const summit = proxyActivities<SummitActivities>(RECORD_OPTIONS);

/**
 * The same records as local activities (patch `local-records`): run by the summit worker that runs this workflow,
 * inside the workflow task that asked for them, so a record costs neither a round trip through the server's task
 * queue nor a workflow task of its own. Between two builds on a slot that was two workflow tasks and two activity
 * dispatches of the build workflow (measured with `npm run bench:wave`). Same timeout and retry rules as above.
 */
const summitLocal = proxyLocalActivities<SummitActivities>(RECORD_OPTIONS);

/**
 * Records that send the build's signals themselves once written (patch `notify-from-records`,
 * activities/summit/notify.ts): local activities, same timeout and retry rules as the records above.
 */
const tellingRecords = proxyLocalActivities<RecordAndTellActivities>(RECORD_OPTIONS);

/** The vessel import fetches gigabytes at worst; heartbeats every few seconds show it is alive. */
const vessel = proxyActivities<VesselActivities>({
  taskQueue: VESSEL_QUEUE,
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: [IMPORT_REFUSED] },
});

/**
 * How a build ended. A completed build returns it; a failed one fails its workflow with it as the failure's
 * details; a cancelled one ends Cancelled.
 */
export type BuildOutcome = { taskId: string; status: 'completed' | 'failed' | 'cancelled'; reason?: string };

function failureOf(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

/**
 * One build, start to publish: avalanche builds on any builder of the task's ISA level, vessel imports and tells
 * the builder that holds the artefacts to delete them (when that did not happen, the workflow has it clean up).
 * Its workflow id is the build id, so one build never runs twice at once. The task is `queued` until a builder
 * picks the build up (the builder signals it: the task is then `building` on that builder, BuildBuilder is set,
 * and the build's duration runs from there); the hub is told as soon as the builder is done (its slot is free)
 * and again when the build ends, with the clean-up if any. A recipe that does not compile fails at once
 * (non-retryable); a builder that vanishes misses its heartbeat and Temporal retries the build on another builder
 * of the same queue, which records itself at pickup.
 */
export async function buildWorkflow(task: Dispatch): Promise<BuildOutcome> {
  const what = `${task.source} ${task.version}-${task.release} for ${task.isa} at ${task.commit.slice(0, 12)}`;
  setCurrentDetails(`queued: ${what}, waiting for a builder of ${task.isa}`);
  const avalanche = proxyActivities<AvalancheActivities>({
    // Official builds on the ISA queue only trusted builders poll; try and verification builds on the shared one
    // (issue 10). Dispatches without a purpose are official: the queue recorded histories used.
    taskQueue: task.queue ?? buildQueue(task.isa, task.purpose),
    // Builds take minutes to hours; the heartbeat, not this, is what notices a dead builder quickly.
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 3, nonRetryableErrorTypes: [BUILD_FAILED] },
  });

  // Decided once, before the first command: a build runs its records and tells one way from start to end. A
  // dispatch that names the flow decides it (no patch markers); one from before the flow field asks the patches.
  const current = (task.flow ?? 0) >= 1;
  const fewerTasks = current || patched('local-records');
  const records = fewerTasks ? summitLocal : summit;
  /**
   * Patch `signals-beside-activities`: a signal to the hub or the wave goes out in the same workflow task as the
   * activity that follows it (the stage or import, the clean-up) instead of in a task of its own that the next one
   * waits for, and a build vessel released on the builder (ImportResult.released) needs no clean-up activity. Two
   * to three workflow tasks and one activity fewer per build.
   */
  const overlap = fewerTasks && (current || patched('signals-beside-activities'));
  /**
   * Patch `notify-from-records`: on the success path the record activity that precedes a signal sends it (hub
   * `built` after recordBuilt; the hub's and the wave's end signals after recordStaged / recordPublished), so
   * the build workflow sends none and is not woken by their ExternalWorkflowExecutionSignaled events: two
   * workflow tasks fewer per build. The failure and cancel paths still signal from here.
   */
  const notify = overlap && (current || patched('notify-from-records'));
  /** Signals sent but not yet known delivered: the workflow never ends before them (a closed workflow's would drop). */
  const signalling: Promise<void>[] = [];

  let pickup: BuildPickup | undefined;
  /** The pickups recorded so far, in the order they came: every later record of this build waits for them. */
  let pickups: Promise<void> = Promise.resolve();
  const pickedUp = (p: BuildPickup): void => {
    pickup = p;
    upsertSearchAttributes([{ key: BuildBuilder, value: p.builderId }, { key: BuildStatus, value: 'building' }]);
    setCurrentDetails(`building ${what} on ${p.builderId}`);
    pickups = pickups.then(() => records.recordStarted(task.taskId, p)).catch((err) => {
      log.warn('could not record the pickup; the build result records it', { taskId: task.taskId, error: String(err) });
    });
  };
  setHandler(buildPickedUpSignal, pickedUp);

  const tellHub = (status: string): Promise<void> =>
    getExternalWorkflowHandle(HUB_WORKFLOW_ID).signal(buildFinishedSignal, { taskId: task.taskId, status }).catch((err) => {
      log.warn('could not tell the hub; it re-plans on its own timer', { taskId: task.taskId, error: String(err) });
    });
  // A build of a wave tells its wave when it ends (best effort: the wave also re-reads the read model on a timer).
  const tellWave = (status: string): Promise<void> =>
    task.wave
      ? getExternalWorkflowHandle(task.wave).signal(waveBuildEndedSignal, { taskId: task.taskId, status }).catch((err) => {
        log.warn('could not tell the wave; it looks again on its own timer', { taskId: task.taskId, waveId: task.wave, error: String(err) });
      })
      : Promise.resolve();
  const finish = async (outcome: BuildOutcome, cleanupOn?: string, told = false): Promise<BuildOutcome> => {
    upsertSearchAttributes([{ key: BuildStatus, value: outcome.status }]);
    if (told) {
      // The record told the hub and the wave (notify-from-records): only the clean-up, if any, is left.
      if (cleanupOn) await cleanup(cleanupOn, task.taskId);
      return outcome;
    }
    if (overlap) {
      // `built` reaches the hub before the end (it has, unless vessel was quicker than the signal: then wait).
      await Promise.all(signalling);
      // The signals and the clean-up in one workflow task; the hub is told no later than before.
      await Promise.all([tellHub(outcome.status), tellWave(outcome.status), cleanupOn ? cleanup(cleanupOn, task.taskId) : undefined]);
      return outcome;
    }
    // Both signals in one workflow task (local-records); before, one task each.
    if (fewerTasks) await Promise.all([tellHub(outcome.status), tellWave(outcome.status)]);
    else {
      await tellHub(outcome.status);
      await tellWave(outcome.status);
    }
    // After telling the hub: a dependent's build need not wait for this clean-up.
    if (cleanupOn) await cleanup(cleanupOn, task.taskId);
    return outcome;
  };

  let result: BuildResult;
  /** Vessel deleted the artefacts on the builder itself: no clean-up activity (signals-beside-activities). */
  let released = false;
  try {
    const request: BuildRequest = {
      buildId: task.taskId, repoUrl: task.repoUrl, commit: task.commit, recipePath: task.recipePath, source: task.source,
      version: task.version, release: task.release, isa: task.isa, buildRelease: task.buildRelease, dependencies: task.dependencies,
      // Absent in dispatches recorded before profiles: the builder stamps its own architecture (x86_64 then).
      ...(task.architecture ? { architecture: task.architecture } : {}),
      // Absent in dispatches recorded before the repository policy existed: the builder reads that as no.
      networkAllowed: task.networkAllowed,
      // The order a builder's backlog starts its builds in (activities/avalanche/build-queue.ts).
      criticalPath: task.criticalPath,
    };
    result = await avalanche.buildRecipe(request);
  } catch (err) {
    if (isCancellation(err)) return CancellationScope.nonCancellable(() => finish({ taskId: task.taskId, status: 'cancelled' })).then(() => endCancelled(err));
    const failure = failureOf(err);
    const details = failure?.type === BUILD_FAILED ? (failure.details?.[0] as BuildFailureDetails | undefined) : undefined;
    const reason = details ? `build failed in step ${details.step} (exit ${details.exitCode ?? 'signal'})${details.reason ? `: ${details.reason}` : ''}` : `build did not complete: ${failure?.message ?? String(err)}`;
    const builder = details?.builderId ?? pickup?.builderId;
    if (builder) upsertSearchAttributes([{ key: BuildBuilder, value: builder }]);
    await pickups;
    await records.recordFailure(task.taskId, { reason, logTail: details?.logTail, logPath: details?.logPath, builder });
    return finish({ taskId: task.taskId, status: 'failed', reason }, details?.builderId).then(endFailed);
  }

  await pickups;
  // The pickup signal is best effort: without it (or from an earlier attempt's builder) the result says who built.
  if (pickup?.builderId !== result.builderId) pickedUp({ builderId: result.builderId, at: result.startedAt, attempt: 0 });
  await pickups;
  upsertSearchAttributes([{ key: BuildStatus, value: 'publishing' }]);
  const stones = result.artefacts.filter((a) => a.kind === 'stone').length;
  setCurrentDetails(task.wave ? `built on ${result.builderId}; staging ${stones} package(s) in ${task.index} for wave ${task.wave}` : `built on ${result.builderId}; publishing ${stones} package(s) to ${task.index}`);
  // The builder's slot is free: the hub may start the next build now, while vessel imports this one. The hub is told
  // once the record is written, so the read model never shows more builds on a builder than it has slots (builds
  // started before this rule told both at once).
  if (notify) {
    // The record tells the hub once written (built-after-record, from the activity).
    await tellingRecords.recordBuiltAndTell(task.taskId, result, { status: 'built', hub: true });
  } else if (patched('built-after-record')) {
    await records.recordBuilt(task.taskId, result);
    // With the stage or import scheduled in the same workflow task (signals-beside-activities), not one after it.
    if (overlap) signalling.push(tellHub('built'));
    else await tellHub('built');
  } else {
    await Promise.all([tellHub('built'), summit.recordBuilt(task.taskId, result)]);
  }
  try {
    const request = {
      // The level's architecture (core/profile.ts); dispatches recorded before profiles were all x86_64.
      buildId: task.taskId, index: task.index, architecture: task.architecture ?? 'x86_64',
      build: {
        builderId: result.builderId, artefactBaseUrl: result.artefactBaseUrl, artefactToken: result.artefactToken, artefacts: result.artefacts, signature: result.signature,
        // Only vessel gets the release token (results from builders before scoped tokens have none).
        ...(result.releaseToken ? { releaseToken: result.releaseToken } : {}),
      },
      // Vessel checks the builder against the registry for this purpose itself (activities/vessel/builder-check.ts).
      purpose: task.purpose ?? 'official',
    };
    if (task.wave) {
      // A build of a wave is staged (fetched, verified, in the pool for the builds that depend on it) and published
      // by its wave, with the rest of the wave, in one history. Dispatches from before waves publish on their own.
      const staged = await vessel.stageArtefacts(request);
      released = staged.released === true;
      if (notify) await tellingRecords.recordStagedAndTell(task.taskId, staged, { status: 'completed', hub: true, wave: task.wave });
      else await records.recordStaged(task.taskId, staged);
      setCurrentDetails(`built on ${result.builderId}; staged in ${task.index}: wave ${task.wave} publishes it`);
    } else {
      const published = await vessel.importArtefacts(request);
      released = published.released === true;
      if (notify) await tellingRecords.recordPublishedAndTell(task.taskId, published, { status: 'completed', hub: true, ...(task.wave ? { wave: task.wave } : {}) });
      else await records.recordPublished(task.taskId, published);
    }
  } catch (err) {
    if (isCancellation(err)) return CancellationScope.nonCancellable(() => finish({ taskId: task.taskId, status: 'cancelled' }, result.builderId)).then(() => endCancelled(err));
    const failure = failureOf(err);
    const refusal = failure?.type === IMPORT_REFUSED ? (failure.details?.[0] as ImportRefusal | undefined) : undefined;
    const reason = refusal ? `vessel refused ${refusal.file}: ${refusal.reason}` : `publishing failed: ${failure?.message ?? String(err)}`;
    await records.recordFailure(task.taskId, { reason });
    return finish({ taskId: task.taskId, status: 'failed', reason }, result.builderId).then(endFailed);
  }
  return finish({ taskId: task.taskId, status: 'completed' }, overlap && released ? undefined : result.builderId, notify);
}

/**
 * A failed build ends its workflow as Failed, with the reason, so the Temporal UI's list and its Failures view
 * show it (its outcome is recorded and the hub told before this). Not retried: workflows have no retry policy.
 */
function endFailed(outcome: BuildOutcome): never {
  throw ApplicationFailure.create({ type: BUILD_WORKFLOW_FAILED, message: outcome.reason ?? 'build failed', nonRetryable: true, details: [outcome] });
}

/** A cancelled build ends its workflow as Cancelled (after recording it), not as a green Completed. */
function endCancelled(err: unknown): never {
  throw err;
}

/** Failure type of a build workflow whose build failed or whose artefacts vessel refused. */
export const BUILD_WORKFLOW_FAILED = 'BuildWorkflowFailed';

/**
 * Delete the artefacts on the builder that holds them (its own queue). Best effort: a builder that is gone has
 * nothing left to clean, and the build's outcome does not depend on it.
 */
export async function cleanup(builderId: string, taskId: string): Promise<void> {
  const { cleanupBuild } = proxyActivities<AvalancheActivities>({
    taskQueue: builderQueue(builderId),
    // A vanished builder never picks the task up: give up after a while rather than wait forever.
    scheduleToCloseTimeout: '10 minutes',
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 5 },
  });
  try {
    await cleanupBuild(taskId);
  } catch (err) {
    log.warn('artefact clean-up did not happen', { taskId, builderId, error: String(err) });
  }
}
