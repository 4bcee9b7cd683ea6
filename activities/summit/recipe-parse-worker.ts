import { parentPort } from 'node:worker_threads';
import { isFormatError } from '../../core/formats/errors';
import { readManifest } from '../../core/formats/manifest';
import { parseRecipe } from '../../core/formats/recipe';
import { formatDiagnostic, RecipeError } from '../../core/formats/recipe-diagnostics';
import { decodeRecipeText } from '../../core/formats/recipe-limits';
import type { ParseReply, ParseRequest } from './recipe-parser';

/**
 * The thread that reads recipes for intake (see recipe-parser.ts): decode, parse and validate one stone.yaml and
 * its committed manifest per message. Anything a file can do wrong comes back as a list of reasons; only a bug
 * or an exhausted resource limit ends the thread, which the host then reports against the file at hand.
 */
async function handle(req: ParseRequest): Promise<ParseReply> {
  try {
    const { recipe } = parseRecipe(decodeRecipeText(req.recipe, req.file), req.file);
    const manifest = req.manifest ? await readManifest(req.manifest.bytes, req.manifest.file) : undefined;
    return {
      id: req.id,
      ok: true,
      recipe,
      manifestPackages: manifest?.packages.map((p) => ({ name: p.name, provides: p.provides, depends: p.depends, buildDepends: p.buildDepends })),
    };
  } catch (err) {
    if (err instanceof RecipeError) return { id: req.id, ok: false, errors: err.issues.map(formatDiagnostic) };
    if (isFormatError(err)) return { id: req.id, ok: false, errors: [err.message] };
    return { id: req.id, ok: false, errors: [`${req.file}: could not be read: ${err instanceof Error ? err.message : String(err)}`] };
  }
}

// One request at a time, in arrival order: the host's deadline is for the request at the head of its queue.
let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (req: ParseRequest) => {
  queue = queue.then(async () => parentPort?.postMessage(await handle(req)));
});
