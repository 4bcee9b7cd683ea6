import { parseCommandArgs, printJson } from './args';
import { connect, seg } from './connect';
import type { Command } from './io';
import { ago, formatTable } from './table';

/** A verification as the API shows it (db/verification-store.ts VerificationView): the fields printed here. */
interface VerificationItem {
  id: string;
  buildId: string;
  result: string;
  originalBuilder: string | null;
  verifier: string | null;
  reason: string | null;
  differenceCount: number;
  differences: Array<{ package: string; path: string; what: string[] }>;
  startedAt: string;
}

/** summit tasks verify <task id> [--json]: rebuild a published build on another builder and compare (admin). */
export const verify: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: '<task id>' });
  const started = await (await connect(true)).post<{ id: string; buildId: string; n: number }>(`/api/tasks/${seg(positionals[0])}/verify`, {});
  if (values.json) printJson(io.out, started);
  else io.out(`${started.buildId}: verification ${started.n} started (${started.id}); see summit verifications list`);
  return 0;
};

/** summit verifications list [--result r] [--repository r] [--builder b] [--limit n] [--json] */
export const list: Command = async (args, io) => {
  const { values } = parseCommandArgs(args, {
    result: { type: 'string' }, repository: { type: 'string' }, builder: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' },
  }, { min: 0, max: 0, names: 'no arguments' });
  const query = new URLSearchParams();
  for (const key of ['result', 'repository', 'builder', 'limit'] as const) if (values[key]) query.set(key, values[key]);
  const page = await (await connect(false)).get<{ items: VerificationItem[] }>(`/api/verifications${query.size > 0 ? `?${query}` : ''}`);
  if (values.json) {
    printJson(io.out, page);
    return 0;
  }
  io.out(formatTable([
    { header: 'TASK', value: (v: VerificationItem) => v.buildId },
    { header: 'RESULT', value: (v) => v.result },
    { header: 'BUILT BY', value: (v) => v.originalBuilder },
    { header: 'REBUILT BY', value: (v) => v.verifier },
    { header: 'STARTED', value: (v) => ago(v.startedAt) },
    { header: 'DIFFERS', value: (v) => (v.differenceCount > 0 ? `${v.differenceCount}: ${v.differences.slice(0, 3).map((d) => d.path).join(', ')}` : v.reason), max: 80 },
  ], page.items));
  return 0;
};
