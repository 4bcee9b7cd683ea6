import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { SIGNAL_BUILD_PICKED_UP, type BuildPickup } from '../core/contracts/build';
import {
  BuilderStatus,
  HubState,
  QUERY_HUB_STATE,
  RefreshRequest,
  SIGNAL_BUILDER_HEARTBEAT,
  SIGNAL_REFRESH,
  SIGNAL_REPLAN,
  TaskCommand,
  TaskCommandResult,
  UPDATE_CANCEL_TASK,
  UPDATE_RETRY_TASK,
} from '../core/contracts/hub';
import {
  QUERY_WAVE_STATE,
  SIGNAL_WAVE_BUILD_ENDED,
  SIGNAL_WAVE_RETRY_CLOSURE,
  UPDATE_CANCEL_WAVE,
  UPDATE_PUBLISH_FINISHED,
  type WaveCommand,
  type WaveCommandResult,
  type WaveState,
} from '../core/contracts/wave';

/** Handles for the hub's signals, updates and query; names come from core/contracts/hub. */
export const refreshSignal = defineSignal<[RefreshRequest]>(SIGNAL_REFRESH);
export const replanSignal = defineSignal<[{ reason: string }]>(SIGNAL_REPLAN);
export const builderHeartbeatSignal = defineSignal<[BuilderStatus]>(SIGNAL_BUILDER_HEARTBEAT);
/**
 * What a build tells the hub and its wave. `run`: the build workflow's run, when a record activity sent it
 * (activities/summit/notify.ts): a retried activity may send it twice, and the receivers ignore the repeat.
 */
export interface BuildEnded {
  taskId: string;
  status: string;
  run?: string;
}
/**
 * Sent by a build workflow (or its record activities) to the hub when its builder is done (status `built`: the
 * slot is free) and when it ends, whatever the outcome: time to plan again.
 */
export const buildFinishedSignal = defineSignal<[BuildEnded]>('buildFinished');
/** Sent by avalanche's build activity to its build workflow when a builder picks the build up. */
export const buildPickedUpSignal = defineSignal<[BuildPickup]>(SIGNAL_BUILD_PICKED_UP);
export const retryTaskUpdate = defineUpdate<TaskCommandResult, [TaskCommand]>(UPDATE_RETRY_TASK);
export const cancelTaskUpdate = defineUpdate<TaskCommandResult, [TaskCommand]>(UPDATE_CANCEL_TASK);
export const hubStateQuery = defineQuery<HubState>(QUERY_HUB_STATE);

/** Sent by a build of a wave to its wave workflow when the build ends, whatever the outcome. */
export const waveBuildEndedSignal = defineSignal<[BuildEnded]>(SIGNAL_WAVE_BUILD_ENDED);
/** An admin (or whoever provided the missing dependency) asks a wave waiting for closure to try its publish again. */
export const waveRetryClosureSignal = defineSignal<[]>(SIGNAL_WAVE_RETRY_CLOSURE);
export const cancelWaveUpdate = defineUpdate<WaveCommandResult, [WaveCommand]>(UPDATE_CANCEL_WAVE);
export const publishFinishedUpdate = defineUpdate<WaveCommandResult, [WaveCommand]>(UPDATE_PUBLISH_FINISHED);
export const waveStateQuery = defineQuery<WaveState>(QUERY_WAVE_STATE);
