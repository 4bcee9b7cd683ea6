import { WAVE_DROPPED_TASK_STATUSES, WAVE_OPEN_TASK_STATUSES, type WaveCommandResult, type WaveProgress, type WaveStatus } from '../../core/contracts/wave';
import type { Store } from '../../db/store';
import type { WaveRow, WaveTaskRow } from '../../db/wave-store';
import { HubUnavailableError, type PipelineControl, type WaveCommandKind } from '../pipeline';

export type WaveSummary = Omit<WaveRow, 'publishedTasks'> & { progress: Omit<WaveProgress, 'waveId' | 'status' | 'etaMs'> };

const OPEN = new Set(WAVE_OPEN_TASK_STATUSES);
const DROPPED = new Set(WAVE_DROPPED_TASK_STATUSES);

/** Counts by status → the wave's progress (the estimate is the wave workflow's: GET /api/waves/:id). */
function progressOf(counts: Record<string, number>): WaveSummary['progress'] {
  const sum = (pred: (s: string) => boolean) => Object.entries(counts).filter(([s]) => pred(s)).reduce((n, [, c]) => n + c, 0);
  return {
    total: sum(() => true), done: counts.completed ?? 0, failed: counts.failed ?? 0, dropped: sum((s) => DROPPED.has(s)), open: sum((s) => OPEN.has(s)),
  };
}

/** Newest first, each with its progress (one count query for the page). */
export async function listWaves(store: Store, query: { limit: number; repository?: string; status?: WaveStatus[] }): Promise<{ items: WaveSummary[] }> {
  const rows = await store.waves.listWaves(query);
  const counts = await store.waves.countsOf(rows.map((w) => w.id));
  return { items: rows.map(({ publishedTasks: _published, ...w }) => ({ ...w, progress: progressOf(counts.get(w.id) ?? {}) })) };
}

export interface WaveDetail {
  wave: WaveRow;
  progress: WaveSummary['progress'];
  tasks: WaveTaskRow[];
  /** What the wave takes out of its indexes (recipes removed from the repository). */
  removals: WaveRow['removals'];
}

export async function waveDetail(store: Store, id: string): Promise<WaveDetail> {
  const wave = await store.waves.getWave(id);
  const tasks = await store.waves.tasksOf(id);
  const counts: Record<string, number> = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return { wave, progress: progressOf(counts), tasks, removals: wave.removals };
}

/** A command to the wave's workflow; an unknown wave is a 404 even while Temporal is down. */
export async function commandWave(deps: { store: Store; pipeline: PipelineControl }, kind: WaveCommandKind, id: string, by: string): Promise<WaveCommandResult> {
  const wave = await deps.store.waves.getWave(id);
  if (!deps.pipeline.wave) throw new HubUnavailableError('this API has no connection to the wave workflows');
  return deps.pipeline.wave(kind, { waveId: wave.id, by });
}
