import { ApiClient, resolveApiTarget } from './api-client';
import { parseCommandArgs, printJson } from './args';
import type { CliIo } from './io';
import { formatTable } from './table';
import type { TryView } from '../api/services/tries';
import type { TrySweepResult } from '../core/contracts/try';

/** What the API answers for a try, and for a sweep (one definition, shared with the API). */
type TryJson = TryView;
type SweepJson = TrySweepResult;

/** summit try <repository> <ref> [--name n] [--ttl 2d] [--json]: start a try-build of a branch or pull-request ref. */
export async function start(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { name: { type: 'string' }, ttl: { type: 'string' }, json: { type: 'boolean' } }, { min: 2, max: 2, names: 'a repository id and a ref' });
  const client = new ApiClient(await resolveApiTarget());
  const body = { ref: positionals[1], ...(values.name ? { name: values.name } : {}), ...(values.ttl ? { ttl: values.ttl } : {}) };
  const started = await client.post<TryJson>(`/api/repositories/${encodeURIComponent(positionals[0])}/try`, body);
  if (values.json) {
    printJson(io.out, started);
    return 0;
  }
  io.out(`try ${started.name}: ${started.repository} ${started.ref} builds into index ${started.index} (expires ${started.expiresAt})`);
  io.out(`follow it: summit tries list, GET /api/tries/${encodeURIComponent(started.name)}`);
  return 0;
}

/** summit tries list [--all] [--repository r] [--json]: live tries (all with --all), newest first. */
export async function list(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { all: { type: 'boolean' }, repository: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: 'no arguments' });
  const client = new ApiClient(await resolveApiTarget());
  const q = new URLSearchParams();
  if (!values.all) q.set('live', 'true');
  if (values.repository) q.set('repository', values.repository);
  const page = await client.get<{ items: TryJson[] }>(`/api/tries${q.size > 0 ? `?${q}` : ''}`);
  if (values.json) {
    printJson(io.out, page);
    return 0;
  }
  if (page.items.length === 0) {
    io.out('no tries');
    return 0;
  }
  io.out(formatTable<TryJson>([
    { header: 'INDEX', value: (t) => t.index },
    { header: 'STATUS', value: (t) => t.status },
    { header: 'REPOSITORY', value: (t) => t.repository },
    { header: 'REF', value: (t) => t.ref, max: 40 },
    { header: 'COMMIT', value: (t) => t.commit?.slice(0, 12) },
    { header: 'BUILDS', value: (t) => t.tasks, align: 'right' },
    { header: 'HISTORIES', value: (t) => t.histories.map((h) => h.historyId).join(' ') },
    { header: 'EXPIRES', value: (t) => t.expiresAt },
  ], page.items));
  return 0;
}

/** summit tries expire <name> [--json]: expire a try now (admin); its index is removed. */
export async function expire(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: 'a try name' });
  const client = new ApiClient(await resolveApiTarget());
  const t = await client.post<TryJson>(`/api/tries/${encodeURIComponent(positionals[0])}/expire`);
  if (values.json) printJson(io.out, t);
  else io.out(`try ${t.name}: expiring; ${t.index} is being removed`);
  return 0;
}

/** summit tries sweep [--dry-run] [--json]: expire the tries whose time has passed, remove orphaned try indexes. */
export async function sweep(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: 'no arguments' });
  const client = new ApiClient(await resolveApiTarget());
  const result = await client.post<SweepJson>('/api/tries/sweep', { dryRun: values['dry-run'] ?? false });
  if (values.json) {
    printJson(io.out, result);
    return 0;
  }
  const verb = result.dryRun ? 'would remove' : 'removed';
  for (const e of result.expired) io.out(`${verb} ${e.removal.index} (expired ${e.expiresAt}): ${e.removal.histories} history(ies), ${e.removal.poolFiles} pool file(s), ${e.removal.bytes} bytes`);
  for (const o of result.orphans) io.out(`${verb} ${o.index} (no live try owns it): ${o.histories} history(ies), ${o.poolFiles} pool file(s), ${o.bytes} bytes`);
  if (result.expired.length === 0 && result.orphans.length === 0) io.out('nothing to sweep');
  return 0;
}
