import {
  type LocalActivityOptions,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { INTAKE_GIT_REFUSED, type BuilderStatus, type RefreshRequest, type TaskCommand, type TaskCommandResult } from '../core/contracts/hub';
import { SUMMIT_QUEUE } from '../core/contracts/queues';
import type { SummitActivities } from '../core/contracts/activities';
import type { Dispatch, IntakeResult } from '../core/contracts/summit';
import { buildWorkflow } from './build';
import { BuildArchitecture, BuildCommit, BuildIsa, BuildPackage, BuildStatus, BuildWave } from './search-attributes';
import { waveWorkflow } from './wave';
import { WakeTimer } from './wake-timer';
import { HeardSignals } from './heard-signals';
import { buildFinishedSignal, builderHeartbeatSignal, cancelTaskUpdate, hubStateQuery, refreshSignal, replanSignal, retryTaskUpdate } from './signals';

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
const SUMMIT_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  // Unknown ids and illegal moves are answers, not outages: retrying cannot change them.
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NotFoundError', 'IllegalTransitionError', 'ConflictError'] },
};
const summit = proxyActivities<SummitActivities>(SUMMIT_OPTIONS);
/**
 * Planning as a local activity (patch `local-planning`): planBuilds runs in the summit worker that runs the hub,
 * inside the workflow task that decided to plan, and the build workflows it dispatches start in that same task:
 * no activity task through the server (three events fewer) and one hub workflow task fewer per round. Same timeout
 * and retries; a plan longer than the workflow task timeout (a process's first round over 100,000 finished
 * tasks) keeps its workflow task alive by the SDK's workflow task heartbeats.
 */
const summitLocal = proxyLocalActivities<SummitActivities>(SUMMIT_OPTIONS);

/** How a build ends; a build that ended has no `built` to send any more. */
const FINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;

/** Wave ids the hub remembers having started (a bounded window; a continue-as-new starts it empty). */
const KNOWN_WAVES_KEPT = 1000;
/** Build signals (by run and status) the hub remembers, to ignore a repeat from a retried record activity. */
const HEARD_SIGNALS_KEPT = 10_000;

export interface HubCarry {
  builders: Array<[string, BuilderStatus & { lastSeenMs: number }]>;
  pending: RefreshRequest[];
  /** Each repository's last intake, so the details survive a continue-as-new. */
  lastIntake?: Array<[string, IntakeSummary]>;
  /** Tasks whose build workflow could not be started, and when to try again (workflow time, ms). */
  held?: Array<[string, Hold]>;
  freed?: Array<[string, number]>;
  rounds?: number;
  /** Waves to start and superseded builds to stop that the previous run had not got to. */
  wavesDue?: boolean;
  stopping?: string[];
}

/**
 * A task whose build workflow did not start: not dispatched again before `untilMs`; if the next start fails too,
 * the wait doubles. Kept (released) after `untilMs` so that the doubling remembers; dropped once a start
 * succeeds, an admin acts on the task, or it has been released for HOLD_FORGET_MS.
 */
interface Hold {
  untilMs: number;
  delayMs: number;
  released?: boolean;
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
  /**
   * Builds queued per builder beyond its free slots (SUMMIT_DISPATCH_PREFETCH). 0: a freed slot's next build is
   * chosen when it frees, so the highest-priority ready build always runs next.
   */
  prefetch: number;
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

const DEFAULTS: HubOptions = { builderTimeoutMs: 90_000, replanEveryMs: 30_000, intakeParallel: 4, historyEventsBeforeContinueAsNew: 5000, prefetch: 0 };

/** First and longest wait before a task whose build workflow did not start is dispatched again (ms). */
const HOLD_FIRST_MS = 2_000;
const HOLD_MAX_MS = 60_000;
/** A released hold is forgotten this long after its end (the task started, or went elsewhere, by then). */
const HOLD_FORGET_MS = 10 * 60_000;
/** A freed build whose end signal never came is forgotten after this long (the read model has it by then). */
const FREED_KEPT_MS = 10 * 60_000;

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

/** An admin's command, waiting for the hub's loop: the update that sent it resolves with the loop's answer. */
interface Command {
  kind: 'retry' | 'cancel';
  cmd: TaskCommand;
  resolve: (r: TaskCommandResult) => void;
  reject: (err: unknown) => void;
}

/**
 * The hub: one long-running workflow that owns which task runs where. Refreshes (hook, poll, API), builder
 * heartbeats and build progress arrive as signals; admins' retry and cancel as updates, which the hub's loop
 * carries out between planning rounds (never beside them). After each change it runs intake for pending
 * refreshes, records the builders it heard from, asks the planner what to start — never more than the free
 * slots of the live builders (plus `prefetch`) — moves those tasks to `queued` and starts one build workflow
 * each. A build workflow that cannot start sends its task back to `new`, held back for a growing while. Builds
 * run as abandoned children (they outlive a continue-as-new of the hub) and tell the hub when their builder is
 * free and when they end.
 */
export async function hubWorkflow(options: Partial<HubOptions> = {}, carry?: HubCarry): Promise<void> {
  const opts = { ...DEFAULTS, ...options };
  const builders = new Map(carry?.builders ?? []);
  const pending: RefreshRequest[] = [...(carry?.pending ?? [])];
  /** Intakes in flight, by repository: at most one per repository, at most opts.intakeParallel in all. */
  const running = new Map<string, RefreshRequest>();
  const lastIntake = new Map<string, IntakeSummary>(carry?.lastIntake ?? []);
  const held = new Map<string, Hold>(carry?.held ?? []);
  /** Builds whose builder said it is done (and when), until they end: their slot is free for planning. */
  const freed = new Map<string, number>(carry?.freed ?? []);
  /** Builders heard from since their last record in the read model. */
  const heard = new Set<string>();
  const commands: Command[] = [];
  let rounds = carry?.rounds ?? 0;
  /** What admins hold back, from the last plan (activities/summit/planning.ts): shown first in the details. */
  let adminLine: string | undefined;
  const details = (): string => `${adminLine ? `**Admin:** ${adminLine}\n\n` : ''}${intakeDetails(lastIntake)}`;
  if (lastIntake.size > 0) setCurrentDetails(details());
  let dirty = true;

  const runIntake = async (req: RefreshRequest): Promise<void> => {
    try {
      const result = await intake.refreshRepository(req);
      if (result.wave) wavesDue = true;
      if (result.cancelled) stopping.push(...result.cancelled);
      lastIntake.set(req.repository, summarise(result));
      log.info('intake', { repository: result.repository, commit: result.commit, recipes: result.recipes, created: result.created.length, superseded: result.superseded.length, invalid: result.invalidTotal });
      for (const bad of result.invalid) log.warn('invalid recipe skipped', { repository: result.repository, path: bad.path, errors: bad.errors });
    } catch (err) {
      const message = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
      lastIntake.set(req.repository, { error: message.slice(0, 300) });
      log.error('intake failed; the next refresh or poll retries it', { repository: req.repository, error: message });
    } finally {
      running.delete(req.repository);
      setCurrentDetails(details());
      dirty = true;
    }
  };
  /** After an intake that made a wave, and after admins' commands: start the waves recorded but not started. */
  let wavesDue = carry?.wavesDue ?? false;
  /** Builds in flight a newer release superseded (intake cancelled their tasks): their workflows are stopped. */
  const stopping: string[] = [...(carry?.stopping ?? [])];
  /** Waves started (or found started) by this run: a dispatch of one of them needs no look for new waves. */
  const knownWaves = new Set<string>();
  const startWaves = async (): Promise<void> => {
    wavesDue = false;
    // Not the waves of a repository an intake is still reading: it may yet add removals or a cascade's rebuilds.
    for (const waveId of await summit.newWaves([...running.keys()])) {
      knownWaves.add(waveId);
      if (knownWaves.size > KNOWN_WAVES_KEPT) knownWaves.delete(knownWaves.values().next().value!);
      try {
        await startChild(waveWorkflow, {
          workflowId: waveId,
          taskQueue: SUMMIT_QUEUE,
          args: [{ waveId }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `wave ${waveId}`,
          staticDetails: `Builds of this wave: \`BuildWave="${waveId}"\`; GET /api/waves/${waveId}.`,
          typedSearchAttributes: [{ key: BuildWave, value: waveId }],
        });
      } catch (err) {
        // Started a moment ago (its first record has not landed yet): nothing to do.
        log.info('wave workflow not started', { waveId, error: String(err) });
      }
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

  /** Admins' retry and cancel, one at a time, in the order they came. */
  const runCommands = async (): Promise<void> => {
    for (let c = commands.shift(); c; c = commands.shift()) {
      try {
        if (c.kind === 'retry') {
          c.resolve(await summit.retryTask(c.cmd).catch(rethrowCause));
          wavesDue = true;
        } else {
          const result = await summit.cancelTask(c.cmd).catch(rethrowCause);
          if (result.previous === 'queued' || result.previous === 'building' || result.previous === 'publishing') {
            await getExternalWorkflowHandle(c.cmd.taskId).cancel().catch((err) => log.warn('build workflow already gone', { taskId: c.cmd.taskId, error: String(err) }));
          }
          c.resolve({ taskId: result.taskId, status: result.status });
        }
        held.delete(c.cmd.taskId);
      } catch (err) {
        c.reject(err);
      }
      dirty = true;
    }
  };
  const command = (kind: Command['kind'], cmd: TaskCommand): Promise<TaskCommandResult> =>
    new Promise((resolve, reject) => commands.push({ kind, cmd, resolve, reject }));

  /** Start one build workflow; a start that fails (its previous run still closing, …) returns the task to new. */
  const start = async (task: Dispatch): Promise<void> => {
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
          { key: BuildStatus, value: 'queued' },
          ...(task.wave ? [{ key: BuildWave, value: task.wave }] : []),
          // Dispatches from before profiles name no architecture (they were x86_64): no attribute, as before.
          ...(task.architecture ? [{ key: BuildArchitecture, value: task.architecture }] : []),
        ],
      });
      held.delete(task.taskId);
    } catch (err) {
      const delayMs = Math.min(HOLD_MAX_MS, (held.get(task.taskId)?.delayMs ?? HOLD_FIRST_MS / 2) * 2);
      held.set(task.taskId, { untilMs: Date.now() + delayMs, delayMs });
      const reason = `build workflow did not start (${err instanceof Error ? err.message : String(err)}); dispatched again in ${Math.round(delayMs / 1000)} s at the earliest`;
      log.warn(reason, { taskId: task.taskId });
      await summit.returnToReady(task.taskId, reason.slice(0, 500));
    }
  };

  setHandler(refreshSignal, (req) => {
    if (!pending.some((p) => p.repository === req.repository && p.commit === req.commit)) pending.push(req);
  });
  setHandler(replanSignal, () => {
    dirty = true;
  });
  setHandler(builderHeartbeatSignal, (status) => {
    const known = builders.get(status.id);
    builders.set(status.id, { ...status, lastSeenMs: Date.now() });
    heard.add(status.id);
    // Only a change in capacity needs a new plan; a plain "still here" does not.
    if (!known || known.slots !== status.slots || known.isaLevels.join() !== status.isaLevels.join()) dirty = true;
  });
  /**
   * Patch `full-skips-completed`: whether the last plan left ready builds without a slot on a farm whose live
   * builders all serve the same levels. Then the end of a build whose slot was already given back (it said `built`)
   * cannot start anything (no slot freed since: every event that frees one plans again), and needs no plan of its
   * own: about one planning round (an activity, two workflow tasks and the planner's reads) fewer per build.
   */
  const skipWhenFull = patched('full-skips-completed');
  let fullAtLastPlan = false;
  /** A plan in flight may have read the read model before this build's end was recorded: it never skips then. */
  let planning = false;
  /**
   * Patch `notify-from-records`: a build's record activities send its signals (activities/summit/notify.ts), naming
   * the build workflow's run; a retried activity may send one twice, and the repeat is ignored here (it would
   * otherwise plan once more, or, a `built` coming after its build's end, count a slot free that is not).
   */
  const heardSignals = patched('notify-from-records') ? new HeardSignals(HEARD_SIGNALS_KEPT) : undefined;
  setHandler(buildFinishedSignal, ({ taskId, status, run }) => {
    if (heardSignals && run) {
      if (status === 'built' && heardSignals.any(taskId, run, FINAL_STATUSES)) return;
      if (!heardSignals.first(taskId, run, status)) return;
    }
    const slotGivenBack = freed.delete(taskId);
    if (status === 'built') freed.set(taskId, Date.now());
    // A failed or cancelled build blocks its dependents: planning says so at once.
    if (skipWhenFull && fullAtLastPlan && !planning && slotGivenBack && status === 'completed') return;
    dirty = true;
  });
  setHandler(retryTaskUpdate, (cmd) => command('retry', cmd));
  setHandler(cancelTaskUpdate, (cmd) => command('cancel', cmd));
  setHandler(hubStateQuery, () => ({
    builders: [...builders.values()].map((b) => ({ ...b, lastSeen: new Date(b.lastSeenMs).toISOString() })),
    pendingRefreshes: pending.length,
    runningRefreshes: [...running.keys()],
    rounds,
    held: [...held].filter(([, h]) => !h.released).map(([id]) => id),
  }));

  /** When the last plan ran (workflow time): the timer re-plans replanEveryMs after it, heartbeats or not. */
  let plannedAt = Number.NEGATIVE_INFINITY;
  /** Patch `wake-timer`: one timer kept across rounds instead of one started and cancelled per round. */
  const wake = patched('wake-timer') ? new WakeTimer() : undefined;
  const planner = patched('local-planning') ? summitLocal : summit;
  /**
   * A local plan ran in a workflow task that may not have ended yet. Continue-as-new is never sent in such a task:
   * a signal that came during the plan makes the server refuse a task that closes the run (UnhandledCommand), and
   * the retried task runs the local activity again (a second plan, after the first had queued its dispatches).
   */
  let localPlanInTask = false;
  for (;;) {
    const now = Date.now();
    const nextHold = Math.min(...[...held.values()].filter((h) => !h.released).map((h) => h.untilMs - now));
    const nextPlan = plannedAt + opts.replanEveryMs - now;
    // A heartbeat alone does not wake the loop: it is recorded with the next round (its time is kept from now).
    if (nextPlan > 0 && wake) {
      wake.within(Math.max(1, Math.min(nextPlan, nextHold)));
      wake.reset();
      await condition(() => dirty || startable() || commands.length > 0 || wake.fired);
    } else if (nextPlan > 0) await condition(() => dirty || startable() || commands.length > 0, Math.max(1, Math.min(nextPlan, nextHold)));
    // Intakes run beside planning: a repository being read does not stop builds of the others from starting.
    startIntakes();
    if (heard.size > 0) {
      const beats = [...heard].flatMap((id) => builders.get(id) ?? []).map((b) => ({ status: b, lastSeen: new Date(b.lastSeenMs).toISOString() }));
      heard.clear();
      await summit.recordBuilders(beats);
    }
    await runCommands();
    // Waves (issue 9): guarded so that hubs recorded before waves replay as they ran.
    if ((wavesDue || stopping.length > 0) && patched('waves')) {
      for (const id of stopping.splice(0)) {
        await getExternalWorkflowHandle(id).cancel().catch((err) => log.warn('superseded build workflow already gone', { taskId: id, error: String(err) }));
      }
      if (wavesDue) await startWaves();
    }
    for (const [id, h] of held) {
      if (h.untilMs > Date.now()) continue;
      if (!h.released) dirty = true;
      h.released = true;
      if (Date.now() - h.untilMs > HOLD_FORGET_MS) held.delete(id);
    }
    // A plan when something changed, or on the timer (a missed signal, a builder that went silent).
    if (dirty || Date.now() >= plannedAt + opts.replanEveryMs) {
      dirty = false;
      rounds++;
      plannedAt = Date.now();
      const live = [...builders.values()].filter((b) => Date.now() - b.lastSeenMs <= opts.builderTimeoutMs);
      for (const [id, at] of freed) if (Date.now() - at > FREED_KEPT_MS) freed.delete(id);
      planning = true;
      localPlanInTask = planner === summitLocal;
      const plan = await planner.planBuilds({ builders: live, prefetch: opts.prefetch, holdBack: [...held].filter(([, h]) => !h.released).map(([id]) => id), freed: [...freed.keys()] });
      // Ready builds left queued mean no free slot for their level; with every live builder serving the same
      // levels, no free slot at all.
      planning = false;
      fullAtLastPlan = plan.queued > 0 && plan.unservable.length === 0 && new Set(live.map((b) => [...b.isaLevels].sort().join())).size === 1;
      if (plan.admin !== adminLine) {
        adminLine = plan.admin;
        setCurrentDetails(details());
      }
      // The plan has moved what it dispatched to queued: start their build workflows, all at once.
      await Promise.all(plan.dispatch.map(start));
      // A dispatched build may have joined a new wave (its own had ended): start it now, before the build can end.
      // Waves already started need no look (patch `known-waves`: before, every round with a wave's build looked).
      if (plan.dispatch.some((d) => d.wave) && patched('waves') && (!patched('known-waves') || plan.dispatch.some((d) => d.wave && !knownWaves.has(d.wave)))) await startWaves();
    }
    // Only between intakes: a running intake activity would be abandoned by the new run.
    if ((workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > opts.historyEventsBeforeContinueAsNew) && running.size === 0) {
      if (localPlanInTask) {
        // A timer ends the task with the plan's marker and its children's starts; the run continues in the next.
        localPlanInTask = false;
        await sleep(1);
      }
      // Answer every admin command that arrived, and let their handlers finish, before the history is cut.
      for (;;) {
        await runCommands();
        await condition(() => allHandlersFinished() || commands.length > 0);
        if (commands.length === 0) break;
      }
      return continueAsNew<typeof hubWorkflow>(options, { builders: [...builders], pending, lastIntake: [...lastIntake], held: [...held], freed: [...freed], rounds, ...(wavesDue || stopping.length > 0 ? { wavesDue, stopping } : {}) });
    }
  }
}
