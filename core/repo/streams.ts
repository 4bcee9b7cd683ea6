import type { RootIndex } from '../formats/root-index';
import { STREAMS, UNSTABLE, VOLATILE, type StreamName } from './history';

/**
 * Admin commands on a repository's streams and tags: pure functions from one root index to the next.
 *
 * - `volatile` follows every import by itself; an admin may still roll it back (the next import then builds on
 *   the history it was rolled back to, as AerynOS vessel bases each import on volatile's history).
 * - `unstable` moves only by an admin's word: promoted from volatile, or rolled back/forward to any history.
 * - Tags name a history for good. As in AerynOS vessel (`db::add_tag`), creating a tag that exists is refused,
 *   unless it already names that very history (a repeated command is harmless); moving a tag is an explicit
 *   `replace`, so nobody re-points a release tag by accident.
 */

export class StreamCommandError extends Error {
  override readonly name = 'StreamCommandError';
}

/** Tag names follow AerynOS's identifier rule `[a-zA-Z0-9][a-zA-Z0-9-]*`, so they are safe in paths and URLs. */
const TAG = /^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/;

export function isStreamName(value: string): value is StreamName {
  return (STREAMS as readonly string[]).includes(value);
}

function requireHistory(root: RootIndex, historyId: string): { format: string } {
  const h = root.history[historyId];
  if (!h) throw new StreamCommandError(`history ${historyId} does not exist (known: ${Object.keys(root.history).join(', ') || 'none'})`);
  return h;
}

function requireStream(stream: string): StreamName {
  if (!isStreamName(stream)) throw new StreamCommandError(`"${stream}" is not a stream (streams: ${STREAMS.join(', ')})`);
  return stream;
}

/** Point a stream at an existing history version (a rollback, or a roll forward). */
export function pointStream(root: RootIndex, stream: string, historyId: string): RootIndex {
  const name = requireStream(stream);
  const { format } = requireHistory(root, historyId);
  return { ...root, streams: { ...root.streams, [name]: { format, history: historyId } } };
}

/** `to` (unstable by default) takes the history `from` (volatile by default) points at now. */
export function promote(root: RootIndex, to: string = UNSTABLE, from: string = VOLATILE): RootIndex {
  const target = requireStream(to);
  const source = requireStream(from);
  if (target === source) throw new StreamCommandError(`cannot promote ${source} onto itself`);
  const p = root.streams[source];
  if (!p) throw new StreamCommandError(`stream ${source} points at no history yet: nothing to promote`);
  return pointStream(root, target, p.history);
}

export function tagHistory(root: RootIndex, tag: string, historyId: string, options: { replace?: boolean } = {}): RootIndex {
  if (!TAG.test(tag)) throw new StreamCommandError(`tag "${tag}" must match [a-zA-Z0-9][a-zA-Z0-9-]* (at most 100 characters)`);
  if (isStreamName(tag)) throw new StreamCommandError(`"${tag}" is a stream name and cannot be a tag`);
  const { format } = requireHistory(root, historyId);
  const existing = root.tags[tag];
  if (existing && existing.history !== historyId && !options.replace) {
    throw new StreamCommandError(`tag ${tag} already names history ${existing.history}; pass replace to move it to ${historyId}`);
  }
  return { ...root, tags: { ...root.tags, [tag]: { format, history: historyId } } };
}

export function removeTag(root: RootIndex, tag: string): RootIndex {
  if (!root.tags[tag]) throw new StreamCommandError(`tag ${tag} does not exist`);
  const tags = { ...root.tags };
  delete tags[tag];
  return { ...root, tags };
}
