/**
 * What the farm's metrics say about a finished task, from its row in the read model (pure: the API's metrics
 * module feeds rows in, api/metrics.ts observes what comes out).
 *
 * - build duration: pickup (startedAt) → built (builtAt), or → finished for a build that failed on the builder;
 * - publish duration: built → finished (vessel's fetch, verification and import, with the publish window);
 * - a refusal: a task that failed after it was built, with vessel's reason (`vessel refused <file>: <reason>`,
 *   workflows/build.ts), counted by a small fixed set of kinds so a label never holds free text.
 */
export const REFUSAL_KINDS = ['hash_mismatch', 'size_mismatch', 'invalid_stone', 'file_name', 'architecture', 'release_rule', 'duplicate_package', 'no_packages', 'request', 'other'] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

const KIND_PATTERNS: ReadonlyArray<[RegExp, RefusalKind]> = [
  [/sha256 mismatch|hash mismatch/i, 'hash_mismatch'],
  [/size mismatch/i, 'size_mismatch'],
  [/not a valid stone/i, 'invalid_stone'],
  [/file name does not match/i, 'file_name'],
  [/architecture .* does not match/i, 'architecture'],
  [/is also in .*publishes each package once/i, 'duplicate_package'],
  [/no packages to import/i, 'no_packages'],
  [/published in history|release|older than|lower than/i, 'release_rule'],
  [/\(request\)|invalid import request/i, 'request'],
];

export function refusalKind(reason: string): RefusalKind {
  for (const [re, kind] of KIND_PATTERNS) if (re.test(reason)) return kind;
  return 'other';
}

export interface FinishedTaskRow {
  status: string;
  isa: string;
  reason: string | null;
  startedAt: Date | null;
  builtAt: Date | null;
  finishedAt: Date | null;
}

export interface TaskOutcome {
  build?: { seconds: number; outcome: 'built' | 'failed' };
  publish?: { seconds: number; outcome: 'published' | 'refused' | 'failed' };
  refusal?: RefusalKind;
}

const seconds = (from: Date, to: Date) => Math.max(0, (to.getTime() - from.getTime()) / 1000);

export function taskOutcome(t: FinishedTaskRow): TaskOutcome {
  const out: TaskOutcome = {};
  if (t.startedAt && t.builtAt) out.build = { seconds: seconds(t.startedAt, t.builtAt), outcome: 'built' };
  else if (t.startedAt && t.finishedAt && t.status === 'failed') out.build = { seconds: seconds(t.startedAt, t.finishedAt), outcome: 'failed' };
  if (t.builtAt && t.finishedAt && (t.status === 'completed' || t.status === 'failed')) {
    const refused = t.status === 'failed' && /^vessel refused /.test(t.reason ?? '');
    out.publish = { seconds: seconds(t.builtAt, t.finishedAt), outcome: t.status === 'completed' ? 'published' : refused ? 'refused' : 'failed' };
    if (refused) out.refusal = refusalKind(t.reason ?? '');
  }
  return out;
}
