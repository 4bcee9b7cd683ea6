import { prng } from '../core/prng';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../core/formats/errors';
import { parseRecipe } from '../core/formats/recipe';
import { RECIPES_NANO } from './helpers/fixtures';
import { onCi } from './support/ci';
import { corpusAbsent, RECIPES_SERPENT } from './support/corpus';

/**
 * Random damage to real recipes must end in a parsed recipe or a FormatError — never another exception, never a
 * hang. Deterministic: a fixed seed (override with RECIPE_FUZZ_SEED to explore) and a fixed corpus, so a failure
 * reproduces from the case number printed with it.
 */
const SEED = Number(process.env.RECIPE_FUZZ_SEED ?? 0x5eed2024);
const CASES = 6_000;


// Characters and tokens that change how YAML reads the text around them.
const SIGNIFICANT = [':', '-', '[', ']', '{', '}', '"', "'", '\t', '\n', '#', ',', '&a ', '*a', '!', '!!str ', '|', '>', '%', '@', '`', ' ', '? ', '---\n', '...\n', '<<: ', '\0', '\uFEFF', '\r', '~', 'null', 'yes', '0.010'];

type Rng = () => number;
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)];
const at = (rng: Rng, text: string): number => Math.floor(rng() * (text.length + 1));

const MUTATIONS: Record<string, (text: string, rng: Rng) => string> = {
  flipBit(text, rng) {
    if (text.length === 0) return text;
    const i = Math.floor(rng() * text.length);
    return text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << Math.floor(rng() * 8))) + text.slice(i + 1);
  },
  delete(text, rng) {
    const i = at(rng, text);
    return text.slice(0, i) + text.slice(i + 1 + Math.floor(rng() * 16));
  },
  insert(text, rng) {
    const i = at(rng, text);
    return text.slice(0, i) + pick(rng, SIGNIFICANT) + text.slice(i);
  },
  replace(text, rng) {
    const i = at(rng, text);
    return text.slice(0, i) + pick(rng, SIGNIFICANT) + text.slice(i + 1);
  },
  truncate(text, rng) {
    return text.slice(0, at(rng, text));
  },
  duplicateLine(text, rng) {
    const lines = text.split('\n');
    const i = Math.floor(rng() * lines.length);
    lines.splice(i, 0, lines[i]);
    return lines.join('\n');
  },
  swapLines(text, rng) {
    const lines = text.split('\n');
    const i = Math.floor(rng() * lines.length);
    const j = Math.floor(rng() * lines.length);
    [lines[i], lines[j]] = [lines[j], lines[i]];
    return lines.join('\n');
  },
  reindent(text, rng) {
    const lines = text.split('\n');
    const i = Math.floor(rng() * lines.length);
    lines[i] = rng() < 0.5 ? lines[i].replace(/^ {1,4}/, '') : `${' '.repeat(1 + Math.floor(rng() * 4))}${lines[i]}`;
    return lines.join('\n');
  },
};

/**
 * A varied corpus: nano plus every 25th Serpent recipe, and the ones using the rarer forms. Without the Serpent
 * corpus (test/support/corpus.ts): nano and the demo recipes locally, a failure on CI.
 */
function corpus(): string[] {
  const absent = corpusAbsent(RECIPES_SERPENT);
  if (absent !== undefined) {
    if (onCi()) throw new Error(`${absent}: CI fuzzes the real recipes, so the corpus must be there`);
    console.log(`recipe fuzz: ${absent}; fuzzing the nano and demo recipes only`);
    const demo = join(__dirname, '..', 'examples', 'recipes');
    const folders = readdirSync(demo, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(demo, d.name));
    return [RECIPES_NANO, ...folders].map((folder) => readFileSync(join(folder, 'stone.yaml'), 'utf8'));
  }
  const serpent = RECIPES_SERPENT;
  const folders = readdirSync(serpent)
    .sort()
    .flatMap((letter) => readdirSync(join(serpent, letter)).sort().map((name) => join(serpent, letter, name)));
  const rare = ['q/qt5-svg', 'n/nvidia-graphics-driver', 'n/nftables', 'z/zlib-ng', 'm/mesa', 'l/llvm'].map((f) => join(serpent, f));
  const chosen = new Set([...folders.filter((_, i) => i % 25 === 0), ...rare.filter((f) => folders.includes(f))]);
  return [RECIPES_NANO, ...chosen].map((folder) => readFileSync(join(folder, 'stone.yaml'), 'utf8'));
}

test(`${CASES} random mutations of real recipes end in a recipe or a FormatError (seed ${SEED})`, () => {
  const rng = prng(SEED);
  const texts = corpus();
  const names = Object.keys(MUTATIONS);
  const outcomes = { parsed: 0, refused: 0 };
  const escaped: string[] = [];
  let slowest = { ms: 0, index: -1 };

  for (let index = 0; index < CASES; index++) {
    let text = pick(rng, texts);
    const applied: string[] = [];
    for (let n = 1 + Math.floor(rng() * 3); n > 0; n--) {
      const name = pick(rng, names);
      applied.push(name);
      text = MUTATIONS[name](text, rng);
    }
    const started = performance.now();
    try {
      parseRecipe(text, `fuzz-${index}.yaml`);
      outcomes.parsed++;
    } catch (err) {
      if (err instanceof FormatError) outcomes.refused++;
      else escaped.push(`case ${index} (${applied.join('+')}): ${err instanceof Error ? err.stack : String(err)}\n${text.slice(0, 400)}`);
    }
    const ms = performance.now() - started;
    if (ms > slowest.ms) slowest = { ms, index };
  }

  console.log(
    `recipe fuzz, seed ${SEED}: ${CASES} cases from ${texts.length} recipes → ${outcomes.parsed} parsed, ` +
      `${outcomes.refused} FormatError, ${escaped.length} other; slowest case ${slowest.index} took ${slowest.ms.toFixed(1)} ms`,
  );
  expect(escaped).toEqual([]);
  expect(outcomes.parsed + outcomes.refused).toBe(CASES);
  // Both outcomes must be common, or the mutations are too weak (all parse) or too blunt (nothing parses).
  expect(outcomes.parsed).toBeGreaterThan(CASES / 10);
  expect(outcomes.refused).toBeGreaterThan(CASES / 10);
  // "No hang": a real recipe parses in about a millisecond; one case taking a second means something loops.
  expect(slowest.ms).toBeLessThan(1000);
});
