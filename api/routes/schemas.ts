import { z } from 'zod';
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
export const commit = z.string().regex(/^[0-9a-f]{7,64}$/, 'a git commit id (hex)');

/** A branch or ref as git writes it (no spaces, no control characters). */
// eslint-disable-next-line no-control-regex -- control characters are what the rule refuses
export const ref = z.string().regex(/^[^\s\x00-\x1f~^:?*[\\]+$/, 'a git ref such as main or refs/heads/main').max(255);

export const idParams = z.object({ id: z.string().min(1) });
