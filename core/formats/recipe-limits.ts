import { CST, Lexer } from 'yaml';
import { RecipeError } from './recipe-diagnostics';

/**
 * Bounds on a recipe file before the YAML parser sees it. Recipes come from strangers' repositories: a file of
 * any size, any bytes and any nesting must end in a RecipeError in bounded time and memory, never in an
 * out-of-memory crash or a stack overflow of the process serving the farm.
 *
 * - Size: real recipes are a few KiB (the largest of 835 Serpent recipes is under 32 KiB); the default cap is 1 MiB,
 *   checked by callers from the size git or the file system reports, before any byte is read.
 * - Encoding: boulder reads recipes as UTF-8 and refuses anything else; the error says where the first bad byte is.
 * - Nesting: the yaml package composes nodes recursively, so 1 MiB of `[` costs it seconds and a gigabyte before
 *   it gives up with "Maximum call stack size exceeded". Its lexer is flat (no recursion, ~1 s for the worst
 *   1 MiB), so the depth is measured from the tokens first and a too-deep file never reaches the composer.
 */

/** Largest recipe read by default (bytes); SUMMIT_RECIPE_MAX_BYTES in core/config.ts overrides it for intake. */
export const DEFAULT_RECIPE_MAX_BYTES = 1024 * 1024;

/** Deepest nesting of mappings and lists; real recipes stay under 8. Same bound as toPlainValue's. */
export const MAX_NESTING = 64;

export function sizeProblem(size: number, maxBytes: number): string | undefined {
  return size > maxBytes ? `the file is ${size} bytes, more than the ${maxBytes}-byte limit for a recipe: not read` : undefined;
}

/** The first byte offset at which `bytes` stop being well-formed UTF-8 (RFC 3629), or -1 when they are. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 either.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}

/** The text of a recipe file, or a RecipeError naming the first byte that is not UTF-8. */
export function decodeRecipeText(bytes: Uint8Array, file: string): string {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const line = 1 + countNewlines(bytes, bad);
    throw new RecipeError(file, [{ file, path: '', line, message: `not UTF-8 at byte ${bad} (0x${bytes[bad].toString(16).padStart(2, '0')}): a recipe must be UTF-8 text` }]);
  }
  return new TextDecoder('utf-8').decode(bytes);
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) n++;
  return n;
}

/**
 * An upper bound of what `nestingTooDeep` counts, from one pass over the characters: the indentation stack holds
 * strictly increasing indents, so it is at most the widest leading whitespace + 1; the items that open on one
 * line are at most its `-` and `?` characters; open flow brackets at most the file's `[` and `{`. A real recipe
 * stays far under the limit, so it is not lexed twice (the lexer pass was ~10 % of a recipe's parse).
 */
function nestingBound(text: string): number {
  let widestIndent = 0;
  let mostItems = 0;
  let brackets = 0;
  let indent = 0;
  let items = 0;
  let leading = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      if (items > mostItems) mostItems = items;
      indent = 0;
      items = 0;
      leading = true;
      continue;
    }
    if (leading && (c === 0x20 || c === 0x09)) {
      if (++indent > widestIndent) widestIndent = indent;
      continue;
    }
    leading = false;
    if (c === 0x2d || c === 0x3f) items++;
    else if (c === 0x5b || c === 0x7b) brackets++;
  }
  if (items > mostItems) mostItems = items;
  return widestIndent + 1 + mostItems + brackets;
}

// Lexer tokens that carry the line's content (as opposed to indentation, comments, line breaks and the
// control markers the lexer inserts, which stand for no source text).
const CONTROL = new Set(['doc-mode', 'flow-error-end', 'scalar']);
const LAYOUT = new Set(['space', 'newline', 'comment', 'byte-order-mark']);

/**
 * The 1-based line where the nesting of mappings and lists first goes past `max`, or undefined. Counted from the
 * lexer's tokens: open flow brackets, plus the stack of block indentation levels, plus the `- ` items that start
 * on the same line (`- - - x`). Block scalars (`install: |`) are single tokens, so a script's own indentation
 * and braces do not count.
 */
export function nestingTooDeep(text: string, max: number = MAX_NESTING): number | undefined {
  if (nestingBound(text) <= max) return undefined;
  let line = 1;
  let flow = 0;
  const indents: number[] = [];
  let atLineStart = true;
  let indent = 0;
  let itemsOnLine = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'newline') {
      line++;
      atLineStart = true;
      indent = 0;
      itemsOnLine = 0;
      continue;
    }
    if (type !== null && CONTROL.has(type)) continue;
    if (type === 'space' && atLineStart) {
      indent = token.length;
      continue;
    }
    if (type !== null && LAYOUT.has(type)) continue;
    if (atLineStart && flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
    }
    atLineStart = false;
    if (type === 'flow-seq-start' || type === 'flow-map-start') flow++;
    else if ((type === 'flow-seq-end' || type === 'flow-map-end') && flow > 0) flow--;
    else if (type === 'seq-item-ind' || type === 'explicit-key-ind') itemsOnLine++;
    if (indents.length + itemsOnLine + flow > max) return line;
    // A multi-line scalar (quoted, or a block scalar) holds line breaks of its own.
    if (type === null) for (let i = token.indexOf('\n'); i >= 0; i = token.indexOf('\n', i + 1)) line++;
  }
  return undefined;
}
