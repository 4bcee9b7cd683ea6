import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { SUMMIT_QUEUE } from '../core/contracts/queues';
import type { Dispatch } from '../core/contracts/summit';
import { VERIFICATION_WORKFLOW, verificationWorkflowId, type VerificationInput } from '../core/contracts/verification';

/**
 * The Temporal side of verification builds, shared by summit (the repository policy, after a publish) and the API
 * (an admin's request): starting a verification workflow, and reading back the dispatch a build ran with.
 */
export interface VerificationStarter {
  /** Starts `verify-<build>-<n>`; false when that verification exists already (never started twice). */
  start(input: VerificationInput): Promise<boolean>;
  /**
   * The dispatch the build's workflow was started with (commit, dependencies, build release), from its history:
   * a verification rebuilds exactly that. Undefined when Temporal no longer has it (past the namespace's retention).
   */
  originalDispatch(buildId: string): Promise<Dispatch | undefined>;
}

export function temporalVerifications(client: Client): VerificationStarter {
  return {
    async start(input) {
      try {
        await client.workflow.start(VERIFICATION_WORKFLOW, {
          taskQueue: SUMMIT_QUEUE,
          workflowId: verificationWorkflowId(input.buildId, input.n),
          args: [input],
          // A verification's number is taken once: a retried start, or the policy after an admin's request, adds none.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
        return true;
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
        throw err;
      }
    },
    async originalDispatch(buildId) {
      let history;
      try {
        history = await client.workflow.getHandle(buildId).fetchHistory();
      } catch (err) {
        if (err instanceof Error && err.name === 'WorkflowNotFoundError') return undefined;
        throw err;
      }
      const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
      if (!payloads?.length) return undefined;
      return decodeFromPayloadsAtIndex<Dispatch>(client.workflow.options.loadedDataConverter, 0, payloads);
    },
  };
}
