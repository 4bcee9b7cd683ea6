import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, resolveApiTarget } from './api-client';
import { parseCommandArgs, printJson } from './args';
import type { CliIo } from './io';

/** What the API answers for a wave (GET /api/waves, /api/waves/:id); see api/services/waves.ts. */
interface WaveJson {
  id: string;
  repository: string;
  commit: string;
  status: string;
  origin: string;
  createdAt: string;
  estimate: { etaMs: number | null; at: string } | null;
  histories: Array<{ index: string; historyId: string; builds: number }>;
  closure: Array<{ index: string; unresolved: Array<{ dependency: string; neededBy: string[] }> }> | null;
  removals: Array<{ index: string; source: string; packages: string[] }>;
}
interface Progress {
  total: number;
  done: number;
  failed: number;
  dropped: number;
  open: number;
}

const ENDED = new Set(['published', 'cancelled']);

function eta(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return ms < 60_000 ? ` · ~${Math.max(1, Math.round(ms / 1000))} s left` : ` · ~${Math.round(ms / 60_000)} min left`;
}

/** `[#######-------] 7/14 built, 1 failed, 6 to go · building · ~3 min left` */
export function progressLine(wave: Pick<WaveJson, 'status' | 'estimate'>, p: Progress, width = 30): string {
  const ended = p.done + p.failed + p.dropped;
  const filled = p.total === 0 ? width : Math.round((ended / p.total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} built, ${p.failed} failed, ${p.dropped} dropped, ${p.open} to go · ${wave.status}${ENDED.has(wave.status) ? '' : eta(wave.estimate?.etaMs)}`;
}

/** summit waves list [--json] [--limit N] [--repository R] */
export async function list(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' }, limit: { type: 'string' }, repository: { type: 'string' } }, { min: 0, max: 0, names: 'no arguments' });
  const client = new ApiClient(await resolveApiTarget());
  const q = new URLSearchParams();
  if (values.limit) q.set('limit', values.limit);
  if (values.repository) q.set('repository', values.repository);
  const page = await client.get<{ items: Array<WaveJson & { progress: Progress }> }>(`/api/waves${q.size > 0 ? `?${q}` : ''}`);
  if (values.json) {
    printJson(io.out, page);
    return 0;
  }
  if (page.items.length === 0) {
    io.out('no waves');
    return 0;
  }
  const rows = page.items.map((w) => [w.id, w.status, `${w.progress.done}/${w.progress.total}`, String(w.progress.failed), w.histories.map((h) => `${h.index}@${h.historyId}`).join(' ') || '-', w.createdAt]);
  const head = ['WAVE', 'STATUS', 'BUILT', 'FAILED', 'HISTORIES', 'CREATED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) io.out(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  return 0;
}

/** summit waves watch <id> [--every SECONDS]: one progress line per change until the wave ends; exit 1 if cancelled. */
export async function watch(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { every: { type: 'string' } }, { min: 1, max: 1, names: 'a wave id' });
  const everyMs = Math.max(200, Number(values.every ?? '2') * 1000) || 2000;
  const client = new ApiClient(await resolveApiTarget());
  let last = '';
  for (;;) {
    const detail = await client.get<{ wave: WaveJson; progress: Progress }>(`/api/waves/${encodeURIComponent(positionals[0])}`);
    const line = progressLine(detail.wave, detail.progress);
    if (line !== last) io.out(line);
    last = line;
    if (detail.wave.status === 'waiting-for-closure') {
      for (const r of detail.wave.closure ?? []) for (const u of r.unresolved) io.out(`  waiting: ${r.index}: ${u.dependency} needed by ${u.neededBy.join(', ')}`);
    }
    if (ENDED.has(detail.wave.status)) {
      for (const h of detail.wave.histories) io.out(`published ${h.builds} build(s) in ${h.index} history ${h.historyId}`);
      for (const r of detail.wave.removals) io.out(`removed ${r.packages.join(', ')} (${r.source}) from ${r.index}`);
      return detail.wave.status === 'published' ? 0 : 1;
    }
    await sleep(everyMs);
  }
}

/** summit waves cancel <id> */
export async function cancel(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: 'a wave id' });
  const client = new ApiClient(await resolveApiTarget(process.env, { needToken: true }));
  const result = await client.post<{ waveId: string; status: string }>(`/api/waves/${encodeURIComponent(positionals[0])}/cancel`);
  if (values.json) printJson(io.out, result);
  else io.out(`${result.waveId}: ${result.status}`);
  return 0;
}
