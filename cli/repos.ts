import { parseCommandArgs, printJson } from './args';
import { connect, reasonBody, seg } from './connect';
import { UsageError, type Command } from './io';
import { ago, formatTable, holdCell } from './table';

interface RepositoryItem {
  id: string;
  project: string;
  url: string;
  ref: string;
  lastCommit: string | null;
  lastRefreshAt: string | null;
  paused: { by: string; reason: string | null; at: string } | null;
  protectedPackages: string[];
}

/** summit repos list [--json] */
export const list: Command = async (args, io) => {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: 'no arguments' });
  const { items } = await (await connect(false)).get<{ items: RepositoryItem[] }>('/api/repositories');
  if (values.json) {
    printJson(io.out, { items });
    return 0;
  }
  io.out(formatTable([
    { header: 'REPOSITORY', value: (r: RepositoryItem) => r.id },
    { header: 'PROJECT', value: (r) => r.project },
    { header: 'REF', value: (r) => r.ref },
    { header: 'COMMIT', value: (r) => r.lastCommit?.slice(0, 12) },
    { header: 'REFRESHED', value: (r) => ago(r.lastRefreshAt) },
    { header: 'PAUSED', value: (r) => holdCell(r.paused), max: 50 },
    { header: 'PROTECTED', value: (r) => r.protectedPackages.join(' '), max: 40 },
    { header: 'URL', value: (r) => r.url },
  ], items));
  return 0;
};

/** summit repos add <id> --project p --url u [--ref r] [--cascade] [--networking] [--promote unstable] [--base <index>] [--verify-rate 0..1] [--verify-packages a,b] */
export const add: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, {
    project: { type: 'string' }, url: { type: 'string' }, ref: { type: 'string' }, cascade: { type: 'boolean' }, networking: { type: 'boolean' }, promote: { type: 'string' }, base: { type: 'string' }, json: { type: 'boolean' },
    'verify-rate': { type: 'string' }, 'verify-packages': { type: 'string' },
  }, { min: 1, max: 1, names: '<repository id>' });
  // The verification policy (README, Verification builds); the API checks the rate's range and the names.
  const rate = values['verify-rate'];
  if (rate !== undefined && !Number.isFinite(Number(rate))) throw new UsageError(`--verify-rate takes a number from 0 to 1, not "${rate}"`);
  const packages = values['verify-packages']?.split(',').map((p) => p.trim()).filter(Boolean);
  const verify = rate !== undefined || packages ? { verify: { ...(rate !== undefined ? { sampleRate: Number(rate) } : {}), ...(packages ? { packages } : {}) } } : {};
  const body = {
    id: positionals[0], project: values.project, url: values.url, ...(values.ref ? { ref: values.ref } : {}), ...(values.cascade ? { cascade: true } : {}), ...(values.networking ? { networking: true } : {}),
    ...(values.promote ? { promote: values.promote } : {}), ...(values.base ? { base: values.base } : {}), ...verify,
  };
  const repo = await (await connect(true)).post<RepositoryItem>('/api/repositories', body);
  if (values.json) printJson(io.out, repo);
  else io.out(`${repo.id}: registered (${repo.url} ${repo.ref}); "summit repos refresh ${repo.id}" reads it now, the poll Schedule later`);
  return 0;
};

/** summit repos refresh <id> */
export const refresh: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: '<repository id>' });
  const result = await (await connect(true)).post<Record<string, unknown>>(`/api/repositories/${seg(positionals[0])}/refresh`);
  if (values.json) printJson(io.out, result);
  else io.out(`${positionals[0]}: refresh asked`);
  return 0;
};

/** summit repos remove <id> */
export const remove: Command = async (args, io) => {
  const { positionals } = parseCommandArgs(args, {}, { min: 1, max: 1, names: '<repository id>' });
  await (await connect(true)).delete(`/api/repositories/${seg(positionals[0])}`);
  io.out(`${positionals[0]}: removed`);
  return 0;
};

function hold(verb: 'pause' | 'resume'): Command {
  return async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, max: 1, names: '<repository id>' });
    const result = await (await connect(true)).post<{ repository: string; changed: boolean }>(`/api/repositories/${seg(positionals[0])}/${verb}`, reasonBody(values.reason));
    if (values.json) printJson(io.out, result);
    else io.out(`${result.repository}: ${verb === 'pause' ? 'paused' : 'resumed'}${result.changed ? '' : ' (already)'}`);
    return 0;
  };
}

/** summit repos pause|resume <id> [--reason r] */
export const pause = hold('pause');
export const resume = hold('resume');

/** summit repos protect <id> [package or glob]... [--reason r]: none given removes the protection. */
export const protect: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, names: '<repository id> [package]...' });
  const [id, ...packages] = positionals;
  const result = await (await connect(true)).post<{ repository: string; protectedPackages: string[] }>(`/api/repositories/${seg(id)}/protect`, { packages, ...reasonBody(values.reason) });
  if (values.json) printJson(io.out, result);
  else io.out(result.protectedPackages.length > 0 ? `${id}: builds of ${result.protectedPackages.join(', ')} wait for an admin's approval` : `${id}: nothing protected`);
  return 0;
};
