import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { BuilderStatus, RefreshRequest } from '../core/contracts/hub';
import { SUMMIT_QUEUE } from '../core/contracts/queues';
import type { SummitActivities } from '../activities/summit';
import { buildWorkflow } from './build';
import { BuildCommit, BuildIsa, BuildPackage, BuildStatus } from './search-attributes';
import { buildFinishedSignal, builderHeartbeatSignal, cancelTaskUpdate, hubStateQuery, refreshSignal, retryTaskUpdate } from './signals';

/** Intake reads a whole repository (git fetch, hundreds of recipes): minutes at worst. */
const intake = proxyActivities<SummitActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5 },
});
/** Planning and recording are database work: quick, retried until the database answers. */
const summit = proxyActivities<SummitActivities>({
  startToCloseTimeout: '1 minute',
  // Unknown ids and illegal moves are answers, not outages: retrying cannot change them.
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NotFoundError', 'IllegalTransitionError', 'ConflictError'] },
});

export interface HubCarry {
  builders: Array<[string, BuilderStatus & { lastSeenMs: number }]>;
  pending: RefreshRequest[];
}

export interface HubOptions {
  /** A builder not heard from for this long no longer counts for capacity (ms). */
  builderTimeoutMs: number;
  /** Re-plan at least this often even when nothing signalled (ms): catches missed build-finished signals. */
  replanEveryMs: number;
  /** Continue as new once the history is this long, if the server has not suggested it earlier (tests lower it). */
  historyEventsBeforeContinueAsNew: number;
}

/**
 * An update that fails reaches the API as the activity's own failure (NotFoundError → 404,
 * IllegalTransitionError → 409), not wrapped in an ActivityFailure the caller would have to unwrap.
 */
function rethrowCause(err: unknown): never {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    throw ApplicationFailure.create({ type: err.cause.type ?? 'Error', message: err.cause.message, nonRetryable: true });
  }
  throw err;
}

const DEFAULTS: HubOptions = { builderTimeoutMs: 90_000, replanEveryMs: 30_000, historyEventsBeforeContinueAsNew: 5000 };

/**
 * The hub: one long-running workflow that owns which task runs where. Refreshes (hook, poll, API), builder
 * heartbeats and build outcomes arrive as signals; admins' retry and cancel as updates. After each change it
 * runs intake for pending refreshes, asks the planner what to start, and starts one build workflow per
 * dispatch. Builds run as abandoned children (they outlive a continue-as-new of the hub) and tell the hub when
 * they end.
 */
export async function hubWorkflow(options: Partial<HubOptions> = {}, carry?: HubCarry): Promise<void> {
  const opts = { ...DEFAULTS, ...options };
  const builders = new Map(carry?.builders ?? []);
  const pending: RefreshRequest[] = [...(carry?.pending ?? [])];
  let dirty = true;

  setHandler(refreshSignal, (req) => {
    if (!pending.some((p) => p.repository === req.repository && p.commit === req.commit)) pending.push(req);
  });
  setHandler(builderHeartbeatSignal, (status) => {
    const known = builders.get(status.id);
    builders.set(status.id, { ...status, lastSeenMs: Date.now() });
    // Only a change in capacity needs a new plan; a plain "still here" does not.
    if (!known || known.slots !== status.slots || known.isaLevels.join() !== status.isaLevels.join()) dirty = true;
  });
  setHandler(buildFinishedSignal, () => {
    dirty = true;
  });
  setHandler(retryTaskUpdate, async (cmd) => {
    const result = await summit.retryTask(cmd).catch(rethrowCause);
    dirty = true;
    return result;
  });
  setHandler(cancelTaskUpdate, async (cmd) => {
    const result = await summit.cancelTask(cmd).catch(rethrowCause);
    if (result.previous === 'building' || result.previous === 'publishing') {
      await getExternalWorkflowHandle(cmd.taskId).cancel().catch((err) => log.warn('build workflow already gone', { taskId: cmd.taskId, error: String(err) }));
    }
    dirty = true;
    return { taskId: result.taskId, status: result.status };
  });
  setHandler(hubStateQuery, () => ({
    builders: [...builders.values()].map((b) => ({ ...b, lastSeen: new Date(b.lastSeenMs).toISOString() })),
    pendingRefreshes: pending.length,
  }));

  for (;;) {
    await condition(() => dirty || pending.length > 0, opts.replanEveryMs);
    dirty = false;
    while (pending.length > 0) {
      const req = pending[0];
      try {
        const result = await intake.refreshRepository(req);
        log.info('intake', { repository: result.repository, commit: result.commit, recipes: result.recipes, created: result.created.length, superseded: result.superseded.length, invalid: result.invalid.length });
        for (const bad of result.invalid) log.warn('invalid recipe skipped', { repository: result.repository, path: bad.path, errors: bad.errors });
      } catch (err) {
        log.error('intake failed; the next refresh or poll retries it', { repository: req.repository, error: String(err) });
      }
      pending.shift();
    }
    const live = [...builders.values()].filter((b) => Date.now() - b.lastSeenMs <= opts.builderTimeoutMs);
    for (const b of live) await summit.recordBuilder(b);
    const plan = await summit.planBuilds({ builders: live });
    for (const task of plan.dispatch) {
      await summit.markBuilding(task.taskId, `dispatched (critical path ${Math.round(task.criticalPath)} s)`);
      try {
        await startChild(buildWorkflow, {
          workflowId: task.taskId,
          taskQueue: SUMMIT_QUEUE,
          args: [task],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          // A retried build starts a new run under the same id once the previous run has closed.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          staticSummary: `${task.source} ${task.version}-${task.release} · ${task.isa} · ${task.commit.slice(0, 12)}`,
          staticDetails: `Build \`${task.taskId}\` of recipe \`${task.recipePath}\` for index \`${task.index}\`; ${task.dependencies.length} dependency package(s).`,
          typedSearchAttributes: [
            { key: BuildPackage, value: task.source },
            { key: BuildIsa, value: task.isa },
            { key: BuildCommit, value: task.commit },
            { key: BuildStatus, value: 'building' },
          ],
        });
      } catch (err) {
        log.warn('build workflow did not start (already running?)', { taskId: task.taskId, error: String(err) });
      }
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > opts.historyEventsBeforeContinueAsNew) {
      // Let running update handlers (retry, cancel) finish before the history is cut.
      await condition(allHandlersFinished);
      return continueAsNew<typeof hubWorkflow>(options, { builders: [...builders], pending });
    }
  }
}
