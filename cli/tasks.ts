import { parseCommandArgs, printJson } from './args';
import { connect, reasonBody, seg } from './connect';
import { UsageError, type Command } from './io';
import { ago, formatTable } from './table';

/** A task as the API lists it: the fields these commands show. */
interface TaskItem {
  id: string;
  source: string;
  version: string;
  release: number;
  isa: string;
  status: string;
  priority: number;
  attempts: number;
  builder: string | null;
  reason: string | null;
  repository: string;
  commit: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const TASK_COLUMNS = [
  { header: 'TASK', value: (t: TaskItem) => t.id },
  { header: 'STATUS', value: (t: TaskItem) => t.status },
  { header: 'PRIO', value: (t: TaskItem) => t.priority, align: 'right' as const },
  { header: 'BUILDER', value: (t: TaskItem) => t.builder },
  { header: 'UPDATED', value: (t: TaskItem) => ago(t.updatedAt) },
  { header: 'REASON', value: (t: TaskItem) => t.reason, max: 70 },
];

/** summit tasks list [--status a,b] [--repository r] [--source s] [--limit n] [--cursor c] [--json] */
export const list: Command = async (args, io) => {
  const { values } = parseCommandArgs(args, {
    status: { type: 'string' }, repository: { type: 'string' }, source: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, json: { type: 'boolean' },
  }, { min: 0, max: 0, names: 'no arguments' });
  const query = new URLSearchParams();
  for (const key of ['status', 'repository', 'source', 'limit', 'cursor'] as const) if (values[key]) query.set(key, values[key]);
  const page = await (await connect(false)).get<{ items: TaskItem[]; total: number; nextCursor: string | null }>(`/api/tasks${query.size > 0 ? `?${query}` : ''}`);
  if (values.json) {
    printJson(io.out, page);
    return 0;
  }
  io.out(formatTable(TASK_COLUMNS, page.items));
  io.out(`${page.items.length} of ${page.total} task(s)${page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : ''}`);
  return 0;
};

/** summit tasks show <id> [--json] */
export const show: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: '<task id>' });
  const detail = await (await connect(false)).get<{ task: TaskItem; events: Array<{ from: string | null; to: string; reason: string | null; at: string }>; approval: { by: string; at: string } | null; verifications?: Array<{ n: number; result: string; verifier: string | null; reason: string | null; differenceCount: number; differences: Array<{ path: string; what: string[] }> }> }>(`/api/tasks/${seg(positionals[0])}`);
  if (values.json) {
    printJson(io.out, detail);
    return 0;
  }
  const t = detail.task;
  const fields: Array<[string, string | number | null]> = [
    ['task', t.id], ['source', `${t.source} ${t.version}-${t.release}`], ['isa', t.isa], ['repository', t.repository], ['commit', t.commit],
    ['status', t.status], ['priority', t.priority], ['attempts', t.attempts], ['builder', t.builder], ['reason', t.reason],
    ['approved', detail.approval ? `by ${detail.approval.by} ${ago(detail.approval.at)}` : null],
  ];
  io.out(formatTable([{ header: 'FIELD', value: (f: [string, string | number | null]) => f[0] }, { header: 'VALUE', value: (f) => f[1] }], fields).split('\n').slice(1).join('\n'));
  io.out('');
  io.out(formatTable([
    { header: 'AT', value: (e: (typeof detail.events)[number]) => e.at },
    { header: 'FROM', value: (e) => e.from },
    { header: 'TO', value: (e) => e.to },
    { header: 'REASON', value: (e) => e.reason, max: 100 },
  ], detail.events));
  // Verification builds (README, Verification builds): one line each, with the first differing files.
  if (detail.verifications?.length) {
    io.out('');
    io.out(formatTable([
      { header: 'VERIFICATION', value: (v: NonNullable<typeof detail.verifications>[number]) => v.n, align: 'right' as const },
      { header: 'RESULT', value: (v) => v.result },
      { header: 'REBUILT BY', value: (v) => v.verifier },
      { header: 'DETAIL', value: (v) => (v.differenceCount > 0 ? `${v.differenceCount} differ: ${v.differences.slice(0, 3).map((d) => `${d.path} (${d.what.join(', ')})`).join('; ')}` : v.reason), max: 100 },
    ], detail.verifications));
  }
  return 0;
};

function command(verb: 'retry' | 'cancel' | 'approve'): Command {
  return async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, max: 1, names: '<task id>' });
    if (verb !== 'approve' && values.reason) throw new UsageError(`--reason is not taken by ${verb}`);
    const result = await (await connect(true)).post<{ taskId: string; status: string }>(`/api/tasks/${seg(positionals[0])}/${verb}`, verb === 'approve' ? reasonBody(values.reason) : {});
    if (values.json) printJson(io.out, result);
    else io.out(`${result.taskId}: ${verb === 'approve' ? `approved (${result.status})` : result.status}`);
    return 0;
  };
}

/** summit tasks retry|cancel <id>, summit tasks approve <id> [--reason r] */
export const retry = command('retry');
export const cancel = command('cancel');
export const approve = command('approve');

/** summit tasks priority <id> <n> [--reason r]: higher first; a negative one after `--` (`-- <id> -5`). */
export const priority: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } }, { min: 2, max: 2, names: '<task id> <priority>' });
  const n = Number(positionals[1]);
  if (!Number.isInteger(n)) throw new UsageError(`the priority must be a whole number, not "${positionals[1]}"`);
  const result = await (await connect(true)).post<{ taskId: string; status: string; priority: number }>(`/api/tasks/${seg(positionals[0])}/priority`, { priority: n, ...reasonBody(values.reason) });
  if (values.json) printJson(io.out, result);
  else io.out(`${result.taskId}: priority ${result.priority} (${result.status})`);
  return 0;
};
