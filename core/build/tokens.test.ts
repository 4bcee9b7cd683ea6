import { bearerToken, signArtefactToken, verifyArtefactToken } from './tokens';

const secret = Buffer.alloc(32, 7);
const other = Buffer.alloc(32, 8);
const build = 'build/p/r/liba-1.0-1/x86_64';
const now = 1_700_000_000;

describe('artefact tokens', () => {
  const { token, expiresAt } = signArtefactToken(secret, build, now + 3600);

  it('verifies for its own build until it expires', () => {
    expect(verifyArtefactToken(secret, token, build, now)).toEqual({ ok: true, expiresAt });
    expect(verifyArtefactToken(secret, token, build, now + 3599).ok).toBe(true);
  });

  it.each<[string, () => ReturnType<typeof verifyArtefactToken>, 401 | 403, RegExp]>([
    ['expired', () => verifyArtefactToken(secret, token, build, now + 3600), 401, /expired/],
    ['for another build', () => verifyArtefactToken(secret, token, 'build/p/r/tool-1.0-1/x86_64', now), 403, /another build/],
    ['signed with another builder secret', () => verifyArtefactToken(other, token, build, now), 401, /signature/],
    ['with a changed expiry', () => verifyArtefactToken(secret, token.replace(`.${now + 3600}.`, `.${now + 7200}.`), build, now), 401, /signature/],
    ['with a changed build id', () => verifyArtefactToken(secret, token.replace(/^v1\.[^.]+/, `v1.${Buffer.from('x').toString('base64url')}`), 'x', now), 401, /signature/],
    ['truncated', () => verifyArtefactToken(secret, token.slice(0, -3), build, now), 401, /signature/],
    ['garbage', () => verifyArtefactToken(secret, 'hello', build, now), 401, /malformed/],
  ])('refuses a token %s', (_what, check, status, reason) => {
    const result = check();
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ status });
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('keeps its scopes apart: a read token never releases, a release token never reads', () => {
    const release = signArtefactToken(secret, build, now + 3600, 'release');
    expect(release.token.startsWith('r1.')).toBe(true);
    expect(verifyArtefactToken(secret, release.token, build, now, 'release')).toEqual({ ok: true, expiresAt: release.expiresAt });
    expect(verifyArtefactToken(secret, token, build, now, 'release')).toEqual({ ok: false, status: 403, reason: 'token is for reading the build, not for releasing it' });
    expect(verifyArtefactToken(secret, release.token, build, now)).toEqual({ ok: false, status: 403, reason: 'token is for releasing the build, not for reading it' });
    // The scope is in the MAC: relabelling a read token as a release token breaks its signature.
    expect(verifyArtefactToken(secret, token.replace(/^v1\./, 'r1.'), build, now, 'release')).toMatchObject({ ok: false, status: 401, reason: 'token signature does not verify' });
    // An expired or foreign release token is refused as any other.
    expect(verifyArtefactToken(secret, release.token, build, now + 3600, 'release')).toMatchObject({ ok: false, status: 401 });
    expect(verifyArtefactToken(other, release.token, build, now, 'release')).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses short secrets', () => {
    expect(() => signArtefactToken(Buffer.alloc(8), build, now)).toThrow(/32 bytes/);
  });

  it.each([
    ['Bearer abc.def', 'abc.def'],
    ['bearer   abc', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    [undefined, undefined],
  ])('reads the bearer token of %p', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});
