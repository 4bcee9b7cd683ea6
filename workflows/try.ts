import {
  ActivityFailure,

  condition,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import { SUMMIT_QUEUE, VESSEL_QUEUE } from '../core/contracts/queues';
import {
  SIGNAL_TRY_EXPIRE,
  tryIndexOf,
  tryWorkflowId,
  type SummitTryActivities,
  type TryInput,
  type TryRemoval,
  type TrySweepInput,
  type TrySweepResult,
  type VesselTryActivities,
} from '../core/contracts/try';
import { STREAM_COMMAND_REFUSED } from '../core/contracts/vessel';
import { replanSignal } from './signals';
import { waveWorkflow } from './wave';

/** How often a try whose wave the hub started looks at the wave's state. */
const WAVE_RECHECK_MS = 30_000;

export const tryExpireSignal = defineSignal<[{ by: string }]>(SIGNAL_TRY_EXPIRE);

/** Read-model work, and the try's intake: a fetch of the ref and a read of its recipes (minutes at most). */
const summit = proxyActivities<SummitTryActivities>({
  startToCloseTimeout: '10 minutes',
  // A ref that is not there, or a repository refusing us, does not come back on a retry: a few, then the try fails.
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: ['NotFoundError', 'IntakeGitRefused'] },
});

/** Deleting an index folder: quick; the index lock may be held by a publish for a while. */
const vessel = proxyActivities<VesselTryActivities>({
  taskQueue: VESSEL_QUEUE,
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: [STREAM_COMMAND_REFUSED] },
});

function messageOf(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(err);
}

export interface TryOutcome {
  name: string;
  status: 'expired' | 'failed';
  histories: Array<{ index: string; historyId: string }>;
  removal?: TryRemoval;
}

/**
 * One try-build (core/contracts/try.ts), from its ref to its expiry: its intake makes the tasks of what the ref
 * changes and their wave; the try starts that wave as its child (the builds are dispatched by the hub like any
 * other, with `purpose: 'try'`) and waits for it; the wave publishes into `try/<name>` only. Then the try waits for
 * its expiry (a durable timer to SUMMIT_TRY_TTL after it was asked for, or the expire signal: an admin, or the
 * sweep) and has vessel delete its index.
 */
export async function tryWorkflow(input: TryInput): Promise<TryOutcome> {
  const index = tryIndexOf(input.name);
  let expireBy: string | undefined;
  setHandler(tryExpireSignal, ({ by }) => void (expireBy ??= by));

  let histories: TryOutcome['histories'] = [];
  let intake;
  try {
    intake = await summit.tryIntake(input);
  } catch (err) {
    const reason = `its ref could not be read: ${messageOf(err)}`.slice(0, 2000);
    setCurrentDetails(`### Try \`${index}\`: failed\n- ${reason}`);
    await summit.recordTry(input, { status: 'failed', reason });
    return { name: input.name, status: 'failed', histories };
  }
  setCurrentDetails(`### Try \`${index}\`: building\n- commit \`${intake.commit.slice(0, 12)}\`, ${intake.tasks} build(s)${intake.waveId ? `, wave \`${intake.waveId}\`` : ''}`);

  if (intake.waveId) {
    // The hub plans on its timer anyway; the signal only saves the wait.
    await getExternalWorkflowHandle(HUB_WORKFLOW_ID).signal(replanSignal, { reason: `try ${input.name}` }).catch((err) => log.info('hub not signalled', { error: String(err) }));
    let outcome: { status: 'published' | 'cancelled'; histories: TryOutcome['histories'] };
    try {
      const wave = await startChild(waveWorkflow, {
        workflowId: intake.waveId,
        taskQueue: SUMMIT_QUEUE,
        args: [{ waveId: intake.waveId }],
        // The wave outlives a terminated try: its builds still end in a published or cancelled wave.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `wave ${intake.waveId} of try ${index}`,
      });
      outcome = await wave.result();
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // The hub started it (it saw the wave in the moment before intake marked it as the try's): follow the read model.
      for (;;) {
        const ended = await summit.tryWaveEnded(intake.waveId);
        if (ended) {
          outcome = ended;
          break;
        }
        await sleep(WAVE_RECHECK_MS);
      }
    }
    histories = outcome.histories;
    await summit.recordTry(input, { status: outcome.status === 'published' ? 'published' : 'cancelled', histories, reason: outcome.status === 'cancelled' ? 'its wave was cancelled' : null });
  } else {
    await summit.recordTry(input, { status: 'published', reason: 'nothing to build: no recipe of the ref has a newer release than the main line published' });
  }

  const { expiresAt } = await summit.tryExpiry(input);
  setCurrentDetails(`### Try \`${index}\`: published until ${expiresAt}\n${histories.map((h) => `- history \`${h.historyId}\``).join('\n')}`);
  const waitMs = Date.parse(expiresAt) - Date.now();
  if (waitMs > 0) await condition(() => expireBy !== undefined, waitMs);
  const removal = await vessel.removeTryIndex(index, false);
  await summit.recordTry(input, { expired: true, reason: expireBy ? `expired by ${expireBy}` : `expired at ${expiresAt}` });
  setCurrentDetails(`### Try \`${index}\`: expired\n- ${removal.histories} history(ies), ${removal.poolFiles} pool file(s) removed`);
  return { name: input.name, status: 'expired', histories, removal };
}

/**
 * The sweep of try indexes: every live try whose time has passed is expired (its index removed, its workflow told
 * to end), and every `try/` index folder no live try owns (a try whose workflow was terminated) is removed.
 * `dryRun` only says what would go.
 */
export async function trySweepWorkflow(input: TrySweepInput): Promise<TrySweepResult> {
  const { due, live } = await summit.triesDue();
  const result: TrySweepResult = { dryRun: input.dryRun, expired: [], orphans: [] };
  for (const t of due) {
    const removal = await vessel.removeTryIndex(t.index, input.dryRun);
    result.expired.push({ name: t.name, expiresAt: t.expiresAt, removal });
    if (input.dryRun) continue;
    await summit.recordTry({ name: t.name, seq: t.seq }, { expired: true, reason: `expired by the sweep (${input.by}); its time was ${t.expiresAt}` });
    await getExternalWorkflowHandle(tryWorkflowId(t.name, t.seq)).signal(tryExpireSignal, { by: input.by }).catch((err) => log.info('try workflow already gone', { name: t.name, error: String(err) }));
  }
  const owned = new Set(live);
  for (const index of await vessel.listTryIndexes()) {
    if (owned.has(index) || due.some((t) => t.index === index)) continue;
    result.orphans.push(await vessel.removeTryIndex(index, input.dryRun));
  }
  if (result.expired.some((e) => !e.removal.existed) && !input.dryRun) log.info('expired tries without an index', { names: result.expired.filter((e) => !e.removal.existed).map((e) => e.name) });
  return result;
}


