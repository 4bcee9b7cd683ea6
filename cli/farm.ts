import { parseCommandArgs, printJson } from './args';
import { connect, reasonBody } from './connect';
import type { Command } from './io';
import { formatTable, holdCell } from './table';

type Hold = { by: string; reason: string | null; at: string };
interface FarmState {
  paused: Hold | null;
  pausedRepositories: Array<Hold & { id: string }>;
  drainedBuilders: Array<Hold & { id: string }>;
  events: Array<{ subject: string; action: string; by: string; reason: string | null; at: string }>;
}

/** summit farm show [--json]: what admins hold back, and their newest actions. */
export const show: Command = async (args, io) => {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: 'no arguments' });
  const state = await (await connect(false)).get<FarmState>('/api/farm');
  if (values.json) {
    printJson(io.out, state);
    return 0;
  }
  io.out(`farm: ${state.paused ? `paused ${holdCell(state.paused)}` : 'running'}`);
  const held = [...state.pausedRepositories.map((h) => ({ what: `repository ${h.id}`, state: 'paused', h })), ...state.drainedBuilders.map((h) => ({ what: `builder ${h.id}`, state: 'drained', h }))];
  if (held.length > 0) io.out(formatTable([{ header: 'HELD', value: (x: (typeof held)[number]) => x.what }, { header: 'STATE', value: (x) => x.state }, { header: 'BY', value: (x) => holdCell(x.h) }], held));
  if (state.events.length > 0) {
    io.out('');
    io.out(formatTable([
      { header: 'AT', value: (e: FarmState['events'][number]) => e.at },
      { header: 'SUBJECT', value: (e) => e.subject },
      { header: 'ACTION', value: (e) => e.action },
      { header: 'BY', value: (e) => e.by },
      { header: 'REASON', value: (e) => e.reason, max: 60 },
    ], state.events));
  }
  return 0;
};

function hold(verb: 'pause' | 'resume'): Command {
  return async (args, io) => {
    const { values } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: 'no arguments' });
    const result = await (await connect(true)).post<{ changed: boolean }>(`/api/farm/${verb}`, reasonBody(values.reason));
    if (values.json) printJson(io.out, result);
    else io.out(`farm: ${verb === 'pause' ? 'paused: no new build starts; running builds finish' : 'resumed'}${result.changed ? '' : ' (already)'}`);
    return 0;
  };
}

/** summit farm pause|resume [--reason r] */
export const pause = hold('pause');
export const resume = hold('resume');
