import { readFile, stat } from 'node:fs/promises';
import { formatYamlPath, RecipeError, type RecipeIssue, type RecipeWarning, type YamlPath } from './recipe-diagnostics';
import { describeValue, recipeErrorMap, schemaProblems } from './recipe-issues';
import { decodeRecipeText, DEFAULT_RECIPE_MAX_BYTES, sizeProblem } from './recipe-limits';
import { recipeSchema } from './recipe-schema';
import type { Recipe } from './recipe-types';
import { findIgnoredKeys } from './recipe-unknown-keys';
import { locate, parseYaml, scalarText, toPlainValue, type YamlSource } from './recipe-yaml';

/**
 * Reading boulder recipes (`stone.yaml`, FORMATS.md §1). The one entry point for the rest of Summit:
 * `parseRecipe` for text, `readRecipeFile` for a path. Bad input always ends in a RecipeError (a FormatError)
 * listing every problem with its file, YAML path and line:column; keys boulder would ignore come back as warnings.
 *
 * Layout: recipe-types (the Recipe type), recipe-schema (zod schema of the YAML), recipe-yaml (YAML nodes and
 * positions), recipe-unknown-keys, recipe-issues (zod issues in packager words), recipe-diagnostics (the error and
 * warning types), recipe-dependencies.
 */

export interface ParsedRecipe {
  recipe: Recipe;
  warnings: RecipeWarning[];
}

/**
 * Parse the text of a `stone.yaml`. `file` only names the source in diagnostics.
 * @throws RecipeError for YAML syntax errors and anything boulder would refuse.
 */
export function parseRecipe(text: string, file: string): ParsedRecipe {
  const { source, errors: syntaxErrors, warnings: yamlWarnings } = parseYaml(text, file);
  if (syntaxErrors.length > 0) throw new RecipeError(file, syntaxErrors);

  const { value, errors: structureErrors } = toPlainValue(source);
  if (structureErrors.length > 0) throw new RecipeError(file, structureErrors);
  if (!isMapping(value)) {
    const message =
      value === null
        ? 'the recipe is empty: expected a mapping of recipe keys (name, version, release, …)'
        : `expected a mapping of recipe keys (name, version, release, …), found ${describeValue(value)}`;
    throw new RecipeError(file, [at(source, [], message)]);
  }

  const literalIssues = applyLiteralScalars(source, value);
  const warnings = [
    ...yamlWarnings,
    ...findIgnoredKeys(value).map(({ path, message }) => at(source, path, message, { key: true })),
  ];

  // reportInput lets schemaProblems tell a missing key from a wrong one inside unions.
  const result = recipeSchema.safeParse(value, { error: recipeErrorMap, reportInput: true });
  const schemaIssues = result.success ? [] : schemaProblems(result.error.issues);
  const issues = [...literalIssues, ...schemaIssues.map(({ path, message }) => at(source, path, message))];
  const sortedWarnings = sortByPosition(warnings);
  if (issues.length > 0 || !result.success) throw new RecipeError(file, sortByPosition(issues), sortedWarnings);
  return { recipe: result.data, warnings: sortedWarnings };
}

/**
 * Read and parse a `stone.yaml` from disk. I/O errors (missing file, permissions) propagate unchanged: they say
 * nothing about the recipe. A file over `maxBytes` is refused from its size without being read; bytes that are
 * not UTF-8 are a RecipeError, as boulder refuses them too.
 */
export async function readRecipeFile(path: string, opts: { maxBytes?: number } = {}): Promise<ParsedRecipe> {
  const tooBig = sizeProblem((await stat(path)).size, opts.maxBytes ?? DEFAULT_RECIPE_MAX_BYTES);
  if (tooBig) throw new RecipeError(path, [{ file: path, path: '', message: tooBig }]);
  return parseRecipe(decodeRecipeText(await readFile(path), path), path);
}

// Scalars whose meaning depends on how they are written, which the YAML value loses.
// YAML 1.2 integer forms (decimal, 0o octal, 0x hex); boulder (serde) refuses `release: 1.0`.
const INTEGER_LITERAL = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/;

function applyLiteralScalars(source: YamlSource, recipe: Record<string, unknown>): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  // `version: 0.010` is the version "0.010", not the number 0.01 (boulder's `force_string` takes any number).
  if (typeof recipe.version === 'number') recipe.version = scalarText(source, ['version']) ?? String(recipe.version);
  if (typeof recipe.release === 'number') {
    const literal = scalarText(source, ['release']);
    if (literal !== undefined && !INTEGER_LITERAL.test(literal)) {
      issues.push(at(source, ['release'], `expected a whole number, found ${JSON.stringify(literal)}`));
    }
  }
  return issues;
}

function at(source: YamlSource, path: YamlPath, message: string, opts: { key?: boolean } = {}): RecipeIssue {
  return { file: source.file, path: formatYamlPath(path), ...locate(source, path, opts), message };
}

function sortByPosition<T extends RecipeIssue>(list: T[]): T[] {
  return list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.line ?? 0) - (b.d.line ?? 0) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i)
    .map(({ d }) => d);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export { RecipeError, formatDiagnostic, formatYamlPath } from './recipe-diagnostics';
export type { RecipeDiagnostic, RecipeIssue, RecipeWarning } from './recipe-diagnostics';
export { recipeDependencies } from './recipe-dependencies';
export type { PackageDependencies, RecipeDependencies } from './recipe-dependencies';
export type {
  ArchiveUpstream,
  BuildOptions,
  BuildSteps,
  GitUpstream,
  PackageDefinition,
  PathKind,
  PathRule,
  Profile,
  Recipe,
  RecipeSource,
  SubPackage,
  Toolchain,
  TuningEntry,
  Upstream,
} from './recipe-types';
