import { resolveByBases } from './base-resolution';

const providers = (x86: string[]) => new Map([['x86_64', new Set(x86)]]);
const dep = (dependency: string, architecture = 'x86_64') => ({ architecture, dependency });

describe('which declared base resolves which dependency', () => {
  test('the first base in declared order that provides a dependency resolves it; the rest stay unresolved', () => {
    const out = resolveByBases(
      [dep('soname(libc.so.6(x86_64))'), dep('soname(libliba.so.1(x86_64))'), dep('binary(sh)'), dep('nowhere')],
      [
        { name: 'main', providers: providers(['soname(libliba.so.1(x86_64))', 'binary(sh)']) },
        { name: 'os', providers: providers(['soname(libc.so.6(x86_64))', 'binary(sh)']) },
      ],
    );
    expect(out.resolved).toEqual([
      { base: 'main', dependencies: ['binary(sh)', 'soname(libliba.so.1(x86_64))'] },
      { base: 'os', dependencies: ['soname(libc.so.6(x86_64))'] },
    ]);
    expect(out.unresolved).toEqual([dep('nowhere')]);
  });

  test('a base resolves only on the architectures it provides for', () => {
    const out = resolveByBases([dep('x', 'aarch64'), dep('x')], [{ name: 'main', providers: providers(['x']) }]);
    expect(out.resolved).toEqual([{ base: 'main', dependencies: ['x'] }]);
    expect(out.unresolved).toEqual([dep('x', 'aarch64')]);
  });

  test('no bases: nothing resolved, everything left', () => {
    expect(resolveByBases([dep('a')], [])).toEqual({ resolved: [], unresolved: [dep('a')] });
  });
});
