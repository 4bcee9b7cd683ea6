import { compareText } from './compare';
import { RecipeNode } from './recipe';

/**
 * Canonical text of a provider or dependency so that `name(foo)` and `foo` meet in one key. Every other kind is
 * already canonical in moss text form (`kind(name)`); an unknown kind is a plain name to moss, and its text is
 * left as it is, which is exactly how moss would match it. A fast path, because the 50,000-recipe graph resolves
 * about a million strings and a full parse of each would dominate the build time.
 */
export function providerKey(text: string): string {
  return text.startsWith('name(') && text.endsWith(')') ? text.slice(5, -1) : text;
}

/**
 * The providers of one key: a node index when one node provides it (nearly every key), else the indices of all
 * of them, ascending. A number rather than a one-element array: a distribution has ~250,000 keys per scope.
 */
export type Providers = number | readonly number[];

/**
 * Who provides what, per scope. A package's own name is an implied provider (moss never writes it). Several
 * nodes may provide the same thing (a conflict or a fork): all of them are kept, as the real hub links a
 * dependent to every task providing the dependency; `ambiguous()` lists these so a human can look.
 */
export class ProviderIndex {
  /** scope → provider key → providers. Nested maps so a lookup allocates no string. */
  private readonly byScope = new Map<string, Map<string, number | number[]>>();

  /** `nodes[i]` is indexed as node number `i`; scopes come from `scope` (default ''). */
  constructor(nodes: readonly RecipeNode[]) {
    for (let index = 0; index < nodes.length; index++) {
      const node = nodes[index];
      const scope = node.scope ?? '';
      let keys = this.byScope.get(scope);
      if (!keys) this.byScope.set(scope, (keys = new Map()));
      for (const pkg of node.packages) {
        add(keys, pkg.name, index);
        for (const provided of pkg.provides) add(keys, providerKey(provided), index);
      }
    }
  }

  /** Node indices providing `key` (already canonical) in `scope`, ascending; empty when none. */
  lookup(scope: string, key: string): readonly number[] {
    const found = this.byScope.get(scope)?.get(key);
    return found === undefined ? EMPTY : typeof found === 'number' ? [found] : found;
  }

  /**
   * The provider table of one scope (key → providers), for callers resolving many keys in the same scope: one
   * map lookup per dependency instead of two.
   */
  scope(scope: string): ReadonlyMap<string, Providers> {
    return this.byScope.get(scope) ?? EMPTY_SCOPE;
  }

  /** Provider keys offered by more than one node in the same scope, with the node indices, sorted. */
  ambiguous(): Array<{ scope: string; provider: string; nodes: readonly number[] }> {
    const out: Array<{ scope: string; provider: string; nodes: readonly number[] }> = [];
    for (const [scope, keys] of this.byScope) {
      for (const [provider, nodes] of keys) if (typeof nodes !== 'number') out.push({ scope, provider, nodes });
    }
    return out.sort((a, b) => compareText(a.scope, b.scope) || compareText(a.provider, b.provider));
  }
}

/** Nodes are added in ascending order, so a repeat of the last one is the same node providing a key twice. */
function add(keys: Map<string, number | number[]>, key: string, index: number): void {
  const held = keys.get(key);
  if (held === undefined) keys.set(key, index);
  else if (typeof held === 'number') {
    if (held !== index) keys.set(key, [held, index]);
  } else if (held[held.length - 1] !== index) held.push(index);
}

const EMPTY: readonly number[] = Object.freeze([]);
const EMPTY_SCOPE: ReadonlyMap<string, Providers> = new Map();
