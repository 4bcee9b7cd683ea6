/**
 * The one rule for git object ids that cross a boundary (API bodies, hook reports, build requests, blob reads):
 * hex in lower case, as git prints them. A commit may be named abbreviated (7 digits or more) or in full; git's
 * own listings always give full ids, 40 digits for SHA-1 repositories and 64 for SHA-256 ones. Nothing else
 * reaches a git command line as an object id.
 */
const COMMIT_ID = /^[0-9a-f]{7,64}$/;
const FULL_OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A commit id as a person or a hook may give it: abbreviated or full, SHA-1 or SHA-256. */
export function isCommitId(value: string): boolean {
  return COMMIT_ID.test(value);
}

/** A full object id, as git's own listings print it. */
export function isFullObjectId(value: string): boolean {
  return FULL_OBJECT_ID.test(value);
}

/** For zod's `.regex` where a schema needs the bare pattern. */
export const COMMIT_ID_PATTERN: RegExp = COMMIT_ID;

/** What a commit id must look like, as a message says it. */
export const COMMIT_ID_DESCRIPTION = 'a git commit id (7 to 64 lower-case hex digits)';
