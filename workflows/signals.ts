import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import {
  BuilderStatus,
  HubState,
  QUERY_HUB_STATE,
  RefreshRequest,
  SIGNAL_BUILDER_HEARTBEAT,
  SIGNAL_REFRESH,
  TaskCommand,
  TaskCommandResult,
  UPDATE_CANCEL_TASK,
  UPDATE_RETRY_TASK,
} from '../core/contracts/hub';

/** Handles for the hub's signals, updates and query; names come from core/contracts/hub. */
export const refreshSignal = defineSignal<[RefreshRequest]>(SIGNAL_REFRESH);
export const builderHeartbeatSignal = defineSignal<[BuilderStatus]>(SIGNAL_BUILDER_HEARTBEAT);
/** Sent by a build workflow to the hub when it ends, whatever the outcome: time to plan again. */
export const buildFinishedSignal = defineSignal<[{ taskId: string; status: string }]>('buildFinished');
export const retryTaskUpdate = defineUpdate<TaskCommandResult, [TaskCommand]>(UPDATE_RETRY_TASK);
export const cancelTaskUpdate = defineUpdate<TaskCommandResult, [TaskCommand]>(UPDATE_CANCEL_TASK);
export const hubStateQuery = defineQuery<HubState>(QUERY_HUB_STATE);
