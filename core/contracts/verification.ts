import type { FileDifference, OutputComparison } from '../build/verification';
import type { BuildRequest, BuildResult } from './build';
import type { BuildId } from './ids';
import type { BuildPurpose } from './trust';

/**
 * Verification builds (issue 10): a published build rebuilt on a different builder (purpose `verification`,
 * core/contracts/trust.ts), never published, its packages compared file by file with the published ones
 * (core/build/verification.ts). One workflow per verification, id `verify-<build id>-<n>`.
 */

export const VERIFICATION_WORKFLOW = 'verificationWorkflow';

export function verificationWorkflowId(buildId: string, n: number): string {
  return `verify-${buildId}-${n}`;
}

/** What a verification ended with: the outputs compared, no other builder to rebuild on, or the rebuild/compare failed. */
export const VERIFICATION_RESULTS = ['running', 'identical', 'different', 'skipped', 'failed'] as const;
export type VerificationResult = (typeof VERIFICATION_RESULTS)[number];

export interface VerificationInput {
  buildId: BuildId;
  /** The verification's number for this build, from 1; part of the workflow id. */
  n: number;
  /** `policy` or `admin:<token name>`. */
  by: string;
}

/** What summit prepared: the rebuild's request and where it runs, or why it does not. */
export type VerificationPlan =
  | { verifier: string; originalBuilder: string; request: BuildRequest & { purpose: BuildPurpose }; index: string; published: Array<{ name: string; uri: string; sha256: string; size: number }> }
  | { skipped: string };

/** Input of vessel's compare activity: the original's packages in the pool, the rebuild's on its builder. */
export interface CompareRequest {
  buildId: BuildId;
  index: string;
  published: Array<{ name: string; uri: string; sha256: string; size: number }>;
  /** The rebuild's result with its signature (absent from workflows started before rebuilds were checked). */
  rebuild: Pick<BuildResult, 'builderId' | 'artefactBaseUrl' | 'artefactToken' | 'artefacts' | 'signature'>;
}

export type CompareResult = OutputComparison;

/** What the workflow records at its end. */
export interface VerificationOutcome {
  result: Exclude<VerificationResult, 'running'>;
  verifier?: string;
  reason?: string;
  comparison?: OutputComparison;
}

export type { FileDifference, OutputComparison };

/** Summit's part (queue `summit`). */
export interface VerificationSummitActivities {
  /** Records the verification as running and chooses a different live builder of the build's ISA level. */
  prepareVerification(input: VerificationInput): Promise<VerificationPlan>;
  /** Records how it ended; a builder with too many mismatches in a row is drained (by `verification`). */
  recordVerification(input: VerificationInput, outcome: VerificationOutcome): Promise<{ suspended?: string }>;
}

/** Vessel's part (queue `vessel`): it holds the pool, and fetches from builders already. */
export interface VerificationVesselActivities {
  compareBuildOutputs(req: CompareRequest): Promise<CompareResult>;
}
