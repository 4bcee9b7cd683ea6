import { parseCommandArgs, printJson } from './args';
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
