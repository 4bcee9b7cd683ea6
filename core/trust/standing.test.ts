import { buildersFor, importRefusal, standingClosures, type BuilderStanding } from './standing';

const base: BuilderStanding = {
  builderId: 'b1', enrolled: true, trust: 'trusted', state: 'enrolled', publicKey: 'pem', enrolledAt: '2026-12-01T00:00:00.000Z', revoked: null, drained: null,
};

describe('a builder\'s standing', () => {
  it.each<[string, Partial<BuilderStanding>, string[]]>([
    ['enrolled and not drained', {}, []],
    ['never enrolled', { enrolled: false, trust: null, state: null }, ['builder b1 is not enrolled']],
    ['revoked', { state: 'revoked', revoked: { by: 'admin', reason: 'stolen', at: 'x' } }, ['builder b1 is revoked by admin: stolen']],
    ['drained by an admin', { drained: { by: 'admin', reason: null, at: 'x' } }, ['builder b1 is drained by admin']],
    ['suspended after verification mismatches', { drained: { by: 'verification', reason: '3 mismatches', at: 'x' } }, ['builder b1 is suspended by verification: 3 mismatches']],
    ['revoked and drained', { state: 'revoked', revoked: { by: 'admin', reason: null, at: 'x' }, drained: { by: 'admin', reason: null, at: 'x' } }, ['builder b1 is revoked by admin', 'builder b1 is drained by admin']],
  ])('closes the gate when %s', (_what, change, closures) => {
    expect(standingClosures({ ...base, ...change })).toEqual(closures);
  });

  it.each<[string, Partial<BuilderStanding>, 'official' | 'try' | 'verification', string | undefined]>([
    ['a trusted builder\'s official build', {}, 'official', undefined],
    ['a community builder\'s try build', { trust: 'community' }, 'try', undefined],
    ['a community builder\'s verification build', { trust: 'community' }, 'verification', undefined],
    ['a community builder\'s official build', { trust: 'community' }, 'official', 'builder b1 is community; official builds are imported only from trusted builders'],
    ['a revoked builder\'s try build', { state: 'revoked', revoked: { by: 'admin', reason: 'stolen', at: 'x' } }, 'try', 'builder b1 (trusted) is revoked: stolen'],
    ['an unknown builder', { enrolled: false, trust: null, state: null }, 'try', 'builder b1 is not enrolled in the registry'],
  ])('vessel decides on %s', (_what, change, purpose, refusal) => {
    expect(importRefusal({ ...base, ...change }, purpose)).toBe(refusal);
  });

  it('plans official builds on enrolled trusted builders only, and try builds on every enrolled one', () => {
    const live = [{ id: 't' }, { id: 'c' }, { id: 'r' }, { id: 'u' }];
    const registry = new Map([
      ['t', { trust: 'trusted' as const, state: 'enrolled' as const }],
      ['c', { trust: 'community' as const, state: 'enrolled' as const }],
      ['r', { trust: 'trusted' as const, state: 'revoked' as const }],
    ]);
    expect(buildersFor(live, registry, 'official').map((b) => b.id)).toEqual(['t']);
    expect(buildersFor(live, registry, 'try').map((b) => b.id)).toEqual(['t', 'c']);
  });
});
