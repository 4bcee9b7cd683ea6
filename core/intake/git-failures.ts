/**
 * Which git failures retrying cannot fix. Intake runs as a retried activity; a URL that does not exist, refused
 * credentials or a commit the repository does not have give the same answer on every attempt, and retrying
 * them only delays the other repositories. Network trouble (DNS, timeouts, a server error) is worth retrying.
 * Matched on git's messages in the C locale (git.ts runs git with LC_ALL=C).
 */
const PERMANENT: ReadonlyArray<[RegExp, string]> = [
  [/does not appear to be a git repository|repository '[^']*' (not found|does not exist)|Repository not found|returned error: 404/i, 'the repository does not exist at this URL'],
  [/Authentication failed|could not read (Username|Password)|Permission denied \(|returned error: 40[13]|terminal prompts disabled/i, 'access to the repository was refused'],
  [/is not in the mirror|Couldn't find remote ref|not a valid object name|unknown revision/i, 'the commit or ref does not exist in the repository'],
  [/transport '[^']*' not allowed|Unable to find remote helper|unsupported protocol|protocol '[^']*' is not supported/i, 'git cannot fetch from this kind of URL'],
];

/** Why a git failure is permanent (a short reason), or undefined when it may be transient. */
export function permanentGitFailure(message: string): string | undefined {
  for (const [pattern, reason] of PERMANENT) if (pattern.test(message)) return reason;
  return undefined;
}
