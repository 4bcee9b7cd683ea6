import { FormatError } from '../formats/errors';
import { RecipeNode } from './recipe';

/** Past build durations per source name, in seconds, oldest first. */
export type History = ReadonlyMap<string, readonly number[]>;

/**
 * How many recent builds an estimate looks at. The median of the last five ignores a one-off (a cold cache, a
 * builder that stalled) yet follows a package that really got bigger within a few builds.
 */
export const HISTORY_WINDOW = 5;

/** Estimate for a recipe nobody has built yet when no recipe has history either (a fresh farm): 15 minutes. */
export const DEFAULT_ESTIMATE_SECONDS = 900;

/** Median of the last `window` durations; undefined when there are none. */
export function estimateFromHistory(past: readonly number[] | undefined, window = HISTORY_WINDOW): number | undefined {
  if (!past || past.length === 0) return undefined;
  const recent = past.slice(-window).sort((a, b) => a - b);
  const mid = recent.length >> 1;
  return recent.length % 2 === 1 ? recent[mid] : (recent[mid - 1] + recent[mid]) / 2;
}

export interface EstimateOptions {
  window?: number;
  /**
   * Estimate for a source without history. Default: the median estimate of the sources that do have history (a
   * new recipe is most likely a typical one), or DEFAULT_ESTIMATE_SECONDS when none has.
   */
  fallback?: number | ((source: string) => number);
}

/** One estimate (seconds) per source: from history where there is some, else the fallback. */
export function estimateDurations(sources: readonly string[], history: History, options: EstimateOptions = {}): Map<string, number> {
  const known = new Map<string, number>();
  for (const source of sources) {
    const estimate = estimateFromHistory(history.get(source), options.window);
    if (estimate !== undefined) known.set(source, estimate);
  }
  let fallback = options.fallback;
  if (fallback === undefined) fallback = estimateFromHistory([...known.values()], Infinity) ?? DEFAULT_ESTIMATE_SECONDS;
  const out = new Map<string, number>();
  for (const source of sources) {
    out.set(source, known.get(source) ?? (typeof fallback === 'number' ? fallback : fallback(source)));
  }
  return out;
}

/**
 * The default duration model when no history is given (`summit simulate` without `--durations`), derived from
 * what a build manifest holds — it has no file list — and the same for every policy:
 *
 *   seconds = 120                      fetch sources, create and populate the build root
 *           + 45 × unique build deps   a bigger build root means a bigger project (qt6-base 43, mutter 73)
 *           + 90 × (packages − 1)      every extra sub-package is a split build (32-bit, docs, libs, devel)
 *           +  5 × provides            sonames, binaries and pkgconfig files installed
 *           +  3 × unique run deps     linked libraries and interpreters
 *
 * On the Serpent recipes this gives nano ≈ 4.6 min, firefox ≈ 25 min, gcc ≈ 48 min, llvm ≈ 57 min: the right
 * ranking and spread for scheduling, not a prediction of wall-clock time.
 */
export function modelDuration(recipe: RecipeNode): number {
  const buildDeps = new Set<string>();
  const runDeps = new Set<string>();
  let provides = 0;
  for (const pkg of recipe.packages) {
    for (const d of pkg.buildDepends) buildDeps.add(d);
    for (const d of pkg.depends) runDeps.add(d);
    provides += pkg.provides.length;
  }
  const extraPackages = Math.max(0, recipe.packages.length - 1);
  return 120 + 45 * buildDeps.size + 90 * extraPackages + 5 * provides + 3 * runDeps.size;
}

/**
 * Read a durations file's parsed JSON: `{ "<source>": seconds | [seconds, ...] }`, a list being past builds
 * (oldest first). Throws FormatError naming `where` and the offending entry.
 */
export function parseDurations(json: unknown, where: string): History {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FormatError('durations', where, 'expected a JSON object mapping source names to seconds or lists of seconds');
  }
  const out = new Map<string, number[]>();
  for (const [source, value] of Object.entries(json as Record<string, unknown>)) {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) throw new FormatError('durations', where, `"${source}": empty list of durations`);
    for (const d of list) {
      if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
        throw new FormatError('durations', where, `"${source}": ${JSON.stringify(d)} is not a duration in seconds (a finite number ≥ 0)`);
      }
    }
    out.set(source, list as number[]);
  }
  return out;
}
