import { createHmac } from 'node:crypto';
import { parsePush, repositoryKey, verifySignature, webhookHeaders } from './webhook';

describe('repositoryKey', () => {
  it.each([
    ['https://Git.Example.org/Serpent/Recipes.git', 'git.example.org/serpent/recipes'],
    ['https://user@git.example.org:443/serpent/recipes/', 'git.example.org/serpent/recipes'],
    ['git@git.example.org:serpent/recipes.git', 'git.example.org/serpent/recipes'],
    ['ssh://git@git.example.org:2222/serpent/recipes.git', 'git.example.org/serpent/recipes'],
    ['git://git.example.org/serpent/recipes', 'git.example.org/serpent/recipes'],
    ['/srv/git/recipes.git', '/srv/git/recipes.git'],
  ])('%s → %s', (url, key) => {
    expect(repositoryKey(url)).toBe(key);
  });
});

describe('signatures', () => {
  const body = Buffer.from('{"a":1}');
  const good = createHmac('sha256', 'secret').update(body).digest('hex');

  it('verifies the HMAC of the raw body, and nothing else', () => {
    expect(verifySignature(body, 'secret', good)).toBe(true);
    expect(verifySignature(body, 'secret', good.toUpperCase())).toBe(true);
    expect(verifySignature(body, 'other', good)).toBe(false);
    expect(verifySignature(Buffer.from('{"a":2}'), 'secret', good)).toBe(false);
    for (const bad of [undefined, '', good.slice(1), `${good}0`, 'z'.repeat(64)]) expect(verifySignature(body, 'secret', bad)).toBe(false);
  });

  it('reads each forge\'s headers: GitHub with its sha256= prefix, Forgejo under its own or Gitea\'s names', () => {
    expect(webhookHeaders('github', { 'x-hub-signature-256': `sha256=${good}`, 'x-github-event': 'push', 'x-github-delivery': 'd1' })).toEqual({ signature: good, event: 'push', delivery: 'd1' });
    expect(webhookHeaders('github', { 'x-hub-signature-256': good }).signature).toBe('');
    expect(webhookHeaders('forgejo', { 'x-gitea-signature': good, 'x-gitea-event': 'push', 'x-gitea-delivery': 'd2' })).toEqual({ signature: good, event: 'push', delivery: 'd2' });
    expect(webhookHeaders('forgejo', {}).signature).toBeUndefined();
  });
});

describe('parsePush', () => {
  it('takes the repository URLs, the ref and the new commit; a deletion has no commit', () => {
    const repository = { clone_url: 'https://h/a/b.git', ssh_url: 'git@h:a/b.git', html_url: 'https://h/a/b' };
    expect(parsePush({ ref: 'refs/heads/main', after: 'ab'.repeat(20), repository })).toEqual({ urls: ['https://h/a/b.git', 'git@h:a/b.git', 'https://h/a/b'], ref: 'refs/heads/main', commit: 'ab'.repeat(20), deleted: false });
    expect(parsePush({ ref: 'refs/heads/x', after: '0'.repeat(40), repository })).toMatchObject({ commit: undefined, deleted: true });
    for (const notPush of [null, 'x', {}, { repository: {} }, { repository: 'x' }]) expect(parsePush(notPush)).toBeUndefined();
  });
});
