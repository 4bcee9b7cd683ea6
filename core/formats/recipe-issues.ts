import type { z } from 'zod';
import type { YamlPath } from './recipe-diagnostics';

/**
 * Turning zod's issues into findings a packager can act on: messages in recipe words ("expected a list, found
 * text") and unions resolved to the branch the value was evidently aiming at, so `license: [MIT, 3]` reports
 * `license[1]` rather than "invalid input".
 */
export interface SchemaProblem {
  path: YamlPath;
  message: string;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'text',
  // The only numbers in a recipe (release, stripdirs) are whole.
  number: 'a whole number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** Per-parse error map: schema-level messages (given where a union or bound needs one) still take precedence. */
export const recipeErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required key is missing';
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, found ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, ` +
        `found ${describeValue(issue.input)}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    default:
      return undefined;
  }
};

/**
 * One problem per real fault. For a union, when exactly one branch failed below the value itself (the value had
 * that branch's shape but something inside was wrong), that branch's problems are reported; otherwise the
 * union's own message, which says what forms are accepted.
 */
export function schemaProblems(issues: readonly z.core.$ZodIssue[], prefix: YamlPath = []): SchemaProblem[] {
  return issues.flatMap((issue): SchemaProblem[] => {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    // Needs the parse to run with `reportInput: true`; a missing key reaches a union as undefined.
    if (issue.code === 'invalid_union' && issue.input === undefined) {
      return [{ path, message: 'required key is missing' }];
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const aimedAt = issue.errors.filter((branch) => branch.every((i) => i.path.length > 0));
      if (aimedAt.length === 1) return schemaProblems(aimedAt[0], path);
    }
    return [{ path, message: issue.message }];
  });
}

/** A value as a packager would name it in a sentence. */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `text ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${String(value)}`;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a timestamp';
  if (value instanceof Uint8Array) return 'binary data';
  return 'a mapping';
}
