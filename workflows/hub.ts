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
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { INTAKE_GIT_REFUSED, type BuilderStatus, type RefreshRequest } from '../core/contracts/hub';
import { SUMMIT_QUEUE } from '../core/contracts/queues';
import type { SummitActivities } from '../core/contracts/activities';
import type { IntakeResult } from '../core/contracts/summit';
import { buildWorkflow } from './build';
import { BuildCommit, BuildIsa, BuildPackage, BuildStatus } from './search-attributes';
import { buildFinishedSignal, builderHeartbeatSignal, cancelTaskUpdate, hubStateQuery, refreshSignal, retryTaskUpdate } from './signals';

/**
 * Intake reads a whole repository (git fetch, hundreds of recipes): minutes at worst. It heartbeats every 5 s
 * (activities/summit/index.ts), so a worker that died mid-intake is noticed after 30 s instead of 10 minutes.
 * A repository that does not exist, refuses access or lacks the commit fails at once (IntakeGitRefused, and
 * NotFoundError for a repository removed from the database): retrying cannot change those answers.
 */
const intake = proxyActivities<SummitActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [INTAKE_GIT_REFUSED, 'NotFoundError'] },
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
  /** Each repository's last intake, so the details survive a continue-as-new. */
  lastIntake?: Array<[string, IntakeSummary]>;
}

export interface HubOptions {
  /** A builder not heard from for this long no longer counts for capacity (ms). */
  builderTimeoutMs: number;
  /** Re-plan at least this often even when nothing signalled (ms): catches missed build-finished signals. */
  replanEveryMs: number;
  /** Continue as new once the history is this long, if the server has not suggested it earlier (tests lower it). */
  historyEventsBeforeContinueAsNew: number;
  /**
   * Repositories read at the same time. Each intake is independent (one slow or failing repository holds up
   * no other); the bound keeps git processes and parser threads on the summit host in check.
   */
  intakeParallel: number;
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

const DEFAULTS: HubOptions = { builderTimeoutMs: 90_000, replanEveryMs: 30_000, intakeParallel: 4, historyEventsBeforeContinueAsNew: 5000 };

/** How many invalid recipes per repository the hub's details show; the API has them all. */
const DETAILS_INVALID_LIMIT = 20;

/**
 * What the hub keeps of a repository's last intake for its details: small and bounded, because it rides in
 * every continue-as-new (hundreds of repositories must stay far below Temporal's 2 MB payload limit).
 */
type IntakeSummary =
  | { commit: string; recipes: number; invalidTotal: number; invalid: Array<{ path: string; reason: string }> }
  | { error: string };

function summarise(r: IntakeResult): IntakeSummary {
  const invalid = r.invalid.slice(0, DETAILS_INVALID_LIMIT).map((bad) => ({ path: bad.path.slice(0, 200), reason: (bad.errors[0] ?? '').slice(0, 200) }));
  return { commit: r.commit, recipes: r.recipes, invalidTotal: r.invalidTotal, invalid };
}

/** The hub's Temporal details (shown by the UI): each repository's last intake and its invalid recipes. */
function intakeDetails(last: ReadonlyMap<string, IntakeSummary>): string {
  const lines = ['### Intake'];
  for (const [repository, r] of [...last].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if ('error' in r) {
      lines.push(`- **${repository}**: failed: ${r.error}`);
      continue;
    }
    lines.push(`- **${repository}** at \`${r.commit.slice(0, 12)}\`: ${r.recipes} recipe(s) read, ${r.invalidTotal} invalid`);
    for (const bad of r.invalid) lines.push(`  - \`${bad.path}\`: ${bad.reason}`);
    if (r.invalidTotal > r.invalid.length) lines.push(`  - … ${r.invalidTotal - r.invalid.length} more: GET /api/repositories/${repository}`);
  }
  return lines.join('\n');
}

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
  /** Intakes in flight, by repository: at most one per repository, at most opts.intakeParallel in all. */
  const running = new Map<string, RefreshRequest>();
  const lastIntake = new Map<string, IntakeSummary>(carry?.lastIntake ?? []);
  if (lastIntake.size > 0) setCurrentDetails(intakeDetails(lastIntake));
  let dirty = true;

  const runIntake = async (req: RefreshRequest): Promise<void> => {
    try {
      const result = await intake.refreshRepository(req);
      lastIntake.set(req.repository, summarise(result));
      log.info('intake', { repository: result.repository, commit: result.commit, recipes: result.recipes, created: result.created.length, superseded: result.superseded.length, invalid: result.invalidTotal });
      for (const bad of result.invalid) log.warn('invalid recipe skipped', { repository: result.repository, path: bad.path, errors: bad.errors });
    } catch (err) {
      const message = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
      lastIntake.set(req.repository, { error: message.slice(0, 300) });
      log.error('intake failed; the next refresh or poll retries it', { repository: req.repository, error: message });
    } finally {
      running.delete(req.repository);
      setCurrentDetails(intakeDetails(lastIntake));
      dirty = true;
    }
  };
  const startable = (): boolean => running.size < opts.intakeParallel && pending.some((p) => !running.has(p.repository));
  const startIntakes = (): void => {
    for (let i = 0; i < pending.length && running.size < opts.intakeParallel; ) {
      const req = pending[i];
      if (running.has(req.repository)) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      running.set(req.repository, req);
      void runIntake(req);
    }
  };

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
    runningRefreshes: [...running.keys()],
  }));

  for (;;) {
    await condition(() => dirty || startable(), opts.replanEveryMs);
    // Intakes run beside planning: a repository being read does not stop builds of the others from starting.
    startIntakes();
    dirty = false;
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
    // Only between intakes: a running intake activity would be abandoned by the new run.
    if ((workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > opts.historyEventsBeforeContinueAsNew) && running.size === 0) {
      // Let running update handlers (retry, cancel) finish before the history is cut.
      await condition(allHandlersFinished);
      return continueAsNew<typeof hubWorkflow>(options, { builders: [...builders], pending, lastIntake: [...lastIntake] });
    }
  }
}
