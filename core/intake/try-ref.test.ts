import { tryIndexOf, tryNameOf, tryNameProblem } from '../contracts/try';
import { defaultTryName, tryRefProblem } from './try-ref';

describe('the default try name of a ref', () => {
  test.each([
    ['feature/x', 'feature-x'],
    ['refs/heads/feature/x', 'feature-x'],
    ['refs/pull/12/head', 'pr-12'],
    ['refs/pull/12/merge', 'pr-12'],
    ['pull/3/head', 'pr-3'],
    ['refs/merge-requests/5/head', 'mr-5'],
    ['fix/ünïcode & spaces', 'fix-n-code-spaces'],
    ['..hidden', 'hidden'],
    ['release/1.2..3', 'release-1.2.3'],
    ['/////', 'try'],
    [`long/${'a'.repeat(100)}`, `long-${'a'.repeat(55)}`],
  ])('%s → %s', (ref, name) => {
    expect(defaultTryName(ref)).toBe(name);
    expect(tryNameProblem(defaultTryName(ref))).toBeUndefined();
  });
});

describe('try names', () => {
  test.each(['pr-12', 'feature-x', 'a', 'v1.2+b~c_d'])('%s is accepted', (name) => expect(tryNameProblem(name)).toBeUndefined());
  test.each([
    ['', /empty/],
    ['../etc', /may hold only/],
    ['a/b', /may hold only/],
    ['a..b', /may not hold "\.\."/],
    ['-x', /may hold only/],
    ['x'.repeat(61), /at most 60/],
    ['a b', /may hold only/],
  ])('%j is refused', (name, why) => expect(tryNameProblem(name)).toMatch(why));
  test('the index of a try is try/<name>, and back', () => {
    expect(tryIndexOf('pr-1')).toBe('try/pr-1');
    expect(tryNameOf('try/pr-1')).toBe('pr-1');
    expect(tryNameOf('main')).toBeUndefined();
  });
});

describe('try refs', () => {
  test.each(['main', 'feature/x', 'refs/heads/a.b', 'refs/pull/12/head'])('%s is accepted', (ref) => expect(tryRefProblem(ref)).toBeUndefined());
  test.each(['', 'a..b', '-x', 'a b', 'a~1', 'a^', 'a:b', 'a@{1}', 'a/', '/a', 'a.lock', 'a/.b', 'a//b', 'x'.repeat(201), 'a\u0000'])('%j is refused', (ref) => {
    expect(tryRefProblem(ref)).toBeDefined();
  });
});
