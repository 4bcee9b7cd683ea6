import { join } from 'node:path';

/**
 * The small real fixtures every clone has (test/fixtures, MPL-2.0, see its README). The large corpus (the Serpent
 * OS recipe tree, more packages) is read through test/support/corpus.ts.
 */
export const FIXTURES = join(__dirname, '..', 'fixtures');
export const STONES = join(FIXTURES, 'stones');
export const RECIPES_NANO = join(FIXTURES, 'recipes-nano');
export { RECIPES_SERPENT } from '../support/corpus';
