import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatDependency } from '../core/formats/dependency';
import { parseRecipe, recipeDependencies, RecipeError, type ParsedRecipe } from '../core/formats/recipe';
import { corpusAbsent, RECIPES_SERPENT, testWithCorpus } from './support/corpus';

/**
 * Every real Serpent OS recipe must parse, and agree with the manifest boulder built from it. The corpus is read
 * in place (never copied into the repo; test/support/corpus.ts). Exceptions are listed below with their reason, and the test fails if an
 * exception stops happening, so the lists cannot go stale.
 */
const ROOT = RECIPES_SERPENT;
const test = testWithCorpus(ROOT);
const EXPECTED_RECIPES = 835;

/** Recipes that do not parse because they really are malformed: folder → text the error must contain. */
const MALFORMED: Readonly<Record<string, { error: string; reason: string }>> = {};

/** Recipe/manifest disagreements that are real and explained. */
const MANIFEST_DISAGREEMENTS: Readonly<Record<string, { field: string; recipe: string; manifest: string; reason: string }>> = {
  'p/pulseaudio': {
    field: 'source-version',
    recipe: '17.0',
    manifest: '17',
    reason:
      '`version: 17.0` is a YAML float; the boulder that wrote this manifest printed the number. The literal text is ' +
      'what newer manifests record (e.g. adwaita-icon-theme `47.0` → "47.0"), so we keep it.',
  },
  'u/usbutils': {
    field: 'source-release',
    recipe: '2',
    manifest: '1',
    reason: 'release was bumped in stone.yaml without a rebuild; the committed manifest is still from release 1.',
  },
};

/** Recipes without a manifest.x86_64.jsonc beside them (nothing to compare). */
const WITHOUT_JSON_MANIFEST = ['p/papirus-icon-theme'];

/** Keys boulder ignores that real recipes contain: warning path pattern → count. */
const EXPECTED_IGNORED_KEYS = {
  // `tune:` is a typo for `tuning:`; boulder silently builds these without the tuning.
  tune: 6,
  // nvidia-graphics-driver: `extract: false` is not an upstream field (boulder's is `unpack`).
  'upstreams[].<url>.extract': 1,
};

interface Entry {
  /** Folder relative to ROOT, e.g. `n/nano` (one recipe sits under `typos/`). */
  folder: string;
  parsed?: ParsedRecipe;
  error?: unknown;
}

function findRecipes(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return findRecipes(path);
    return e.name === 'stone.yaml' ? [path] : [];
  });
}

/** boulder's .jsonc starts with a comment line (`/** … *\/` in practice, `//` allowed); the rest is JSON. */
function readJsonManifest(path: string): { 'source-name': string; 'source-version': string; 'source-release': string; packages: Record<string, { depends?: string[] }> } {
  const text = readFileSync(path, 'utf8').replace(/^\s*(?:\/\/[^\n]*|\/\*[\s\S]*?\*\/)\s*\n/, '');
  return JSON.parse(text);
}

/** `packages[3]["%(name)-devel"].sumary` → `packages[].<key>.sumary`, to count warnings by kind. */
function keyPattern(path: string): string {
  return path.replace(/\[\d+\]/g, '[]').replace(/\["[^"]*"\]/g, '.<url>');
}

const entries: Entry[] = (corpusAbsent(ROOT) ? [] : findRecipes(ROOT))
  .sort()
  .map((file) => {
    const folder = relative(ROOT, join(file, '..'));
    try {
      return { folder, parsed: parseRecipe(readFileSync(file, 'utf8'), relative(join(ROOT, '..'), file)) };
    } catch (error) {
      return { folder, error };
    }
  });

const summary: string[] = [];
afterAll(() => summary.length > 0 && console.log(`recipes-serpent summary\n  ${summary.join('\n  ')}`));

test(`finds all ${EXPECTED_RECIPES} recipes`, () => {
  expect(entries).toHaveLength(EXPECTED_RECIPES);
  summary.push(`recipes found: ${entries.length}`);
});

test('every recipe parses, except the listed malformed ones, which still fail for their stated reason', () => {
  const unexpected = entries
    .filter((e) => e.error && !MALFORMED[e.folder])
    .map((e) => `${e.folder}: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
  expect(unexpected).toEqual([]);

  for (const [folder, { error }] of Object.entries(MALFORMED)) {
    const entry = entries.find((e) => e.folder === folder);
    expect(entry?.error).toBeInstanceOf(RecipeError);
    expect((entry?.error as Error).message).toContain(error);
  }
  // Every error is the typed one: nothing else may escape the parser.
  expect(entries.filter((e) => e.error && !(e.error instanceof RecipeError))).toEqual([]);
  summary.push(`parsed: ${entries.filter((e) => e.parsed).length}, malformed (listed): ${Object.keys(MALFORMED).length}`);
});

test('name, version and release agree with manifest.x86_64.jsonc, apart from the explained disagreements', () => {
  const disagreements: Record<string, { field: string; recipe: string; manifest: string }> = {};
  const withoutManifest: string[] = [];
  let compared = 0;
  for (const { folder, parsed } of entries) {
    if (!parsed) continue;
    const path = join(ROOT, folder, 'manifest.x86_64.jsonc');
    if (!existsSync(path)) {
      withoutManifest.push(folder);
      continue;
    }
    compared++;
    const manifest = readJsonManifest(path);
    const { name, version, release } = parsed.recipe.source;
    const pairs: [string, string, string][] = [
      ['source-name', name, manifest['source-name']],
      ['source-version', version, manifest['source-version']],
      ['source-release', String(release), String(manifest['source-release'])],
    ];
    for (const [field, recipe, inManifest] of pairs) {
      if (recipe !== inManifest) disagreements[folder] = { field, recipe, manifest: inManifest };
    }
  }
  const explained = Object.fromEntries(
    Object.entries(MANIFEST_DISAGREEMENTS).map(([folder, { field, recipe, manifest }]) => [folder, { field, recipe, manifest }]),
  );
  expect(disagreements).toEqual(explained);
  expect(withoutManifest).toEqual(WITHOUT_JSON_MANIFEST);
  summary.push(
    `manifests compared: ${compared}; explained disagreements: ${Object.keys(explained).join(', ')}; without .jsonc: ${withoutManifest.join(', ')}`,
  );
});

test('the only keys boulder would ignore are the known ones, each reported as a warning with its line', () => {
  const byKey: Record<string, number> = {};
  const all = entries.flatMap((e) => e.parsed?.warnings ?? []);
  for (const w of all) byKey[keyPattern(w.path)] = (byKey[keyPattern(w.path)] ?? 0) + 1;
  expect(byKey).toEqual(EXPECTED_IGNORED_KEYS);
  expect(all.every((w) => w.line !== undefined && w.message.includes('boulder ignores'))).toBe(true);
  summary.push(`warnings: ${all.length} (${Object.entries(byKey).map(([k, n]) => `${k} ×${n}`).join(', ')})`);
});

test('every version is the text written in the file, including the ones YAML reads as numbers', () => {
  let numeric = 0;
  const wrong: string[] = [];
  for (const { folder, parsed } of entries) {
    if (!parsed) continue;
    const text = readFileSync(join(ROOT, folder, 'stone.yaml'), 'utf8');
    if (typeof parseYaml(text).version === 'number') numeric++;
    // Real recipes write the version on one line: `version : 1.10`, `version: "8.2"`, `version: '017'`.
    const written = /^version\s*:\s*(["']?)([^"'\s#]+)\1/m.exec(text)?.[2];
    if (parsed.recipe.source.version !== written) wrong.push(`${folder}: ${parsed.recipe.source.version} ≠ ${written}`);
  }
  expect(wrong).toEqual([]);
  expect(numeric).toBeGreaterThan(100);
  summary.push(`versions YAML reads as numbers, kept as written: ${numeric}`);
});

test('recipe-declared dependencies are consistent with what boulder recorded (reported, not asserted per recipe)', () => {
  // Committed manifests lag their recipes (stale builds, older boulders), so this is a measure, not a rule; it
  // guards against recipeDependencies drifting from boulder's naming (macro expansion, merged root packages).
  let declared = 0;
  let recorded = 0;
  let packages = 0;
  let packagesInManifest = 0;
  for (const { folder, parsed } of entries) {
    const path = join(ROOT, folder, 'manifest.x86_64.jsonc');
    if (!parsed || !existsSync(path)) continue;
    const manifest = readJsonManifest(path);
    for (const pkg of recipeDependencies(parsed.recipe).packages) {
      packages++;
      const inManifest = manifest.packages[pkg.name];
      if (!inManifest) continue;
      packagesInManifest++;
      for (const dep of pkg.depends.map(formatDependency)) {
        declared++;
        if ((inManifest.depends ?? []).includes(dep)) recorded++;
      }
    }
  }
  expect(packagesInManifest / packages).toBeGreaterThan(0.95);
  expect(recorded / declared).toBeGreaterThan(0.9);
  summary.push(
    `declared packages found in manifests: ${packagesInManifest}/${packages}; declared rundeps recorded there: ${recorded}/${declared}`,
  );
});
