import {
  Client,
  isGrpcServiceError,
  ServiceError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import {
  HUB_WORKFLOW_ID,
  SIGNAL_REFRESH,
  SIGNAL_REPLAN,
  UPDATE_CANCEL_TASK,
  UPDATE_RETRY_TASK,
  type RefreshRequest,
  type TaskCommand,
  type TaskCommandResult,
} from '../core/contracts/hub';
import {
  SIGNAL_WAVE_RETRY_CLOSURE,
  UPDATE_CANCEL_WAVE,
  UPDATE_PUBLISH_FINISHED,
  WAVE_NOT_CLOSED,
  type WaveCommand,
  type WaveCommandResult,
} from '../core/contracts/wave';
import { NotFoundError } from '../db/store';
import { CommandRefusedError, HubUnavailableError, WaveNotClosedError, type HubStatus, type PipelineControl, type WaveCommandKind } from './pipeline';

export interface TemporalPipelineOptions {
  /** A signal only needs the server: 5 s covers a slow server and stays under the git hook's 10 s. */
  signalTimeoutMs?: number;
  /** An update waits for the hub worker to run its handler: allow a busy worker, but answer a person in time. */
  updateTimeoutMs?: number;
  /**
   * /health's question. Well under the health check's own 2 s limit, so the call has ended before the check
   * answers and the connection may be closed: the client retries an unreachable server until the deadline, and
   * overshoots it by up to a retry backoff (measured: 1.5 s asked, 2.0 s taken on the first call).
   */
  statusTimeoutMs?: number;
}

/** gRPC codes that mean "Temporal is not there" rather than "Temporal said no". */
const UNREACHABLE = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */, 1 /* CANCELLED */]);

/**
 * PipelineControl over a Temporal client: signals and updates to the hub workflow, by the names in the hub
 * contract (the API never imports workflow code). Temporal's errors become the API's: no hub workflow or no
 * server → HubUnavailableError (503); an update the hub rejects → CommandRefusedError (409), or NotFoundError
 * (404) when the hub's ApplicationFailure has type "NotFoundError".
 */
export class TemporalPipeline implements PipelineControl {
  private readonly signalTimeoutMs: number;
  private readonly updateTimeoutMs: number;
  private readonly statusTimeoutMs: number;

  constructor(
    private readonly client: Client,
    private readonly address: string,
    options: TemporalPipelineOptions = {},
  ) {
    this.signalTimeoutMs = options.signalTimeoutMs ?? 5_000;
    this.updateTimeoutMs = options.updateTimeoutMs ?? 15_000;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 1_000;
  }

  private hub() {
    return this.client.workflow.getHandle(HUB_WORKFLOW_ID);
  }

  async refresh(req: RefreshRequest): Promise<void> {
    await this.call(this.signalTimeoutMs, () => this.hub().signal(SIGNAL_REFRESH, req));
  }

  async replan(reason: string): Promise<void> {
    await this.call(this.signalTimeoutMs, () => this.hub().signal(SIGNAL_REPLAN, { reason }));
  }

  retry(cmd: TaskCommand): Promise<TaskCommandResult> {
    return this.update(UPDATE_RETRY_TASK, cmd);
  }

  cancel(cmd: TaskCommand): Promise<TaskCommandResult> {
    return this.update(UPDATE_CANCEL_TASK, cmd);
  }

  /** Commands to a wave's own workflow (its id is the wave's id); a wave whose workflow has ended refuses (409). */
  async wave(kind: WaveCommandKind, cmd: WaveCommand): Promise<WaveCommandResult> {
    const handle = this.client.workflow.getHandle(cmd.waveId);
    try {
      if (kind === 'retry-closure') {
        await this.client.withDeadline(Date.now() + this.signalTimeoutMs, () => handle.signal(SIGNAL_WAVE_RETRY_CLOSURE));
        return { waveId: cmd.waveId, status: 'waiting-for-closure' };
      }
      const name = kind === 'cancel' ? UPDATE_CANCEL_WAVE : UPDATE_PUBLISH_FINISHED;
      return await this.client.withDeadline(Date.now() + this.updateTimeoutMs, () => handle.executeUpdate<WaveCommandResult, [WaveCommand]>(name, { args: [cmd] }));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new CommandRefusedError(`wave ${cmd.waveId} has no running workflow (it has ended, or has not started yet)`);
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause;
        if (cause instanceof ApplicationFailure && cause.type === WAVE_NOT_CLOSED) {
          throw new WaveNotClosedError(cause.message, (cause.details?.[0] as Array<{ dependency: string; neededBy: string[] }> | undefined) ?? []);
        }
        throw new CommandRefusedError(cause?.message || err.message);
      }
      throw this.translate(err, this.updateTimeoutMs);
    }
  }

  async hubStatus(): Promise<HubStatus> {
    try {
      const description = await this.call(this.statusTimeoutMs, () => this.hub().describe());
      const state = description.status.name;
      return state === 'RUNNING' ? { ok: true, state: 'running' } : { ok: false, state: state.toLowerCase(), detail: 'the hub workflow has ended' };
    } catch (err) {
      if (!(err instanceof HubUnavailableError)) throw err;
      return { ok: false, state: /not running/.test(err.message) ? 'not running' : 'unreachable', detail: err.message };
    }
  }

  private async update(name: string, cmd: TaskCommand): Promise<TaskCommandResult> {
    try {
      return await this.call(this.updateTimeoutMs, () =>
        this.hub().executeUpdate<TaskCommandResult, [TaskCommand]>(name, { args: [cmd] }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowUpdateFailedError)) throw err;
      const cause = err.cause;
      if (cause instanceof ApplicationFailure && cause.type === 'NotFoundError') throw new NotFoundError('task', cmd.taskId);
      throw new CommandRefusedError(cause?.message || err.message);
    }
  }

  /** Runs one client call under a deadline, translating "nobody is there" into HubUnavailableError. */
  private async call<T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.client.withDeadline(Date.now() + timeoutMs, fn);
    } catch (err) {
      throw this.translate(err, timeoutMs);
    }
  }

  private translate(err: unknown, timeoutMs: number): unknown {
    if (err instanceof WorkflowNotFoundError) {
      return new HubUnavailableError(`the hub is not running (no open workflow "${HUB_WORKFLOW_ID}" in Temporal at ${this.address}); start the summit worker`);
    }
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      return new HubUnavailableError(`the hub did not answer within ${timeoutMs / 1000} s; is the summit worker running?`);
    }
    const grpc = err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : isGrpcServiceError(err) ? err : undefined;
    if (grpc && UNREACHABLE.has(grpc.code)) {
      return new HubUnavailableError(`Temporal at ${this.address} does not answer (${grpc.details || grpc.message})`);
    }
    return err;
  }
}
