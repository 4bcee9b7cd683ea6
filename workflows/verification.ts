import { ActivityFailure, ApplicationFailure, log, proxyActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { AvalancheActivities } from '../core/contracts/activities';
import { BUILD_FAILED, IMPORT_REFUSED, type BuildFailureDetails, type BuildResult } from '../core/contracts/build';
import { builderQueue, VESSEL_QUEUE } from '../core/contracts/queues';
import type {
  VerificationInput,
  VerificationOutcome,
  VerificationSummitActivities,
  VerificationVesselActivities,
} from '../core/contracts/verification';
import { buildPickedUpSignal } from './signals';
import { cleanup } from './build';

/** Read-model records: quick, retried until the database answers; an unknown build is an answer, not an outage. */
const summit = proxyActivities<VerificationSummitActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NotFoundError'] },
});

/** Vessel fetches the rebuild's packages (at worst gigabytes, as an import) and reads the original's from the pool. */
const vessel = proxyActivities<VerificationVesselActivities>({
  taskQueue: VESSEL_QUEUE,
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [IMPORT_REFUSED] },
});

function failureOf(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

/**
 * A verification build: summit picks a live builder of the build's ISA level other than the one that built it,
 * that builder rebuilds the same dispatch (same commit, dependencies and build release) from its own queue with
 * purpose `verification`, vessel compares the rebuild's packages with the published ones, summit records the
 * result (and drains a builder with repeated mismatches), and the verifier deletes its artefacts. Nothing is
 * published or imported into the pool. No other builder: recorded as skipped.
 */
export async function verificationWorkflow(input: VerificationInput): Promise<VerificationOutcome> {
  setHandler(buildPickedUpSignal, (p) => setCurrentDetails(`rebuilding ${input.buildId} on ${p.builderId}`));
  const plan = await summit.prepareVerification(input);
  if ('skipped' in plan) {
    const outcome: VerificationOutcome = { result: 'skipped', reason: plan.skipped };
    await summit.recordVerification(input, outcome);
    return outcome;
  }
  setCurrentDetails(`rebuilding ${input.buildId} (built by ${plan.originalBuilder}) on ${plan.verifier}`);
  const verifier = proxyActivities<AvalancheActivities>({
    taskQueue: builderQueue(plan.verifier),
    // Only that builder polls its queue: one that went away since it was chosen never starts the build.
    scheduleToStartTimeout: '10 minutes',
    // Builds take minutes to hours; the heartbeat notices a builder that dies while building.
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 2, nonRetryableErrorTypes: [BUILD_FAILED] },
  });

  let outcome: VerificationOutcome;
  let built: BuildResult | undefined;
  try {
    built = await verifier.buildRecipe(plan.request);
    setCurrentDetails(`comparing ${input.buildId}: ${plan.originalBuilder} against ${plan.verifier}`);
    const comparison = await vessel.compareBuildOutputs({
      buildId: input.buildId, index: plan.index, published: plan.published,
      rebuild: { builderId: built.builderId, artefactBaseUrl: built.artefactBaseUrl, artefactToken: built.artefactToken, artefacts: built.artefacts, ...(built.signature ? { signature: built.signature } : {}) },
    });
    outcome = { result: comparison.result, verifier: plan.verifier, comparison };
  } catch (err) {
    const failure = failureOf(err);
    const details = failure?.type === BUILD_FAILED ? (failure.details?.[0] as BuildFailureDetails | undefined) : undefined;
    const reason = details
      ? `the rebuild failed in step ${details.step} (exit ${details.exitCode ?? 'signal'})`
      : `${built ? 'the compare' : 'the rebuild'} did not complete: ${failure?.message ?? (err instanceof Error ? err.message : String(err))}`;
    outcome = { result: 'failed', verifier: plan.verifier, reason };
  }
  const recorded = await summit.recordVerification(input, outcome);
  if (recorded.suspended) log.warn('builder suspended after repeated verification mismatches', { buildId: input.buildId, builderId: recorded.suspended });
  setCurrentDetails(`${outcome.result}: ${input.buildId} on ${plan.verifier}`);
  if (built || outcome.result === 'failed') await cleanup(plan.verifier, input.buildId);
  return outcome;
}

