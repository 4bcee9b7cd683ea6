import type { YamlPath } from './recipe-diagnostics';
import { GIT_PREFIX, RECIPE_KEYS } from './recipe-schema';

/**
 * Keys boulder silently ignores: keys it does not know (a typo such as `tune:` for `tuning:` builds without the
 * tuning), and the extra keys of a "single-key map" entry, of which boulder keeps only one. We accept the recipe as
 * boulder does but report each such key so it stays visible. Values of the wrong type are skipped here: the schema
 * reports those.
 */
export interface IgnoredKey {
  /** Path of the ignored key itself. */
  path: YamlPath;
  message: string;
}

const TOP = new Set<string>(RECIPE_KEYS.top);
const BUILD = new Set<string>(RECIPE_KEYS.build);
const PACKAGE = new Set<string>(RECIPE_KEYS.package);
const ARCHIVE_UPSTREAM = new Set<string>(RECIPE_KEYS.archiveUpstream);
const GIT_UPSTREAM = new Set<string>(RECIPE_KEYS.gitUpstream);

export function findIgnoredKeys(recipe: unknown): IgnoredKey[] {
  const found: IgnoredKey[] = [];
  if (!isMapping(recipe)) return found;

  checkKeys(recipe, [], TOP, 'recipe', found);
  checkPaths(recipe.paths, ['paths'], found);

  eachEntry(recipe.packages, ['packages'], found, (def, path) => {
    if (!isMapping(def)) return;
    checkKeys(def, path, PACKAGE, 'package', found);
    checkPaths(def.paths, [...path, 'paths'], found);
  });
  eachEntry(recipe.profiles, ['profiles'], found, (def, path) => {
    if (isMapping(def)) checkKeys(def, path, BUILD, 'profile', found);
  });
  eachEntry(recipe.upstreams, ['upstreams'], found, (props, path, url) => {
    if (!isMapping(props)) return;
    const git = url.startsWith(GIT_PREFIX);
    checkKeys(props, path, git ? GIT_UPSTREAM : ARCHIVE_UPSTREAM, git ? 'git upstream' : 'archive upstream', found);
  });
  eachEntry(recipe.tuning, ['tuning'], found, () => undefined);
  return found;
}

function checkPaths(paths: unknown, path: YamlPath, found: IgnoredKey[]): void {
  eachEntry(paths, path, found, () => undefined);
}

function checkKeys(
  map: Record<string, unknown>,
  path: YamlPath,
  known: ReadonlySet<string>,
  what: string,
  found: IgnoredKey[],
): void {
  for (const key of Object.keys(map)) {
    if (known.has(key)) continue;
    const hint = closest(key, known);
    const suggestion = hint ? `; did you mean ${JSON.stringify(hint)}?` : '';
    const message = `unknown ${what} key ${JSON.stringify(key)}: boulder ignores it${suggestion}`;
    found.push({ path: [...path, key], message });
  }
}

/**
 * Visit each entry of a list of single-key maps (`- name: {…}`), reporting the keys boulder drops: it keeps the
 * smallest key of each map (it reads them into a BTreeMap), so `- a: …` followed by a mis-indented `b: …`
 * loses `b`.
 */
function eachEntry(
  list: unknown,
  path: YamlPath,
  found: IgnoredKey[],
  visit: (value: unknown, path: YamlPath, key: string) => void,
): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => {
    if (!isMapping(item)) return;
    const keys = Object.keys(item).sort();
    for (const extra of keys.slice(1)) {
      found.push({
        path: [...path, i, extra],
        message:
          `boulder keeps one key per list entry and ignores ${JSON.stringify(extra)} ` +
          `(it keeps ${JSON.stringify(keys[0])}); start a new entry with "- "`,
      });
    }
    for (const key of keys) visit(item[key], [...path, i, key], key);
  });
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A known key close enough to be the one meant: a small edit distance, or the same stem (`tune` → `tuning`). */
function closest(key: string, known: ReadonlySet<string>): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate);
    const stem = commonPrefix(key.toLowerCase(), candidate) >= 3;
    const near = distance <= 2 || (stem && distance <= 3);
    if (near && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function editDistance(a: string, b: string): number {
  // Keys are short; a plain two-row Levenshtein is plenty. Long keys cannot be near a known key anyway.
  if (Math.abs(a.length - b.length) > 3 || a.length > 64) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
