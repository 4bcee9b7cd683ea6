import type { IndexEntry } from '../formats/repo-index';
import type { PackageMeta } from '../formats/stone/meta';
import { fileNameMatches, indexUri, poolPath, poolPathProblem, stoneFileName } from './pool';

/**
 * Which packages of a build may enter a repository, judged against what it publishes now (the stone.index of the
 * history version the `volatile` stream points at).
 *
 * The rules, per package name and architecture:
 * - not published yet → added;
 * - published with the very same sha256 → unchanged (re-importing the same file is a no-op, never an error, so a
 *   retried or replayed import converges);
 * - a lower source release than the published one → refused (the repository never goes backwards);
 * - the same source release needs a higher build release → replaced; an equal or lower one is refused;
 * - a higher source release → replaced;
 * - published by a different source → refused: releases of two recipes cannot be compared.
 *
 * The version string plays no part: `release` is the number every recipe change bumps, so it alone orders builds.
 *
 * AerynOS vessel (`crates/vessel/src/channel.rs`, `import_package`) differs in two ways we chose not to follow:
 * it *skips* (with a warning) any package whose source release equals the published one, whatever its build
 * release, and reports nothing back to the hub. Summit needs a verdict it can show, so a same-release rebuild is
 * accepted when its build release is higher (FORMATS.md §6) and every refusal carries its reason.
 */

/** One verified package of a build, ready to be judged. */
export interface Candidate {
  /** The artefact's file name, which refusals name. */
  file: string;
  meta: PackageMeta;
  sha256: string;
  size: number;
}

export type Verdict =
  | { action: 'add'; entry: IndexEntry }
  | { action: 'replace'; entry: IndexEntry; previous: IndexEntry }
  | { action: 'unchanged'; entry: IndexEntry }
  | { action: 'refuse'; reason: string };

/** Every published package, by architecture. */
export type PublishedSet = Readonly<Record<string, readonly IndexEntry[]>>;

export interface Refusal {
  file: string;
  reason: string;
}

const release = (m: Pick<PackageMeta, 'version' | 'release' | 'buildRelease'>): string => `${m.version}-${m.release}-${m.buildRelease}`;

/** The index entry a candidate becomes: its own meta plus where it lives, its sha256 and its size. */
export function entryFor(c: Candidate): IndexEntry {
  return { ...c.meta, uri: indexUri(poolPath(c.meta, c.file)), hash: c.sha256, size: c.size };
}

export function judgePackage(published: IndexEntry | undefined, c: Candidate): Verdict {
  const problem = poolPathProblem(c.meta);
  if (problem) return { action: 'refuse', reason: `${c.file}: ${problem}` };
  if (!fileNameMatches(c.file, c.meta)) return { action: 'refuse', reason: `${c.file}: file name does not match the package's meta, which names ${stoneFileName(c.meta)}` };
  const entry = entryFor(c);
  if (!published) return { action: 'add', entry };
  if (published.hash === c.sha256) return { action: 'unchanged', entry: published };
  const m = c.meta;
  const was = `${published.name} ${release(published)}`;
  if (published.sourceId !== m.sourceId) {
    return { action: 'refuse', reason: `${c.file}: package ${m.name} is published from source ${published.sourceId} (${was}), not ${m.sourceId}; releases of different sources cannot be compared` };
  }
  if (m.release < published.release) {
    return { action: 'refuse', reason: `${c.file}: source release ${m.release} is older than the published ${was}; bump the recipe's release above ${published.release}` };
  }
  if (m.release === published.release) {
    if (m.buildRelease === published.buildRelease) {
      return { action: 'refuse', reason: `${c.file}: release ${m.release} build release ${m.buildRelease} equals the published ${was} (sha256 ${published.hash}), but the file differs (sha256 ${c.sha256}); bump the release or build release` };
    }
    if (m.buildRelease < published.buildRelease) {
      return { action: 'refuse', reason: `${c.file}: build release ${m.buildRelease} is older than the published ${was} for the same source release ${m.release}; bump the build release above ${published.buildRelease}` };
    }
  }
  return { action: 'replace', entry, previous: published };
}

/** One refusal for the whole build: the first file refused, and every reason (a build is refused as a whole). */
export function summarizeRefusals(refusals: readonly Refusal[]): Refusal {
  return { file: refusals[0].file, reason: refusals.map((r) => r.reason).join('; ') };
}
