import { MAX_TRY_NAME_LENGTH, tryNameProblem } from '../contracts/try';

/**
 * Refs of a try-build (issue 9, item 7): which refs are accepted and the try name one derives from a ref. Pure.
 * A ref is a branch (`feature/x`, `refs/heads/feature/x`) or a pull/merge-request ref (`refs/pull/12/head`,
 * `refs/merge-requests/5/head`); summit's mirror fetches every ref of the remote (`+refs/*:refs/*`), so both
 * resolve there.
 */

/** Longest ref accepted. */
export const MAX_REF_LENGTH = 200;

/** Why git would refuse `ref` as a ref name (git-check-ref-format's rules, bounded); undefined when it is one. */
export function tryRefProblem(ref: string): string | undefined {
  if (ref.length === 0) return 'the ref may not be empty';
  if (ref.length > MAX_REF_LENGTH) return `the ref is ${ref.length} characters long; at most ${MAX_REF_LENGTH} are allowed`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(ref)) return `ref ${JSON.stringify(ref)} holds a character git refuses in a ref (space, control, ~ ^ : ? * [ \\)`;
  if (ref.startsWith('-')) return `ref ${JSON.stringify(ref)} may not start with "-"`;
  if (ref.includes('..') || ref.includes('@{') || ref.includes('//')) return `ref ${JSON.stringify(ref)} may not hold "..", "@{" or "//"`;
  if (ref.startsWith('/') || ref.endsWith('/') || ref.endsWith('.') || ref.endsWith('.lock') || ref === '@') return `ref ${JSON.stringify(ref)} is not a ref name`;
  if (ref.split('/').some((part) => part.startsWith('.'))) return `ref ${JSON.stringify(ref)}: no part of it may start with "."`;
  return undefined;
}

/**
 * The default try name of a ref: `pr-<n>` for a pull request, `mr-<n>` for a merge request, else the branch name
 * with `refs/heads/` dropped and every other character than the safe ones (and each `/`) made `-`; bounded.
 */
export function defaultTryName(ref: string): string {
  const pull = /^(?:refs\/)?pull\/(\d+)\/(?:head|merge)$/.exec(ref);
  if (pull) return `pr-${pull[1]}`;
  const mr = /^(?:refs\/)?merge-requests\/(\d+)\/(?:head|merge)$/.exec(ref);
  if (mr) return `mr-${mr[1]}`;
  const branch = ref.replace(/^refs\/heads\//, '').replace(/^refs\//, '');
  let name = branch
    .replace(/[^A-Za-z0-9._+~-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, MAX_TRY_NAME_LENGTH)
    .replace(/[-.]+$/, '');
  if (!name || tryNameProblem(name)) name = 'try';
  return name;
}
