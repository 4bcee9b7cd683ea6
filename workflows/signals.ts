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

/** Handles for the hub's signals, updates and query; names come from core/contracts/hub. */
export const refreshSignal = defineSignal<[RefreshRequest]>(SIGNAL_REFRESH);
export const replanSignal = defineSignal<[{ reason: string }]>(SIGNAL_REPLAN);
export const builderHeartbeatSignal = defineSignal<[BuilderStatus]>(SIGNAL_BUILDER_HEARTBEAT);
/**
 * Sent by a build workflow to the hub when its builder is done (status `built`: the slot is free) and when it
 * ends, whatever the outcome: time to plan again.
 */
export const buildFinishedSignal = defineSignal<[{ taskId: string; status: string }]>('buildFinished');
/** Sent by avalanche's build activity to its build workflow when a builder picks the build up. */
export const buildPickedUpSignal = defineSignal<[BuildPickup]>(SIGNAL_BUILD_PICKED_UP);
export const retryTaskUpdate = defineUpdate<TaskCommandResult, [TaskCommand]>(UPDATE_RETRY_TASK);
export const cancelTaskUpdate = defineUpdate<TaskCommandResult, [TaskCommand]>(UPDATE_CANCEL_TASK);
export const hubStateQuery = defineQuery<HubState>(QUERY_HUB_STATE);
