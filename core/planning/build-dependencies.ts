import type { DependencyPackage } from '../contracts/summit';
import { ProviderIndex, providerKey } from '../graph/provider-index';

/**
 * Which published packages a build root gets. Planning loads what is published and asks this for each task it
 * dispatches; the builder then fetches exactly these packages, checked by sha256.
 */

/** A package published in an index, with what its recipe says it provides and depends on at run time. */
export interface PublishedProvider {
  name: string;
  provides: string[];
  depends: string[];
  index: string;
  /** Relative to the index root: `<packages base URL>/<index>/<uri>` fetches it. */
  uri: string;
  sha256: string;
}

export interface BuildRootQuery {
  /** The recipe's source name: its own older packages never enter its build root. */
  source: string;
  /** The index the task publishes to. */
  index: string;
  /** The baseline index a variant layers on (the task's own index for the baseline). */
  baselineIndex: string;
  /** The recipe's build dependencies, as written (names or `kind(name)` provider keys). */
  buildDepends: readonly string[];
  /** `file://` or `http(s)://` base the indexes are served under. */
  packagesBaseUrl: string;
}

/**
 * The providers of the build dependencies, then their run-time dependencies, transitively, from the task's own
 * index and the baseline index; a provider published in both comes from the task's own index. Dependencies
 * nothing provides are left out (the build then fails and says which). In publication order, for stable output.
 */
export function buildRootPackages(query: BuildRootQuery, published: readonly PublishedProvider[]): DependencyPackage[] {
  const { candidates, providers } = providersIn(published, query.index, query.baselineIndex);
  const providerOf = (dep: string): number | undefined => {
    const hits = providers.lookup('', providerKey(dep));
    return hits.find((i) => candidates[i].index === query.index) ?? hits[0];
  };
  const wanted = new Set<number>();
  const queue = [...query.buildDepends];
  while (queue.length > 0) {
    const i = providerOf(queue.pop()!);
    if (i === undefined || wanted.has(i)) continue;
    if (candidates[i].name === query.source) continue;
    wanted.add(i);
    queue.push(...candidates[i].depends);
  }
  const base = query.packagesBaseUrl.replace(/\/$/, '');
  return [...wanted].sort((a, b) => a - b).map((i) => ({ name: candidates[i].name, url: `${base}/${candidates[i].index}/${candidates[i].uri}`, sha256: candidates[i].sha256 }));
}

interface Candidates {
  candidates: readonly PublishedProvider[];
  providers: ProviderIndex;
}

/**
 * The providers of an (index, baseline) pair, built once per list of published packages: planning hands the same
 * list to every dispatch of a round (and of later rounds while nothing was published), so a round indexes each
 * pair once instead of once per build.
 */
const prepared = new WeakMap<readonly PublishedProvider[], Map<string, Candidates>>();

function providersIn(published: readonly PublishedProvider[], index: string, baselineIndex: string): Candidates {
  let byPair = prepared.get(published);
  if (!byPair) prepared.set(published, (byPair = new Map()));
  const key = `${index}\0${baselineIndex}`;
  let hit = byPair.get(key);
  if (!hit) {
    const indexes = new Set([index, baselineIndex]);
    const candidates = published.filter((p) => indexes.has(p.index));
    const providers = new ProviderIndex(candidates.map((p) => ({ source: p.name, packages: [{ name: p.name, provides: p.provides, depends: p.depends, buildDepends: [] }] })));
    byPair.set(key, (hit = { candidates, providers }));
  }
  return hit;
}
