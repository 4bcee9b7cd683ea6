import { parseCommandArgs, printJson } from './args';
import { UsageError } from './io';
import { connect, reasonBody, seg } from './connect';
import type { Command } from './io';
import { ago, formatTable, holdCell } from './table';

interface BuilderItem {
  id: string;
  host: string;
  isaLevels: string[];
  slots: number;
  busy: number;
  diskFree: number | null;
  lastSeen: string;
  drained: { by: string; reason: string | null; at: string } | null;
  trust: string | null;
  state: string;
}

const gib = (bytes: number | null) => (bytes === null ? '-' : `${(bytes / 2 ** 30).toFixed(1)} GiB`);

/** summit builders list [--json] */
export const list: Command = async (args, io) => {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: 'no arguments' });
  const { items } = await (await connect(false)).get<{ items: BuilderItem[] }>('/api/builders');
  if (values.json) {
    printJson(io.out, { items });
    return 0;
  }
  io.out(formatTable([
    { header: 'BUILDER', value: (b: BuilderItem) => b.id },
    { header: 'HOST', value: (b) => b.host },
    { header: 'TRUST', value: (b) => b.trust ?? '-' },
    { header: 'STATE', value: (b) => b.state },
    { header: 'ISA', value: (b) => b.isaLevels.join(',') },
    { header: 'BUSY', value: (b) => `${b.busy}/${b.slots}`, align: 'right' },
    { header: 'DISK FREE', value: (b) => gib(b.diskFree), align: 'right' },
    { header: 'LAST SEEN', value: (b) => ago(b.lastSeen) },
    { header: 'DRAINED', value: (b) => holdCell(b.drained), max: 60 },
  ], items));
  return 0;
};

function hold(verb: 'drain' | 'resume'): Command {
  return async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, max: 1, names: '<builder id>' });
    const result = await (await connect(true)).post<{ builder: string; changed: boolean }>(`/api/builders/${seg(positionals[0])}/${verb}`, reasonBody(values.reason));
    if (values.json) printJson(io.out, result);
    else io.out(`${result.builder}: ${verb === 'drain' ? 'drained' : 'takes work'}${result.changed ? '' : ' (already)'}`);
    return 0;
  };
}

/** summit builders drain|resume <id> [--reason r] */
export const drain = hold('drain');
export const resume = hold('resume');

/** summit builders enrol-token --trust trusted|community [--expires 12h] [--json]: a one-time enrolment token, shown once. */
export const enrolToken: Command = async (args, io) => {
  const { values } = parseCommandArgs(args, { trust: { type: 'string' }, expires: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: 'no arguments' });
  if (values.trust !== 'trusted' && values.trust !== 'community') throw new UsageError('--trust trusted|community is required');
  const made = await (await connect(true)).post<{ id: string; token: string; trust: string; expiresAt: string }>('/api/builders/enrolments', {
    trust: values.trust, ...(values.expires ? { expiresIn: values.expires } : {}),
  });
  if (values.json) printJson(io.out, made);
  else {
    io.out(`enrolment ${made.id}: one builder enrols as ${made.trust} with it until ${made.expiresAt} (shown only this once):`);
    io.out(made.token);
    io.out('start the builder with SUMMIT_ENROL_TOKEN=<token>; it keeps its own credential in its data folder afterwards');
  }
  return 0;
};

/** summit builders trust <id> trusted|community [--reason r] [--json] */
export const trust: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } }, { min: 2, max: 2, names: '<builder id> trusted|community' });
  const [id, level] = positionals;
  if (level !== 'trusted' && level !== 'community') throw new UsageError(`the trust level is trusted or community, not "${level}"`);
  const result = await (await connect(true)).post<{ builder: string; trust: string; changed: boolean }>(`/api/builders/${seg(id)}/trust`, { trust: level, ...reasonBody(values.reason) });
  if (values.json) printJson(io.out, result);
  else io.out(`${result.builder}: ${result.trust}${result.changed ? '' : ' (already)'}`);
  return 0;
};

/** summit builders revoke <id> [--reason r] [--json] */
export const revoke: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, max: 1, names: '<builder id>' });
  const result = await (await connect(true)).post<{ builder: string; changed: boolean }>(`/api/builders/${seg(positionals[0])}/revoke`, reasonBody(values.reason));
  if (values.json) printJson(io.out, result);
  else io.out(`${result.builder}: revoked${result.changed ? '; it takes nothing new and its running builds are stopped and requeued' : ' (already)'}`);
  return 0;
};
