import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_RECIPE_MAX_BYTES, sizeProblem } from '../../core/formats/recipe-limits';

/**
 * The recipe file of a checked-out commit, read on the builder's host without following a link. The commit is
 * the contributor's: a `stone.yaml` (or a folder on the way to it) that is a symbolic link would have the host
 * read, and bind into the container as /mason/recipe, whatever it points at, e.g. the builder's private key.
 * Intake refuses such a recipe already (it reads the link's text, not its target); this holds on the builder too.
 * Returns the text, or why it was refused (a sentence naming the path); undefined text with no reason: no file.
 */
export async function readRecipeFile(checkout: string, recipePath: string, maxBytes = DEFAULT_RECIPE_MAX_BYTES): Promise<{ text?: string; refused?: string }> {
  let dir = checkout;
  const parts = recipePath.split('/').filter((p) => p !== '' && p !== '.');
  for (const [i, part] of parts.entries()) {
    dir = join(dir, part);
    const st = await lstat(dir).catch(() => undefined);
    if (!st) return {};
    const shown = parts.slice(0, i + 1).join('/');
    if (st.isSymbolicLink()) return { refused: `${shown} is a symbolic link in the commit; a recipe's folder must be a real folder` };
    if (!st.isDirectory()) return { refused: `${shown} is not a folder` };
  }
  const shown = [...parts, 'stone.yaml'].join('/');
  // O_NOFOLLOW: a link in the last place fails with ELOOP instead of being followed; O_NONBLOCK: a FIFO does not hang.
  const handle = await open(join(dir, 'stone.yaml'), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') return 'link' as const;
    return undefined;
  });
  if (handle === undefined) return {};
  if (handle === 'link') return { refused: `${shown} is a symbolic link in the commit; a recipe must be a regular file` };
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { refused: `${shown} is not a regular file` };
    const tooLarge = sizeProblem(st.size, maxBytes);
    if (tooLarge) return { refused: `${shown}: ${tooLarge}` };
    return { text: await handle.readFile('utf8') };
  } finally {
    await handle.close();
  }
}
