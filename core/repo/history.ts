import { FORMAT_V0, type RootIndex } from '../formats/root-index';

/**
 * History bookkeeping on the root index (FORMATS.md §6). Every import that changes the published set creates a new,
 * immutable history version; `volatile` then points at it. History ids are decimal integers that only grow.
 *
 * AerynOS vessel uses the Unix time in seconds as the id (and sleeps a second when two imports land in the same
 * one). We count instead — 1, 2, 3 … — so ids are dense, ordered, and independent of the clock; an id that ever
 * appeared on disk is never reused, even for a history a crash left half-written (see nextHistoryId).
 */

export const VOLATILE = 'volatile';
export const UNSTABLE = 'unstable';
export const STREAMS = [VOLATILE, UNSTABLE] as const;
export type StreamName = (typeof STREAMS)[number];

const HISTORY_ID = /^[1-9][0-9]{0,15}$/;

export function isHistoryId(value: string): boolean {
  return HISTORY_ID.test(value);
}

/** History ids of the root index, oldest first. */
export function historyIds(root: RootIndex): string[] {
  return Object.keys(root.history).filter(isHistoryId).sort((a, b) => Number(a) - Number(b));
}

/**
 * The id of the next history version: one above every id the root index knows *and* every id found on disk
 * (`onDisk`, the names under `history/`), so a folder left by an import that crashed before publishing is never
 * overwritten by a different set of packages.
 */
export function nextHistoryId(root: RootIndex, onDisk: readonly string[] = []): string {
  let max = 0;
  for (const id of [...Object.keys(root.history), ...onDisk]) if (isHistoryId(id)) max = Math.max(max, Number(id));
  return String(max + 1);
}

/** The history volatile points at: what the repository publishes now, and the base of the next import. */
export function volatileHistory(root: RootIndex): string | undefined {
  return root.streams[VOLATILE]?.history;
}

/** A root index with a new history version recorded and `volatile` moved onto it (returns a new object). */
export function recordHistory(root: RootIndex, id: string): RootIndex {
  if (!isHistoryId(id)) throw new Error(`history id "${id}" is not a positive integer`);
  if (root.history[id]) throw new Error(`history ${id} exists already: history versions are immutable`);
  const newest = historyIds(root).at(-1);
  if (newest !== undefined && Number(id) <= Number(newest)) throw new Error(`history ${id} is not newer than history ${newest}`);
  return {
    ...root,
    formats: { ...root.formats },
    history: { ...root.history, [id]: { format: FORMAT_V0 } },
    streams: { ...root.streams, [VOLATILE]: { format: FORMAT_V0, history: id } },
    tags: { ...root.tags },
  };
}
