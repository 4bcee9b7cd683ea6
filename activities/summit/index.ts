import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { INTAKE_GIT_REFUSED, type RefreshRequest } from '../../core/contracts/hub';
import { permanentGitFailure } from '../../core/intake/git-failures';
import type { Store } from '../../db/store';
import { GitError } from './git';
import type { RecordAndTellActivities, SummitActivities } from '../../core/contracts/activities';
import type { IntakeProgress, IntakeResult } from '../../core/contracts/summit';
import { type CascadePolicy, IntakeLimits, refreshRepository } from './intake';
import { planBuilds } from './planning';
import { dispatchKey } from './dispatch-key';
import { recordActivities, type RecordLog } from './records';
import { recordAndTellActivities, WaveTelling, type SignalSender } from './notify';
import { waveActivities } from './waves';
import { tryActivities } from './tries';
import { wavePolicyActivities } from './wave-policy';
import type { WavePolicyActivities } from '../../core/contracts/wave-policy';
import { WAVE_OPEN_TASK_STATUSES } from '../../core/contracts/wave';
import type { SummitTryActivities } from '../../core/contracts/try';
import { verificationActivities, type VerificationDeps } from './verification';
import type { VerificationSummitActivities } from '../../core/contracts/verification';
import type { Variant } from '../../core/variants';
import type { FarmProfile } from '../../core/profile';
import type { ArtefactOrigins } from '../../core/security/artefact-origins';

export interface SummitActivityDeps {
  store: Store;
  mirrorsDir: string;
  variants: readonly Variant[];
  /** The farm's profile (SUMMIT_PROFILE); default: the default profile. */
  profile?: FarmProfile;
  packagesBaseUrl: string;
  /** Recipe size, parse time and parse memory limits (SUMMIT_RECIPE_*); defaults when absent. */
  intakeLimits?: IntakeLimits;
  /** When a cascade rebuilds reverse dependencies (SUMMIT_CASCADE_POLICY); default `provides`. */
  cascadePolicy?: CascadePolicy;
  /** Verification builds (activities/summit/verification.ts): the Temporal starter and SUMMIT_VERIFY_SUSPEND_AFTER. */
  verifications?: VerificationDeps['verifications'];
  verifySuspendAfter?: number;
  /** Where builders' servers may be (SUMMIT_ARTEFACT_ORIGINS): build logs are read only there. Absent: any. */
  artefactOrigins?: ArtefactOrigins;
  /** How the records that tell the hub and the wave send their signals (the worker's Temporal client). */
  signals?: SignalSender;
}

/**
 * How often intake tells Temporal it is alive, whatever it is doing (a long `git fetch` included). The hub's
 * heartbeat timeout is several times this, so a crashed worker is noticed in seconds, not after the
 * activity's whole start-to-close timeout.
 */
const HEARTBEAT_EVERY_MS = 5_000;
/**
 * How often, at most, a wave hears of its builds' ends beside the last build of each index (WaveTelling): its
 * progress and estimate in the Temporal UI lag by this much at worst; the API reads the read model itself.
 */
const WAVE_PROGRESS_EVERY_MS = 5_000;

/** The intake activity: heartbeats carry the progress; git failures retrying cannot fix are non-retryable. */
async function intakeActivity(deps: SummitActivityDeps, req: RefreshRequest): Promise<IntakeResult> {
  const ctx = Context.current();
  let progress: IntakeProgress = { stage: 'fetching', read: 0, total: 0 };
  const beat = setInterval(() => ctx.heartbeat(progress), HEARTBEAT_EVERY_MS);
  try {
    return await refreshRepository({ ...deps, limits: deps.intakeLimits, cascadePolicy: deps.cascadePolicy }, req, (p) => {
      progress = p;
      ctx.heartbeat(p);
    }, ctx.cancellationSignal);
  } catch (err) {
    const reason = err instanceof GitError ? permanentGitFailure(err.message) : undefined;
    if (reason) throw ApplicationFailure.nonRetryable(`repository "${req.repository}": ${reason}: ${err instanceof Error ? err.message : String(err)}`, INTAKE_GIT_REFUSED);
    throw err;
  } finally {
    clearInterval(beat);
  }
}

/** The running activity's logger (the SDK's, routed to the role's logger), or the console outside one. */
function activityLog(): RecordLog {
  try {
    return Context.current().log;
  } catch {
    return console;
  }
}

/** Everything the summit worker registers on the summit queue. */
export function createSummitActivities(deps: SummitActivityDeps): SummitActivities & RecordAndTellActivities & SummitTryActivities & WavePolicyActivities & VerificationSummitActivities {
  const records = recordActivities(deps.store, activityLog, deps.artefactOrigins);
  const waves = waveActivities(deps.store);
  const waveTelling = new WaveTelling({ openIn: (waveId, index) => deps.store.waves.countIn(waveId, index, WAVE_OPEN_TASK_STATUSES), progressEveryMs: WAVE_PROGRESS_EVERY_MS });
  const { afterPublish, ...verification } = verificationActivities({ store: deps.store, verifications: deps.verifications, suspendAfter: deps.verifySuspendAfter }, activityLog);
  const recordPublished = async (taskId: string, imported: Parameters<SummitActivities['recordPublished']>[1]): Promise<void> => {
    await records.recordPublished(taskId, imported);
    await afterPublish([taskId]);
  };
  return {
    refreshRepository: (req) => intakeActivity(deps, req),
    // The hub's plan run again (a retried workflow task or activity, a worker that died after it committed) decides its own dispatches again (dispatch-key.ts).
    planBuilds: (input: Parameters<typeof planBuilds>[1]) => planBuilds(deps, input, { dispatchKey: dispatchKey() }),
    listRepositoryIds: async (): Promise<string[]> => (await deps.store.listRepositories()).map((r) => r.id),
    ...records,
    ...waves,
    // Try-builds (issue 9, item 7).
    ...tryActivities(deps),
    // The promote policy of waves (issue 9, item 5).
    ...wavePolicyActivities(deps.store),
    // Published builds their repository's policy selects are verified (README, Verification builds).
    recordPublished,
    // The same records, telling the hub and the wave once written (build workflow, patch notify-from-records).
    // A staged build tells its wave when it was its index's last open build, else at most every few seconds (WaveTelling).
    ...recordAndTellActivities({ recordBuilt: records.recordBuilt, recordStaged: waves.recordStaged, recordPublished }, deps.signals, activityLog, waveTelling),
    recordWavePublished: async (waveId, written, plan, final) => {
      await waves.recordWavePublished(waveId, written, plan, final);
      const refused = new Set(written.flatMap((w) => w.refused.map((r) => r.buildId)));
      await afterPublish(plan.indexes.flatMap((i) => i.buildIds).filter((id) => !refused.has(id)));
    },
    ...verification,
  };
}
