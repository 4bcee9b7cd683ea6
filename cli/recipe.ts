import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isFormatError } from '../core/formats/errors';
import { readManifestFile } from '../core/formats/manifest';
import { RecipeError, formatDiagnostic } from '../core/formats/recipe-diagnostics';
import { readRecipeFile } from '../core/formats/recipe';
import { parseCommandArgs, printJson } from './args';
import { Command } from './io';

/** Every stone.yaml at or below the given paths, sorted, each once. */
export async function findRecipes(paths: string[]): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (p: string): Promise<void> => {
    const st = await stat(p);
    if (st.isFile()) {
      if (basename(p) === 'stone.yaml') found.add(p);
      return;
    }
    for (const entry of await readdir(p, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const child = join(p, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.name === 'stone.yaml') found.add(child);
    }
  };
  for (const p of paths) await walk(p);
  return [...found].sort();
}

/**
 * boulder reads an unquoted numeric version as a number, so `version: 17.0` reaches its manifest as "17"; we keep
 * the literal text, and treat the two as the same version rather than as a stale manifest.
 */
function sameVersion(manifest: string, recipe: string): boolean {
  const numeric = /^\d+(\.\d+)?$/;
  return manifest === recipe || (numeric.test(manifest) && numeric.test(recipe) && Number(manifest) === Number(recipe));
}

/** Problems with one recipe folder: the recipe itself and every manifest.<arch>.bin beside it. */
export async function checkRecipe(path: string): Promise<string[]> {
  const errors: string[] = [];
  let recipe: { name: string; version: string; release: number } | undefined;
  try {
    recipe = (await readRecipeFile(path)).recipe.source;
  } catch (err) {
    if (err instanceof RecipeError) errors.push(...err.issues.map(formatDiagnostic));
    else if (isFormatError(err)) errors.push(err.message);
    else throw err;
  }
  const dir = dirname(path);
  const manifests = (await readdir(dir)).filter((n) => /^manifest\..+\.bin$/.test(n)).sort();
  for (const name of manifests) {
    const file = join(dir, name);
    try {
      const m = await readManifestFile(file);
      if (recipe && (!sameVersion(m.sourceVersion, recipe.version) || m.sourceRelease !== recipe.release)) {
        errors.push(`${file}: manifest is for ${m.sourceVersion}-${m.sourceRelease}, recipe is ${recipe.version}-${recipe.release} (rebuild the manifest)`);
      }
    } catch (err) {
      if (isFormatError(err)) errors.push(err.message);
      else throw err;
    }
  }
  return errors;
}

/** `summit recipe check <path>... [--json]`: validate recipes and their manifests; exit 1 if any is invalid. */
export const check: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, names: '<path>...' });
  const recipes = await findRecipes(positionals);
  const invalid: Array<{ path: string; errors: string[] }> = [];
  for (const path of recipes) {
    const errors = await checkRecipe(path);
    if (errors.length > 0) {
      invalid.push({ path, errors });
      if (!values.json) io.out(`${path}: ${errors.join('; ')}`);
    }
  }
  if (values.json) printJson(io.out, { recipes: recipes.length, invalid });
  else io.out(`${recipes.length} recipes, ${invalid.length} invalid`);
  return invalid.length > 0 ? 1 : 0;
};
