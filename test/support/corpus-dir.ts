/**
 * Where the large real corpus is (see test/support/corpus.ts): SUMMIT_CORPUS_DIR (empty means unset), else
 * `../shared/fixtures` beside the project. No jest here: the benchmarks (compiled to dist/bench) read it too.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

// From test/support in the sources, or dist/test/support once compiled.
const besideProject = [resolve(__dirname, '..', '..', '..', 'shared', 'fixtures'), resolve(__dirname, '..', '..', '..', '..', 'shared', 'fixtures')];

export const CORPUS_DIR = process.env.SUMMIT_CORPUS_DIR ? resolve(process.env.SUMMIT_CORPUS_DIR) : (besideProject.find((d) => existsSync(d)) ?? besideProject[0]);
/** The Serpent OS recipe tree of 2025-02-22 (serpent-os/recipes @ea3cbb2): 835 recipes with their manifests. */
export const RECIPES_SERPENT = join(CORPUS_DIR, 'recipes-serpent');
/** Real boulder packages beyond the ones kept in test/fixtures/stones (older nano releases, nano-dbginfo). */
export const CORPUS_STONES = join(CORPUS_DIR, 'stones');
