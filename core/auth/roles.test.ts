import { decide, includes, readIsPublic, ROLES, type Access, type Identity, type PublicReads, type Role } from './roles';

const who = (role: Role, repositories: string[] | null = null): Identity => ({ name: `${role}-token`, role, repositories });

describe('roles', () => {
  // Each row: held, then whether it includes viewer, contributor, builder, admin.
  it.each([
    ['viewer', [true, false, false, false]],
    ['contributor', [true, true, false, false]],
    ['builder', [true, false, true, false]],
    ['admin', [true, true, true, true]],
  ] as const)('%s includes exactly what the table says', (held, row) => {
    expect(ROLES.map((wanted) => includes(held, wanted))).toEqual(row);
  });

  it.each([
    ['all', true, true],
    ['summary', true, false],
    ['none', false, false],
  ] as const)('SUMMIT_API_PUBLIC_READS=%s: summary reads public %s, detail reads public %s', (setting: PublicReads, summary, detail) => {
    expect([readIsPublic('summary', setting), readIsPublic('detail', setting)]).toEqual([summary, detail]);
  });
});

describe('decide', () => {
  const hook: Access = { kind: 'role', role: 'contributor', repository: 'body.repository' };

  it('refuses without a token with 401, with a lesser role with 403 naming both roles', () => {
    expect(decide({ kind: 'role', role: 'admin' }, undefined, 'all')).toEqual({ ok: false, status: 401, message: 'a bearer token is required' });
    expect(decide({ kind: 'role', role: 'admin' }, who('builder'), 'all')).toEqual({ ok: false, status: 403, message: 'this needs the admin role; the token "builder-token" has builder' });
  });

  it('lets a contributor act on the repositories it names only; an unscoped contributor and an admin on all', () => {
    expect(decide(hook, who('contributor', ['a']), 'all', 'a')).toEqual({ ok: true });
    expect(decide(hook, who('contributor', ['a']), 'all', 'b')).toMatchObject({ ok: false, status: 403, message: expect.stringContaining('repository "b"') });
    expect(decide(hook, who('contributor'), 'all', 'b')).toEqual({ ok: true });
    expect(decide(hook, who('admin'), 'all', 'b')).toEqual({ ok: true });
  });

  it('public routes need nothing; reads need a viewer when the setting closes them', () => {
    expect(decide({ kind: 'public', why: 'probe' }, undefined, 'none')).toEqual({ ok: true });
    expect(decide({ kind: 'read', level: 'detail' }, undefined, 'summary')).toMatchObject({ ok: false, status: 401 });
    expect(decide({ kind: 'read', level: 'detail' }, who('builder'), 'none')).toEqual({ ok: true });
  });
});
