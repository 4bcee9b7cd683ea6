import type { PruneResult, RepositoryHistory } from '../core/contracts/vessel';
import { ApiClient, resolveApiTarget } from './api-client';
import { parseCommandArgs, printJson } from './args';
import { UsageError, type Command, type CliIo } from './io';

/**
 * `summit index history|promote|tag|rollback|prune`: admin commands on a published repository (index), through the
 * API (cli/api-client.ts: SUMMIT_API_URL, SUMMIT_TOKEN or the data folder's admin token). Each prints the
 * repository's streams and tags afterwards (`--json`: the API's answer as is).
 */

async function client(): Promise<ApiClient> {
  return new ApiClient(await resolveApiTarget(process.env, { needToken: true }));
}

const path = (index: string, verb: string) => `/api/indexes/${encodeURIComponent(index)}/${verb}`;

function printHistory(io: CliIo, h: RepositoryHistory): void {
  const named = new Map<string, string[]>();
  for (const [kind, pointers] of [['stream', h.streams], ['tag', h.tags]] as const) {
    for (const [name, id] of Object.entries(pointers)) named.set(id, [...(named.get(id) ?? []), `${kind === 'stream' ? '' : 'tag:'}${name}`]);
  }
  io.out(`index ${h.index}: ${h.histories.length} histories`);
  for (const v of h.histories) {
    const packages = Object.entries(v.packages).map(([arch, n]) => `${n} ${arch}`).join(', ');
    const names = named.get(v.id);
    io.out(`  ${v.id.padStart(6)}  ${v.createdAt}  ${packages}${names ? `  ← ${names.join(', ')}` : ''}`);
  }
}

function historyCommand(verb: string, usage: { min: number; max: number; names: string }, options: Record<string, { type: 'boolean' | 'string' }>, body: (p: string[], v: Record<string, string | boolean | undefined>) => unknown): Command {
  return async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, ...options }, usage);
    const api = await client();
    const index = positionals[0];
    const result = verb === 'history' ? await api.get<RepositoryHistory>(path(index, 'history')) : await api.post<RepositoryHistory>(path(index, verb), body(positionals, values));
    if (values.json) printJson(io.out, result);
    else printHistory(io, result);
    return 0;
  };
}

export const history = historyCommand('history', { min: 1, max: 1, names: '<index>' }, {}, () => undefined);

export const promote = historyCommand('promote', { min: 1, max: 1, names: '<index>' }, { to: { type: 'string' }, from: { type: 'string' } }, (_p, v) => ({
  ...(v.to ? { to: v.to } : {}),
  ...(v.from ? { from: v.from } : {}),
}));

export const tag = historyCommand('tag', { min: 3, max: 3, names: '<index> <tag> <history>' }, { replace: { type: 'boolean' } }, (p, v) => ({
  tag: p[1],
  history: p[2],
  ...(v.replace ? { replace: true } : {}),
}));

export const rollback = historyCommand('rollback', { min: 3, max: 3, names: '<index> <stream> <history>' }, {}, (p) => ({ stream: p[1], history: p[2] }));

export const prune: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { keep: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, { min: 1, max: 1, names: '<index>' });
  const keep = Number(values.keep);
  if (!values.keep || !Number.isInteger(keep) || keep < 1) throw new UsageError('--keep N (a positive integer) is required');
  const result = await (await client()).post<PruneResult & { history: RepositoryHistory }>(path(positionals[0], 'prune'), { keep, dryRun: values['dry-run'] ?? false });
  if (values.json) {
    printJson(io.out, result);
    return 0;
  }
  const would = result.dryRun ? 'would remove' : 'removed';
  io.out(`index ${result.index}: ${would} ${result.removedHistories.length} histories (${result.removedHistories.join(', ') || 'none'}) and ${result.removedPoolFiles.length} pool files; kept ${result.kept.join(', ') || 'none'} (${result.tookMs} ms)`);
  for (const f of result.removedPoolFiles) io.out(`  ${f}`);
  return 0;
};
