/**
 * The large real corpus the slow, data-driven tests read: the Serpent OS recipe tree (`recipes-serpent/`, 835
 * recipes with their manifests, ~37 MB) and the older nano packages (`stones/`). It is not in the repository; it
 * is read from SUMMIT_CORPUS_DIR, by default `../shared/fixtures` beside the project when that exists. The small
 * fixtures every clone has are in test/fixtures (test/helpers/fixtures.ts).
 *
 * Without the corpus, its tests are skipped locally with the reason in their name (and one console line), and
 * fail on CI (CI=true), where a skip would hide that the data-driven tests never ran.
 */
import { existsSync } from 'node:fs';
import { onCi } from './ci';

export { CORPUS_DIR, CORPUS_STONES, RECIPES_SERPENT } from './corpus-dir';

/** Why the corpus part at `path` cannot be used, or undefined when it is there. */
export function corpusAbsent(path: string): string | undefined {
  return existsSync(path) ? undefined : `corpus not found at ${path}; set SUMMIT_CORPUS_DIR`;
}

const announced = new Set<string>();
function announce(reason: string): void {
  if (announced.has(reason)) return;
  announced.add(reason);
  console.log(`corpus tests skipped: ${reason}`);
}

function failOnCi(reason: string): () => never {
  return () => {
    throw new Error(`${reason}: CI runs the corpus tests, so the corpus must be there (SUMMIT_CORPUS_DIR)`);
  };
}

/** describe() when the corpus part at `path` exists; otherwise a skip with the reason (locally) or a failure (CI). */
export function describeWithCorpus(path: string, name: string, body: () => void): void {
  const reason = corpusAbsent(path);
  if (reason === undefined) {
    describe(name, body);
  } else if (onCi()) {
    describe(name, () => it(`has the corpus on CI (${reason})`, failOnCi(reason)));
  } else {
    announce(reason);
    describe.skip(`${name} (skipped: ${reason})`, body);
  }
}

/** test() when the corpus part at `path` exists; otherwise a skip with the reason (locally) or a failure (CI). */
export function testWithCorpus(path: string): (name: string, fn: () => unknown, timeout?: number) => void {
  const reason = corpusAbsent(path);
  return (name, fn, timeout) => {
    if (reason === undefined) {
      test(name, fn as jest.ProvidesCallback, timeout);
    } else if (onCi()) {
      test(`${name} (corpus missing on CI)`, failOnCi(reason));
    } else {
      announce(reason);
      test.skip(`${name} (skipped: ${reason})`, fn as jest.ProvidesCallback);
    }
  };
}
