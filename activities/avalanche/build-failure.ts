import { ApplicationFailure } from '@temporalio/common';
import { MacroError } from '../../core/build/macros';
import { UpstreamError } from '../../core/build/upstreams';
import { BUILD_FAILED, type BuildFailureDetails } from '../../core/contracts/build';
import { RecipeError } from '../../core/formats/recipe';
import { ChecksumMismatchError } from './fetch';
import { HostCommandError } from './host-command';
import { PackagingError } from './packager';

/**
 * Which failures are the recipe's (permanent: retrying on another builder gives the same result) and which
 * are the builder's (transient: Temporal retries them, possibly elsewhere).
 *
 * Permanent, reported as a non-retryable BUILD_FAILED with the log tail: a step exiting non-zero, a recipe that
 * does not parse or names an unknown macro, a recipe that is not the one the request says, an upstream with a
 * wrong hash or a git ref that does not exist, a dependency that is not what summit said, nothing to package.
 * Transient: the checkout (summit's mirror is the source of truth and may be briefly unreachable), network
 * errors, the container failing to start, disk errors.
 */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    readonly exitCode: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

/** True when `err`, raised during `phase`, is the recipe's fault. */
export function isRecipeFault(err: unknown, phase: string): boolean {
  if (err instanceof StepFailure || err instanceof RecipeError || err instanceof MacroError) return true;
  if (err instanceof UpstreamError || err instanceof ChecksumMismatchError || err instanceof PackagingError) return true;
  // A tar that cannot unpack a verified archive, a git upstream without the recipe's ref.
  return phase === 'sources' && err instanceof HostCommandError;
}

export function buildFailed(message: string, details: BuildFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({ type: BUILD_FAILED, nonRetryable: true, message, details: [details] });
}
