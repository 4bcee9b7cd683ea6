import { z } from 'zod';
import { COMMIT_ID_DESCRIPTION, COMMIT_ID_PATTERN } from '../../core/contracts/commit';
import { MAX_NAME_LENGTH, SAFE_NAME_CHARACTERS, SAFE_NAME_PATTERN } from '../../core/contracts/names';

/**
 * Shapes shared by several routers. Project and repository names become parts of build ids, so they follow the
 * one naming rule of core/contracts/names.ts.
 */
export const name = z
  .string()
  .max(MAX_NAME_LENGTH)
  .regex(SAFE_NAME_PATTERN, `only ${SAFE_NAME_CHARACTERS}`);

/** A git object id: abbreviated or full, SHA-1 or SHA-256. */
export const commit = z.string().regex(COMMIT_ID_PATTERN, COMMIT_ID_DESCRIPTION);

/** A branch or ref as git writes it (no spaces, no control characters). */
// eslint-disable-next-line no-control-regex -- control characters are what the rule refuses
export const ref = z.string().regex(/^[^\s\x00-\x1f~^:?*[\\]+$/, 'a git ref such as main or refs/heads/main').max(255);

/**
 * A path id: a repository name or a URL-decoded build id. 1,024 characters is well above the longest build id;
 * the edge (request-guards.ts) has already refused control characters and undecodable percent-encoding.
 */
export const idParams = z.object({ id: z.string().min(1).max(1024) });

/**
 * One query parameter given once. `?limit=1&limit=2` arrives as an array; saying so beats zod's "expected
 * string, received array".
 */
export function once<S extends z.ZodType>(schema: S): z.ZodType<z.output<S>> {
  return z
    .string({ error: (issue) => (Array.isArray(issue.input) ? 'given more than once; give it once' : 'expected a single value') })
    // The cast only narrows the input type: whatever S takes, a string is among it (z.coerce, z.string).
    .pipe(schema as unknown as z.ZodType<z.output<S>, string>);
}

/** A query number given once, as an integer within bounds. */
export const queryInt = (min: number, max: number) => once(z.coerce.number().int().min(min).max(max));

/** Routes that take no query parameters: any given is a mistake worth saying (422), not something to ignore. */
export const noQuery = z.strictObject({});

/** Routes that take no body (retry, cancel, refresh): nothing, or an empty JSON object, and nothing more. */
export const noBody = z.strictObject({}).optional();
