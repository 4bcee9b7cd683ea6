import { FormatError } from './errors';

/** A step from a YAML node to one of its children: a mapping key or a list index. */
export type YamlPathSegment = string | number;
export type YamlPath = readonly YamlPathSegment[];

/**
 * One finding about a recipe, pinned to where it is in the source so a packager can jump to it.
 * `path` is a YAML path such as `packages[0]["%(name)-devel"].rundeps[2]`; `line`/`column` are 1-based and
 * absent only when the place does not exist in the file (a required key that is missing at the top level).
 */
export interface RecipeDiagnostic {
  file: string;
  path: string;
  line?: number;
  column?: number;
  message: string;
}

/** Something boulder would accept but a packager should see, such as a key boulder ignores. */
export type RecipeWarning = RecipeDiagnostic;

/** Something boulder would refuse: the recipe cannot be used. */
export type RecipeIssue = RecipeDiagnostic;

/**
 * The error for a recipe that cannot be used. It is a FormatError (so callers that only know FormatError
 * still handle it) that also carries every problem found, each with its own place, so a CLI can print one
 * line per problem instead of parsing the message. Warnings found before the recipe was refused ride along.
 */
export class RecipeError extends FormatError {
  constructor(
    readonly file: string,
    readonly issues: readonly RecipeIssue[],
    readonly warnings: readonly RecipeWarning[] = [],
  ) {
    super('recipe', errorWhere(file, issues), errorProblem(issues));
  }
}

const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** `packages[0].foo.summary`; keys that are not plain words are quoted: `upstreams[0]["https://…"]`. */
export function formatYamlPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `file:line:column path: message`, the form editors and terminals turn into links. */
export function formatDiagnostic(d: RecipeDiagnostic): string {
  return `${placeOf(d)}: ${d.message}`;
}

function placeOf(d: RecipeDiagnostic): string {
  const at = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.column ?? 1}`;
  return d.path === '' ? at : `${at} ${d.path}`;
}

// One problem: the place is the error's `where`. Several: `where` is the file and the problem lists each one,
// because a packager fixing a recipe wants them all at once rather than one per run.
function errorWhere(file: string, issues: readonly RecipeIssue[]): string {
  return issues.length === 1 ? placeOf(issues[0]) : file;
}

function errorProblem(issues: readonly RecipeIssue[]): string {
  if (issues.length === 1) return issues[0].message;
  return `${issues.length} problems:\n${issues.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`;
}
