import type { BuildPurpose } from './trust';

/**
 * Try-builds (issue 9, item 7): a branch or pull-request ref of a registered repository built into a throw-away
 * index `try/<name>`, never the main streams. Its recipes and tasks are kept under a key of their own (the try's
 * "repository" in the read model, `try~<name>~<seq>`), so its build ids never meet the main line's, and its tasks
 * carry `purpose: 'try'` (core/contracts/trust.ts). It builds only what differs from what the main line has
 * published (a newer release), on the baseline ISA level, with the main index as its build roots' baseline and as
 * the declared base of its closure check; it expires after a configured time (SUMMIT_TRY_TTL), when its index
 * folder (its histories and the pool files only it holds) is deleted.
 */
export const TRY_PURPOSE: BuildPurpose = 'try';
export const TRY_INDEX_PREFIX = 'try/';
/** Longest try name: it is part of an index folder, a build id and a workflow id. */
export const MAX_TRY_NAME_LENGTH = 60;
const TRY_NAME = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

export const TRY_WORKFLOW = 'tryWorkflow';
export const TRY_SWEEP_WORKFLOW = 'trySweepWorkflow';
/** Signal of the try workflow: expire now (an admin, or the sweep for a try whose time has passed). */
export const SIGNAL_TRY_EXPIRE = 'tryExpire';

/**
 * A try's life: `building` (its wave follows its builds), `published` (its index holds what it built, until it
 * expires), `cancelled` (its wave was cancelled), `failed` (its ref could not be read), `expired` (terminal: its
 * index was deleted).
 */
export const TRY_STATUSES = ['building', 'published', 'cancelled', 'failed', 'expired'] as const;
export type TryStatus = (typeof TRY_STATUSES)[number];

export function tryIndexOf(name: string): string {
  return `${TRY_INDEX_PREFIX}${name}`;
}

export function isTryIndex(index: string): boolean {
  return index.startsWith(TRY_INDEX_PREFIX);
}

/** The try's name from its index (`try/<name>` → `<name>`), or undefined for any other index. */
export function tryNameOf(index: string): string | undefined {
  return isTryIndex(index) ? index.slice(TRY_INDEX_PREFIX.length) : undefined;
}

/** Why `name` cannot name a try; undefined when it can (safe characters, no `..`, at most 60 characters). */
export function tryNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a try name may not be empty';
  if (name.length > MAX_TRY_NAME_LENGTH) return `the try name is ${name.length} characters long; at most ${MAX_TRY_NAME_LENGTH} are allowed`;
  if (!TRY_NAME.test(name)) return `try name ${JSON.stringify(name)} may hold only letters, digits and . _ + ~ - (starting with a letter or digit)`;
  if (name.includes('..')) return `try name ${JSON.stringify(name)} may not hold ".."`;
  return undefined;
}

/** The read model's key of a try's recipes and tasks (the `repository` of its tasks, part of their build ids). */
export function tryRepositoryKey(name: string, seq: number): string {
  return `try~${name}~${seq}`;
}

export function tryWorkflowId(name: string, seq: number): string {
  return `try-${name}-${seq}`;
}

/** What the API asks for (POST /api/repositories/:id/try). */
export interface TryRequest {
  repository: string;
  ref: string;
  name: string;
  by: string;
}

/** The try workflow's input: one try, recorded in the read model before the workflow starts. */
export interface TryInput {
  name: string;
  seq: number;
}

export interface TryIntakeResult {
  commit: string;
  /** Tasks made (recipes whose release is newer than the main line's published one). */
  tasks: number;
  /** The try's wave, null when nothing differs from the main line. */
  waveId: string | null;
}

/** What a try's index removal deleted (or would delete, in a dry run). */
export interface TryRemoval {
  index: string;
  /** Whether the index folder existed. */
  existed: boolean;
  histories: number;
  poolFiles: number;
  bytes: number;
}

export interface TrySweepInput {
  dryRun: boolean;
  by: string;
}

export interface TrySweepResult {
  dryRun: boolean;
  /** The tries whose time has passed: expired now (or that would be, in a dry run). */
  expired: Array<{ name: string; expiresAt: string; removal: TryRemoval }>;
  /** `try/` index folders no live try owns (left by a try whose workflow was terminated): removed too. */
  orphans: TryRemoval[];
}

/** Vessel's side of try-builds (activities/vessel/try-index.ts), on VESSEL_QUEUE. */
export interface VesselTryActivities {
  /** Delete a try index's folder (its histories, root index and pool); `dryRun` only counts. Idempotent. */
  removeTryIndex(index: string, dryRun: boolean): Promise<TryRemoval>;
  /** The try indexes that have a folder (`try/<name>`). */
  listTryIndexes(): Promise<string[]>;
}

/** Summit's side of try-builds (activities/summit/tries.ts): the read model and the try's intake. */
export interface SummitTryActivities {
  /** Read the try's ref, make its tasks and its wave (status `building`: the try workflow starts it). Idempotent. */
  tryIntake(input: TryInput): Promise<TryIntakeResult>;
  recordTry(input: TryInput, fields: { status?: TryStatus; histories?: Array<{ index: string; historyId: string }>; reason?: string | null; expired?: boolean }): Promise<void>;
  /** The try's wave once it has ended (null while it runs). */
  tryWaveEnded(waveId: string): Promise<{ status: 'published' | 'cancelled'; histories: Array<{ index: string; historyId: string }> } | null>;
  /** When the try expires (ISO), and whether it has already. */
  tryExpiry(input: TryInput): Promise<{ expiresAt: string; expired: boolean }>;
  /** Live tries whose time has passed, and the index of every live try. */
  triesDue(): Promise<{ due: Array<TryInput & { index: string; expiresAt: string }>; live: string[] }>;
}
