import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { createPrivateKey as parsePrivate, sign } from 'node:crypto';
import { publicKeyProblem, publicKeyText, signBuildFacts, signedMessage, signedWithoutServer, verifyBuildFacts, type SignedBuildFacts } from './build-signature';

function keyPair(type: 'ed25519' | 'ed448' = 'ed25519') {
  const { publicKey, privateKey } = generateKeyPairSync(type as 'ed25519');
  return { pub: publicKeyText(publicKey), pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const facts: SignedBuildFacts = {
  buildId: 'build/p/r/liba-1.0-1/x86_64', builderId: 'b1', artefactBaseUrl: 'http://avalanche-1:8090',
  artefacts: [{ name: 'liba-1.0-1-1-x86_64.stone', sha256: 'a'.repeat(64) }, { name: 'liba-devel-1.0-1-1-x86_64.stone', sha256: 'b'.repeat(64) }],
};

describe('build result signatures', () => {
  const mine = keyPair();
  const signature = signBuildFacts(mine.priv, facts);

  it('verifies with the signer\'s public key, whatever the artefacts\' order', () => {
    expect(verifyBuildFacts(mine.pub, facts, signature)).toBe(true);
    expect(verifyBuildFacts(mine.pem, facts, signature)).toBe(true);
    expect(mine.pub).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(verifyBuildFacts(mine.pub, { ...facts, artefacts: [...facts.artefacts].reverse() }, signature)).toBe(true);
  });

  it.each<[string, SignedBuildFacts]>([
    ['another build id', { ...facts, buildId: 'build/p/r/liba-1.0-2/x86_64' }],
    ['another builder', { ...facts, builderId: 'b2' }],
    ['another artefact server', { ...facts, artefactBaseUrl: 'http://evil.example:8090' }],
    ['another port of the same server', { ...facts, artefactBaseUrl: 'http://avalanche-1:8091' }],
    ['a changed digest', { ...facts, artefacts: [facts.artefacts[0], { ...facts.artefacts[1], sha256: 'c'.repeat(64) }] }],
    ['a renamed artefact', { ...facts, artefacts: [facts.artefacts[0], { ...facts.artefacts[1], name: 'evil.stone' }] }],
    ['an artefact left out', { ...facts, artefacts: [facts.artefacts[0]] }],
    ['an artefact added', { ...facts, artefacts: [...facts.artefacts, { name: 'x.stone', sha256: 'd'.repeat(64) }] }],
  ])('fails for %s', (_what, changed) => {
    expect(verifyBuildFacts(mine.pub, changed, signature)).toBe(false);
  });

  it('fails with another key, a garbled signature or a key that is not a key', () => {
    expect(verifyBuildFacts(keyPair().pub, facts, signature)).toBe(false);
    expect(verifyBuildFacts(mine.pub, facts, 'AAAA')).toBe(false);
    expect(verifyBuildFacts('not a key', facts, signature)).toBe(false);
  });

  it('signs with a parsed private key as with its PEM, and verifies right for keys past the parsed-key cache', () => {
    expect(signBuildFacts(createPrivateKey(mine.priv), facts)).toBe(signature);
    // More signers than the cache keeps, each asked twice (once parsed, once from the cache or parsed again).
    const many = Array.from({ length: 80 }, () => keyPair());
    for (const round of [0, 1]) {
      for (const [i, k] of many.entries()) {
        const own = signBuildFacts(k.priv, { ...facts, builderId: `b${i}` });
        expect([round, i, verifyBuildFacts(k.pub, { ...facts, builderId: `b${i}` }, own)]).toEqual([round, i, true]);
        // The next signer's key never verifies this one's signature, cached or not.
        expect([round, i, verifyBuildFacts(many[(i + 1) % many.length].pub, { ...facts, builderId: `b${i}` }, own)]).toEqual([round, i, false]);
      }
    }
  });

  it('keeps fields apart: a name cannot swallow the digest next to it', () => {
    const a = signedMessage({ buildId: 'x', builderId: 'y', artefactBaseUrl: 'http://h', artefacts: [{ name: 'n', sha256: 'ab' }] });
    const b = signedMessage({ buildId: 'x', builderId: 'y', artefactBaseUrl: 'http://h', artefacts: [{ name: 'na', sha256: 'b' }] });
    expect(a.equals(b)).toBe(false);
    const c = signedMessage({ buildId: 'x', builderId: 'y', artefactBaseUrl: 'http://hy', artefacts: [] });
    const d = signedMessage({ buildId: 'x', builderId: 'yhttp://h', artefactBaseUrl: 'y', artefacts: [] });
    expect(c.equals(d)).toBe(false);
  });

  it('tells a signature of the format before the artefact server was signed (1) apart, and never accepts it', () => {
    // What a builder of format 1 signed: the version tag, build id, builder id and artefacts, no server.
    const v1 = (f: SignedBuildFacts) => Buffer.from(JSON.stringify(['summit-build-result/1', f.buildId, f.builderId,
      [...f.artefacts].sort((x, y) => (x.name < y.name ? -1 : 1)).map((x) => [x.name, x.sha256])]));
    const old = sign(null, v1(facts), parsePrivate(mine.priv)).toString('base64');
    expect(verifyBuildFacts(mine.pub, facts, old)).toBe(false);
    expect(signedWithoutServer(mine.pub, facts, old)).toBe(true);
    // Whatever server the result names now: the old signature vouched for none.
    expect(verifyBuildFacts(mine.pub, { ...facts, artefactBaseUrl: 'http://evil.example' }, old)).toBe(false);
    expect(signedWithoutServer(keyPair().pub, facts, old)).toBe(false);
    expect(signedWithoutServer(mine.pub, facts, signature)).toBe(false);
  });

  it('accepts only Ed25519 public keys for registration', () => {
    expect(publicKeyProblem(mine.pub)).toBeUndefined();
    expect(publicKeyProblem(keyPair('ed448').pub)).toBe('an Ed25519 key is required, not ed448');
    expect(publicKeyProblem('garbage')).toMatch(/^not a public key/);
  });
});
