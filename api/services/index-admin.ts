import { randomUUID } from 'node:crypto';
import { Client, WorkflowFailedError, isGrpcServiceError, ServiceError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { SUMMIT_QUEUE } from '../../core/contracts/queues';
import { INDEX_ADMIN_WORKFLOW, STREAM_COMMAND_REFUSED, type IndexCommand, type IndexCommandResult } from '../../core/contracts/vessel';
import type { IndexEventRow, IndexEventStore } from '../../db/index-event-store';
import { CommandRefusedError, HubUnavailableError } from '../pipeline';

/**
 * Admin commands on published repositories: each runs as one index-admin workflow (workflows/index-admin.ts) whose
 * only step is the vessel activity; the API waits for its result, then records who asked what and how it ended
 * (IndexEvent). A refusal (unknown history, bad tag, bad keep) is a 409 with vessel's reason; Temporal or the
 * workers not answering within the deadline, a 503.
 */
export interface IndexAdminControl {
  run(cmd: IndexCommand): Promise<IndexCommandResult>;
  events(index: string, limit: number): Promise<IndexEventRow[]>;
}

export class TemporalIndexAdmin implements IndexAdminControl {
  constructor(
    private readonly client: Client,
    private readonly store: IndexEventStore,
    /** A stream command is a file write; a prune of a big repository deletes many files (workflow: 10 minutes). */
    private readonly timeoutMs: { command: number; prune: number } = { command: 60_000, prune: 10 * 60_000 },
  ) {}

  events(index: string, limit: number): Promise<IndexEventRow[]> {
    return this.store.list(index, limit);
  }

  async run(cmd: IndexCommand): Promise<IndexCommandResult> {
    const deadline = cmd.kind === 'prune' ? this.timeoutMs.prune : this.timeoutMs.command;
    const { kind, index, by, ...params } = cmd;
    const audited = kind !== 'history';
    try {
      const result = await this.client.withDeadline(Date.now() + deadline, () =>
        this.client.workflow.execute<(c: IndexCommand) => Promise<IndexCommandResult>>(INDEX_ADMIN_WORKFLOW, {
          taskQueue: SUMMIT_QUEUE,
          workflowId: `index-admin-${index}-${kind}-${randomUUID()}`,
          args: [cmd],
          workflowExecutionTimeout: deadline,
        }),
      );
      if (audited) await this.store.record({ index, command: kind, params, by, outcome: 'ok', streams: result.history.streams });
      return result;
    } catch (err) {
      const translated = translate(err, deadline);
      if (audited) await this.store.record({ index, command: kind, params, by, outcome: translated instanceof CommandRefusedError ? 'refused' : 'failed', detail: translated instanceof Error ? translated.message : String(translated) });
      throw translated;
    }
  }
}

/** Temporal's nesting (WorkflowFailedError → ActivityFailure → ApplicationFailure) to the API's errors. */
function translate(err: unknown, deadlineMs: number): unknown {
  if (err instanceof WorkflowFailedError) {
    let cause: unknown = err.cause;
    while (cause instanceof ActivityFailure) cause = cause.cause;
    if (cause instanceof ApplicationFailure && cause.type === STREAM_COMMAND_REFUSED) return new CommandRefusedError(cause.message);
    const msg = cause instanceof Error ? cause.message : err.message;
    return new HubUnavailableError(`vessel did not carry out the command: ${msg}`);
  }
  const grpc = err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : isGrpcServiceError(err) ? err : undefined;
  if (grpc) return new HubUnavailableError(`Temporal does not answer (${grpc.details || grpc.message}); the command may not have run`);
  if (err instanceof Error && /deadline/i.test(err.message)) return new HubUnavailableError(`no answer from the summit and vessel workers within ${deadlineMs / 1000} s; are they running?`);
  return err;
}
