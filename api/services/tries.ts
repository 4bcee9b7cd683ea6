import { Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { SUMMIT_QUEUE } from '../../core/contracts/queues';
import { SIGNAL_TRY_EXPIRE, TRY_SWEEP_WORKFLOW, TRY_WORKFLOW, tryWorkflowId, type TryInput, type TryRequest, type TrySweepInput, type TrySweepResult } from '../../core/contracts/try';
import type { Store } from '../../db/store';
import { TryStore, type TryRow } from '../../db/try-store';
import { ConflictError } from '../../db/store';
import { HubUnavailableError } from '../pipeline';

/** What the API shows of a try. */
export interface TryView {
  name: string;
  seq: number;
  repository: string;
  ref: string;
  commit: string | null;
  index: string;
  status: string;
  waveId: string | null;
  tasks: number;
  histories: Array<{ index: string; historyId: string }>;
  reason: string | null;
  by: string;
  createdAt: string;
  expiresAt: string;
  expiredAt: string | null;
  workflowId: string;
}

export function tryView(t: TryRow): TryView {
  return {
    name: t.name, seq: t.seq, repository: t.repository, ref: t.ref, commit: t.commit ?? null, index: t.index, status: t.status, waveId: t.waveId ?? null,
    tasks: t.tasks, histories: t.histories, reason: t.reason ?? null, by: t.by, createdAt: t.createdAt.toISOString(), expiresAt: t.expiresAt.toISOString(),
    expiredAt: t.expiredAt?.toISOString() ?? null, workflowId: tryWorkflowId(t.name, t.seq),
  };
}

/** Try-builds through Temporal (workflows/try.ts): start, expire, sweep; the read model for the lists. */
export interface TryControl {
  /** SUMMIT_TRY_TTL: a try's default and longest lifetime (ms). */
  readonly maxTtlMs: number;
  start(req: TryRequest, ttlMs: number): Promise<TryView>;
  list(opts: { limit: number; live?: boolean; repository?: string }): Promise<TryView[]>;
  get(name: string): Promise<TryView>;
  expire(name: string, by: string): Promise<TryView>;
  sweep(input: TrySweepInput): Promise<TrySweepResult>;
}

export class TemporalTries implements TryControl {
  private readonly tries: TryStore;

  constructor(
    private readonly client: Client,
    private readonly store: Store,
    readonly maxTtlMs: number,
    /** The sweep deletes folders: bounded, like an index prune. */
    private readonly sweepTimeoutMs = 10 * 60_000,
  ) {
    this.tries = new TryStore(store.orm);
  }

  /** Records the try (refused while its name is taken), then starts its workflow; a start that fails marks it failed. */
  async start(req: TryRequest, ttlMs: number): Promise<TryView> {
    await this.store.getRepository(req.repository); // 404 for an unknown repository
    const row = await this.tries.create({ name: req.name, repository: req.repository, ref: req.ref, by: req.by, expiresAt: new Date(Date.now() + ttlMs) });
    const input: TryInput = { name: row.name, seq: row.seq };
    try {
      await this.client.workflow.start(TRY_WORKFLOW, {
        taskQueue: SUMMIT_QUEUE, workflowId: tryWorkflowId(row.name, row.seq), args: [input],
        staticSummary: `try ${row.index}: ${req.repository} ${req.ref}`,
      });
    } catch (err) {
      await this.tries.update(row.name, row.seq, { status: 'failed', reason: `its workflow did not start: ${err instanceof Error ? err.message : String(err)}` });
      throw new HubUnavailableError(`Temporal did not start the try (${err instanceof Error ? err.message : String(err)})`);
    }
    return tryView(row);
  }

  async list(opts: { limit: number; live?: boolean; repository?: string }): Promise<TryView[]> {
    return (await this.tries.list(opts)).map(tryView);
  }

  async get(name: string): Promise<TryView> {
    return tryView(await this.tries.latest(name));
  }

  /** Tells the try's workflow to expire now (it removes the index); refused for a try that has ended. */
  async expire(name: string, by: string): Promise<TryView> {
    const row = await this.tries.latest(name);
    if (row.status === 'expired' || row.status === 'failed') throw new ConflictError(`try "${name}" has ended (${row.status})`);
    try {
      await this.client.workflow.getHandle(tryWorkflowId(row.name, row.seq)).signal(SIGNAL_TRY_EXPIRE, { by });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ConflictError(`the workflow of try "${name}" is gone; POST /api/tries/sweep removes its index`);
      throw new HubUnavailableError(`Temporal does not answer (${err instanceof Error ? err.message : String(err)})`);
    }
    return tryView(row);
  }

  async sweep(input: TrySweepInput): Promise<TrySweepResult> {
    try {
      return await this.client.withDeadline(Date.now() + this.sweepTimeoutMs, () =>
        this.client.workflow.execute<(i: TrySweepInput) => Promise<TrySweepResult>>(TRY_SWEEP_WORKFLOW, {
          taskQueue: SUMMIT_QUEUE, workflowId: `try-sweep-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, args: [input],
          workflowExecutionTimeout: this.sweepTimeoutMs,
        }),
      );
    } catch (err) {
      let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
      while (cause instanceof ActivityFailure) cause = cause.cause;
      const message = cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(err);
      throw new HubUnavailableError(`the sweep did not run: ${message}`);
    }
  }
}
