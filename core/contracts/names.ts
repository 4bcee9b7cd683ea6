/**
 * The one rule for every name that becomes part of a build id, a Temporal workflow id, a URL segment or a file
 * name: recipe name, version and release, project and repository ids, builder ids, index names, pool file names.
 * Recipes are written by strangers and these values end up in paths (`pool/<prefix>/<source>/<file>`) and in
 * arguments of commands, so the rule leaves out everything with a meaning there: `/`, `..` (no leading dot),
 * whitespace, quotes and shell metacharacters (`$`, `;`, `|`, `&`, backquote, parentheses…). What it allows is what
 * real recipes use (AerynOS/Serpent trees: `0.25.1+git.1354b67`, `1.5.29-rc2`, `xorg_proto`) plus `~`, which
 * versions such as `1.0~rc1` use and which has no meaning inside a word.
 */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

/** Characters a safe name may hold, as a packager reads it in a message. */
export const SAFE_NAME_CHARACTERS = 'letters, digits and . _ + ~ - (starting with a letter or digit)';

/** Longest name or version: a pool file name (`name-version-release-buildrelease-isa.stone`) must fit 255 bytes. */
export const MAX_NAME_LENGTH = 100;

/** Longest single path segment (a whole file name), the limit of common Linux file systems. */
export const MAX_SEGMENT_LENGTH = 255;

export function isSafeName(value: string, maxLength: number = MAX_NAME_LENGTH): boolean {
  return value.length <= maxLength && SAFE_NAME.test(value);
}

/** Why `value` cannot be used as `field`, in words that name both; undefined when it can. */
export function safeNameProblem(field: string, value: string, maxLength: number = MAX_NAME_LENGTH): string | undefined {
  if (value.length > maxLength) return `${field} is ${value.length} characters long; at most ${maxLength} are allowed`;
  if (!SAFE_NAME.test(value)) return `${field} ${JSON.stringify(value)} may hold only ${SAFE_NAME_CHARACTERS}`;
  return undefined;
}

/** For zod's `.regex` and `.refine` where a schema needs the bare pattern. */
export const SAFE_NAME_PATTERN: RegExp = SAFE_NAME;
