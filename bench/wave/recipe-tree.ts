import { prng, randInt } from '../../core/prng';

/**
 * The recipe tree of the wave benchmark: N trivial recipes shaped like a distribution (pure, seeded).
 *
 * Layers: a few base libraries with no dependencies; "popular" libraries on top of them that most of the tree
 * depends on (fan-in); a middle layer; leaves. One small dependency cycle (three recipes: two build edges and one
 * run-time edge closing the ring), which summit's bootstrap planning breaks by cutting the run-time edge. Every
 * tenth leaf compiles a tiny C program, the rest write one file into the install root, so a build's steps take
 * well under a second and the figures show orchestration, not compilation.
 */
export type Layer = 'base' | 'popular' | 'middle' | 'leaf' | 'cycle';

export interface TreeRecipe {
  name: string;
  layer: Layer;
  builddeps: string[];
  rundeps: string[];
  /** Compiles a C program (true) or only writes a file. */
  compiles: boolean;
}

export interface TreeOptions {
  packages: number;
  seed?: number;
  /** Include the three-recipe cycle (default true; needs at least 8 packages). */
  cycle?: boolean;
}

export const CYCLE_SIZE = 3;

export function generateRecipeTree(opts: TreeOptions): TreeRecipe[] {
  const n = opts.packages;
  if (!Number.isInteger(n) || n < 4) throw new Error(`a wave needs at least 4 packages, not ${n}`);
  const rand = prng(opts.seed ?? 11);
  const withCycle = (opts.cycle ?? true) && n >= 8;
  const rest = n - (withCycle ? CYCLE_SIZE : 0);
  const baseCount = Math.max(2, Math.round(rest * 0.05));
  const popularCount = Math.max(1, Math.round(rest * 0.1));
  const middleCount = Math.max(0, Math.round(rest * 0.25));
  const leafCount = rest - baseCount - popularCount - middleCount;

  const pad = (i: number) => String(i + 1).padStart(String(n).length, '0');
  const pick = (from: readonly string[], count: number): string[] => {
    const chosen = new Set<string>();
    const want = Math.min(count, from.length);
    while (chosen.size < want) chosen.add(from[randInt(rand, from.length)]);
    return [...chosen].sort();
  };
  /** Popular libraries get most of the edges: the first few of them are picked far more often. */
  const pickPopular = (from: readonly string[], count: number): string[] => {
    const chosen = new Set<string>();
    const want = Math.min(count, from.length);
    while (chosen.size < want) chosen.add(from[Math.floor(from.length * rand() * rand())]);
    return [...chosen].sort();
  };

  const recipes: TreeRecipe[] = [];
  const base = Array.from({ length: baseCount }, (_, i) => `wb-base-${pad(i)}`);
  for (const name of base) recipes.push({ name, layer: 'base', builddeps: [], rundeps: [], compiles: false });

  const popular = Array.from({ length: popularCount }, (_, i) => `wb-pop-${pad(i)}`);
  for (const name of popular) {
    const deps = pick(base, 1 + randInt(rand, 2));
    recipes.push({ name, layer: 'popular', builddeps: deps, rundeps: deps.slice(0, 1), compiles: false });
  }

  const middle = Array.from({ length: middleCount }, (_, i) => `wb-mid-${pad(i)}`);
  for (const name of middle) {
    const deps = [...pickPopular(popular, 1 + randInt(rand, 2)), ...pick(base, randInt(rand, 2))];
    recipes.push({ name, layer: 'middle', builddeps: deps.sort(), rundeps: [], compiles: false });
  }

  if (withCycle) {
    // a → b → c build edges, c → a at run time: bootstrap planning cuts the run edge, so no member is rebuilt.
    const [a, b, c] = ['wb-cyc-a', 'wb-cyc-b', 'wb-cyc-c'];
    const root = base[0];
    recipes.push({ name: a, layer: 'cycle', builddeps: [b, root], rundeps: [], compiles: false });
    recipes.push({ name: b, layer: 'cycle', builddeps: [c], rundeps: [], compiles: false });
    recipes.push({ name: c, layer: 'cycle', builddeps: [root], rundeps: [a], compiles: false });
  }

  for (let i = 0; i < leafCount; i++) {
    const name = `wb-leaf-${pad(i)}`;
    const deps = [...pickPopular(popular, 1 + randInt(rand, 2)), ...(middle.length > 0 && rand() < 0.5 ? pick(middle, 1) : [])];
    recipes.push({ name, layer: 'leaf', builddeps: deps.sort(), rundeps: [], compiles: i % 10 === 9 });
  }
  return recipes;
}

/** The install step: one marker line at its start and end (the bench's in-container clock), then the work. */
function installScript(r: TreeRecipe): string[] {
  const mark = (what: string) => `echo "wavebench: ${what} $(date +%%s.%%N)"`;
  const work = r.compiles
    ? [`printf 'int main(void) { return 0; }\\n' > ${r.name}.c`, `cc -o ${r.name} ${r.name}.c`, `install -Dm755 ${r.name} %(installroot)%(bindir)/${r.name}`]
    : [`install -Dm644 /dev/null %(installroot)%(datadir)/${r.name}/built`];
  return [mark('steps began'), ...work, mark('steps ended')];
}

/** The recipe's stone.yaml. */
export function recipeYaml(r: TreeRecipe): string {
  const lines = [
    `name        : ${r.name}`,
    'version     : "1.0.0"',
    'release     : 1',
    `homepage    : https://example.org/${r.name}`,
    'license     : MPL-2.0',
    `summary     : ${r.name}, a ${r.layer} recipe of the wave benchmark`,
    `description : ${r.name}, a ${r.layer} recipe of the wave benchmark`,
  ];
  if (r.builddeps.length) lines.push('builddeps   :', ...r.builddeps.map((d) => `    - ${d}`));
  if (r.rundeps.length) lines.push('rundeps     :', ...r.rundeps.map((d) => `    - ${d}`));
  lines.push('install     : |', ...installScript(r).map((l) => `    ${l}`));
  return `${lines.join('\n')}\n`;
}

/** Direct dependencies of each recipe (build and run), for "ready" times. */
export function dependenciesOf(tree: readonly TreeRecipe[]): Map<string, string[]> {
  return new Map(tree.map((r) => [r.name, [...new Set([...r.builddeps, ...r.rundeps])]]));
}
