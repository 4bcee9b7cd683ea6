import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared, read-only fixtures beside the project (../shared/fixtures); tests read them in place. */
export const FIXTURES = resolve(__dirname, '..', '..', '..', 'shared', 'fixtures');
export const STONES = join(FIXTURES, 'stones');
export const RECIPES_NANO = join(FIXTURES, 'recipes-nano');
export const RECIPES_SERPENT = join(FIXTURES, 'recipes-serpent');

if (!existsSync(FIXTURES)) {
  throw new Error(`fixtures not found at ${FIXTURES}: the project expects ../shared/fixtures beside it`);
}
