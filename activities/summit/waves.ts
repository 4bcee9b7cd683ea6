import type { ImportResult } from '../../core/contracts/build';
import type { ClosureReport } from '../../core/contracts/vessel';
import {
  FINISHED_WAVE_STATUSES,
  type PublishFinishedPlan,
  type PublishStagedResult,
  type WaveCommand,
  type WaveProgress,
  type WavePublishPlan,
  type WaveStatus,
  WAVE_DROPPED_TASK_STATUSES,
  WAVE_OPEN_TASK_STATUSES,
} from '../../core/contracts/wave';
import { NotFoundError, type Store } from '../../db/store';
import type { WaveBrief, WaveRow, WaveTaskRow } from '../../db/wave-store';
import { PastBuildTimes } from './past-build-times';

/** A builder heard from within this long counts for the estimate (the hub's own builder timeout). */
const LIVE_BUILDER_MS = 90_000;
/** Builds still to run with no past duration: this long each, for the estimate. */
const UNKNOWN_BUILD_SECONDS = 60;
/** The estimate is worked out again (and written) at most this often per wave; the counts are exact at every call. */
export const ESTIMATE_EVERY_MS = 2_000;

const OPEN = new Set(WAVE_OPEN_TASK_STATUSES);
const DROPPED = new Set(WAVE_DROPPED_TASK_STATUSES);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? UNKNOWN_BUILD_SECONDS : s[Math.floor(s.length / 2)];
}

/**
 * A build dispatched after its wave ended (unblocked when a dependency was fixed, retried) joins the next wave of
 * the same repository and commit, which the hub then starts: an ended wave publishes nothing more.
 */
export async function rejoinOpenWaves(store: Store, dispatch: ReadonlyArray<{ taskId: string; wave?: string }>): Promise<void> {
  const ended = new Map<string, string>();
  for (const waveId of new Set(dispatch.flatMap((d) => (d.wave ? [d.wave] : [])))) {
    const wave = await store.waves.brief(waveId);
    if (wave && FINISHED_WAVE_STATUSES.includes(wave.status as WaveStatus)) ended.set(waveId, (await store.waves.openWave(wave.repository, wave.commit, 'rejoin')).id);
  }
  if (ended.size === 0) return;
  for (const d of dispatch) {
    const next = d.wave && ended.get(d.wave);
    if (!next) continue;
    await store.waves.assign([d.taskId], next);
    d.wave = next;
  }
}

/**
 * The wave's activities (core/contracts/activities.ts, SummitActivities' wave part): what the wave workflow asks
 * of the read model. Each is idempotent.
 */
export function waveActivities(store: Store, opts: { now?: () => number } = {}) {
  const clock = opts.now ?? Date.now;
  const waves = store.waves;
  const pastBuildTimes = new PastBuildTimes((sources) => waves.buildSeconds(sources));

  /** The estimate last worked out for each wave still running (its open tasks read, the wave row written). */
  const estimates = new Map<string, { at: number; etaMs: number | null }>();

  /**
   * Past build times of each open source (median of the last few), minus what a running build has done; the sum
   * spread over the live builders' slots. Rough by design: dependencies may serialise some of it.
   */
  async function estimateMs(wave: WaveBrief): Promise<number> {
    const open = await waves.tasksIn(wave.id, [...OPEN]);
    const seconds = await pastBuildTimes.of(wave.id, [...new Set(open.map((t) => t.source))]);
    const slots = Math.max(1, await waves.liveSlots(LIVE_BUILDER_MS));
    const now = clock();
    const left = open.reduce((sum, t) => {
      const whole = median(seconds.get(t.source) ?? []);
      const ran = t.status === 'building' && t.startedAt ? (now - t.startedAt.getTime()) / 1000 : 0;
      return sum + (t.status === 'publishing' ? 1 : Math.max(1, whole - ran));
    }, 0);
    return Math.round((left / slots) * 1000);
  }

  /**
   * The wave's counts, exact at every call (one GROUP BY), and its estimate, worked out again and written at most
   * every ESTIMATE_EVERY_MS: a wave asks at every build's end, and its open tasks, the live slots and the write
   * were per build what the counts are per wave.
   */
  async function progressOf(wave: WaveBrief): Promise<WaveProgress> {
    const counts = await waves.statusCounts(wave.id);
    const sum = (pred: (status: string) => boolean) => counts.reduce((n, c) => n + (pred(c.status) ? c.n : 0), 0);
    const open = sum((s) => OPEN.has(s));
    const openByIndex: Record<string, number> = {};
    for (const index of [...counts.map((c) => c.index), ...wave.removals.map((r) => r.index)].sort()) openByIndex[index] ??= 0;
    for (const c of counts) if (OPEN.has(c.status)) openByIndex[c.index] += c.n;
    const finished = FINISHED_WAVE_STATUSES.includes(wave.status as WaveStatus);
    const last = estimates.get(wave.id);
    const now = clock();
    let etaMs: number | null;
    if (open === 0) etaMs = finished ? null : 0;
    else if (last && last.etaMs !== null && last.etaMs > 0 && now - last.at < ESTIMATE_EVERY_MS) etaMs = last.etaMs;
    else etaMs = await estimateMs(wave);
    if (!last || last.etaMs !== etaMs || now - last.at >= ESTIMATE_EVERY_MS) {
      await waves.setEstimate(wave.id, { etaMs, at: new Date(now).toISOString() });
      estimates.set(wave.id, { at: now, etaMs });
    }
    if (finished) estimates.delete(wave.id);
    return {
      openByIndex,
      waveId: wave.id, status: wave.status as WaveStatus, total: sum(() => true),
      done: sum((s) => s === 'completed'), failed: sum((s) => s === 'failed'),
      dropped: sum((s) => DROPPED.has(s)), open, etaMs,
    };
  }

  /** Built and staged, not yet published by this wave, and not superseded by a newer release. */
  async function publishable(wave: WaveRow, tasks: readonly WaveTaskRow[]): Promise<{ ready: WaveTaskRow[]; skipped: WavePublishPlan['skipped'] }> {
    const already = new Set(wave.publishedTasks);
    const staged = tasks.filter((t) => t.status === 'completed' && !already.has(t.id));
    const newer = await waves.newerReleases(staged);
    const skipped = staged.filter((t) => newer.has(t.id)).map((t) => ({ taskId: t.id, reason: `superseded by the newer ${newer.get(t.id)}: never published after it` }));
    return { ready: staged.filter((t) => !newer.has(t.id)), skipped };
  }

  function planOf(wave: WaveRow, ready: readonly WaveTaskRow[], skipped: WavePublishPlan['skipped'], withRemovals: boolean): WavePublishPlan {
    const byIndex = new Map<string, { buildIds: string[]; removals: string[] }>();
    const at = (index: string) => byIndex.get(index) ?? byIndex.set(index, { buildIds: [], removals: [] }).get(index)!;
    for (const t of ready) at(t.index).buildIds.push(t.id);
    if (withRemovals) for (const r of wave.removals) at(r.index).removals.push(...r.packages);
    return { indexes: [...byIndex].sort(([a], [b]) => (a < b ? -1 : 1)).map(([index, p]) => ({ index, ...p })), skipped };
  }

  /** The repository's declared base, on every index of the plan but its own (issue 9, item 6). */
  async function withBases(wave: WaveRow, plan: WavePublishPlan): Promise<WavePublishPlan> {
    const base = (await store.listRepositories()).find((r) => r.id === wave.repository)?.base;
    if (!base) return plan;
    return { ...plan, indexes: plan.indexes.map((i) => (i.index === base ? i : { ...i, bases: [base] })) };
  }

  return {
    async newWaves(filling: readonly string[] = []): Promise<string[]> {
      return waves.newWaves(filling);
    },

    async recordStaged(taskId: string, staged: ImportResult): Promise<void> {
      const published = staged.published.map((p) => ({ name: p.name, uri: p.uri, sha256: p.sha256, size: p.size }));
      await store.recordMove(taskId, 'publishing', 'completed', `built and staged in ${staged.index}; published with its wave`, { published });
    },

    async waveProgress(waveId: string, status?: WaveStatus): Promise<WaveProgress> {
      let wave: WaveBrief | null = await waves.brief(waveId);
      if (!wave) throw new NotFoundError('wave', waveId);
      if (status && status !== wave.status) wave = await waves.update(waveId, { status, ...(status === 'building' && !wave.startedAt ? { startedAt: new Date() } : {}) });
      return progressOf(wave);
    },

    async wavePublishPlan(waveId: string, index?: string): Promise<WavePublishPlan> {
      const wave = await waves.getWave(waveId);
      const tasks = (await waves.tasksOf(waveId)).filter((t) => index === undefined || t.index === index);
      const { ready, skipped } = await publishable(wave, tasks);
      const plan = await withBases(wave, planOf(wave, ready, skipped, true));
      return index === undefined ? plan : { ...plan, indexes: plan.indexes.filter((i) => i.index === index) };
    },

    /**
     * The finished part is closed under run-time dependencies when no package of it depends on something only a
     * build of this wave still to finish provides (what is published already, or built outside the wave, counts
     * as there). Removals wait for the wave's end.
     */
    async wavePublishFinishedPlan(waveId: string): Promise<PublishFinishedPlan> {
      const wave = await waves.getWave(waveId);
      const tasks = await waves.tasksOf(waveId);
      const { ready, skipped } = await publishable(wave, tasks);
      const recipes = new Map((await store.listRecipes(wave.repository)).map((r) => [r.source, r]));
      const provided = (sources: Iterable<string>): Map<string, string> => {
        const out = new Map<string, string>();
        for (const source of sources) {
          for (const p of recipes.get(source)?.packages ?? []) for (const name of [p.name, ...p.provides]) out.set(name, source);
        }
        return out;
      };
      const readySources = new Set(ready.map((t) => t.source));
      const pending = provided(tasks.filter((t) => OPEN.has(t.status) && !readySources.has(t.source)).map((t) => t.source));
      const have = provided(readySources);
      const missing = new Map<string, Set<string>>();
      for (const source of readySources) {
        for (const p of (recipes.get(source))?.packages ?? []) {
          for (const dep of p.depends) {
            if (have.has(dep) || !pending.has(dep)) continue;
            (missing.get(dep) ?? missing.set(dep, new Set()).get(dep)!).add(p.name);
          }
        }
      }
      if (missing.size > 0) return { ok: false, missing: [...missing].sort(([a], [b]) => (a < b ? -1 : 1)).map(([dependency, by]) => ({ dependency, neededBy: [...by].sort() })) };
      return { ok: true, plan: await withBases(wave, planOf(wave, ready, skipped, false)) };
    },

    async recordWavePublished(waveId: string, written: PublishStagedResult[], plan: WavePublishPlan, final: boolean): Promise<void> {
      const wave = await waves.getWave(waveId);
      const refused = new Set(written.flatMap((w) => w.refused.map((r) => r.buildId)));
      const at = new Date().toISOString();
      const histories = [...wave.histories];
      for (const w of written) {
        const builds = plan.indexes.find((i) => i.index === w.index)?.buildIds.filter((id) => !refused.has(id)).length ?? 0;
        if (w.changed && w.historyId && !histories.some((h) => h.index === w.index && h.historyId === w.historyId)) {
          histories.push({ index: w.index, historyId: w.historyId, builds, at, ...(w.resolvedByBase ? { resolvedByBase: w.resolvedByBase } : {}) });
        }
      }
      const publishedTasks = [...new Set([...wave.publishedTasks, ...plan.indexes.flatMap((i) => i.buildIds).filter((id) => !refused.has(id))])];
      const known = new Set(wave.skipped.map((s) => s.taskId));
      const skipped = [...wave.skipped, ...[...plan.skipped, ...written.flatMap((w) => w.refused.map((r) => ({ taskId: r.buildId, reason: `vessel refused it: ${r.reason}` })))].filter((s) => !known.has(s.taskId))];
      await waves.update(waveId, { histories, publishedTasks, skipped, ...(final ? { status: 'published' as const, closure: null } : {}) });
    },

    async recordWaveClosure(waveId: string, reports: ClosureReport[] | null): Promise<void> {
      await waves.update(waveId, { closure: reports, status: reports ? 'waiting-for-closure' : 'publishing' });
    },

    async cancelWave(cmd: WaveCommand): Promise<{ inFlight: string[] }> {
      const inFlight: string[] = [];
      for (const t of await waves.tasksOf(cmd.waveId)) {
        if (!OPEN.has(t.status) && t.status !== 'blocked') continue;
        const r = await store.moveTask(t.id, 'cancelled', `its wave ${cmd.waveId} was cancelled by ${cmd.by}`, {}, { onlyFrom: ['new', 'blocked', 'queued', 'building', 'publishing'] });
        if (r.moved && (r.from === 'queued' || r.from === 'building' || r.from === 'publishing')) inFlight.push(t.id);
      }
      await waves.update(cmd.waveId, { status: 'cancelled', reason: `cancelled by ${cmd.by}` });
      return { inFlight };
    },
  };
}
