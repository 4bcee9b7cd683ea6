import { permanentGitFailure } from './git-failures';

describe('permanent git failures', () => {
  test.each([
    ["fatal: repository '/srv/none.git' does not exist", 'the repository does not exist at this URL'],
    ["fatal: '/srv/none.git' does not appear to be a git repository", 'the repository does not exist at this URL'],
    ["remote: Repository not found.\nfatal: repository 'https://github.com/x/y.git/' not found", 'the repository does not exist at this URL'],
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", 'access to the repository was refused'],
    ['git@host: Permission denied (publickey).', 'access to the repository was refused'],
    ["fatal: unable to access 'https://h/r.git/': The requested URL returned error: 403", 'access to the repository was refused'],
    ['commit "deadbeef" is not in the mirror /data/mirrors/r.git', 'the commit or ref does not exist in the repository'],
    ["fatal: transport 'ext' not allowed", 'git cannot fetch from this kind of URL'],
  ])('%s → %s', (message, reason) => {
    expect(permanentGitFailure(message)).toBe(reason);
  });

  test.each([
    "fatal: unable to access 'https://h/r.git/': Could not resolve host: h",
    "fatal: unable to access 'https://h/r.git/': Failed to connect to h port 443: Connection timed out",
    "fatal: unable to access 'https://h/r.git/': The requested URL returned error: 502",
    'error: RPC failed; curl 56 Recv failure: Connection reset by peer',
  ])('%s is worth retrying', (message) => {
    expect(permanentGitFailure(message)).toBeUndefined();
  });
});
