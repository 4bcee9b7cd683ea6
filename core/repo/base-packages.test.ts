import { baseMeta, baseNeedOf, contentKey, interpreterInstallPath, isBasePackage, needText } from './base-packages';

describe('base packages', () => {
  it.each<[string, ReturnType<typeof baseNeedOf>]>([
    ['soname(libc.so.6(x86_64))', { kind: 'soname', soname: 'libc.so.6', machine: 'x86_64' }],
    ['interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', { kind: 'interpreter', path: '/lib64/ld-linux-x86-64.so.2', machine: 'x86_64' }],
    ['soname(x86_64-linux-gnu/libc.so.6(x86_64))', undefined],
    ['interpreter(relative/ld.so(x86_64))', undefined],
    ['interpreter(/lib/../etc/passwd(x86_64))', undefined],
    ['binary(sh)', undefined],
    ['pkgconfig(zlib)', undefined],
    ['liba', undefined],
  ])('reads %s as a need the build root may answer', (dep, need) => {
    expect(baseNeedOf(dep)).toEqual(need);
    if (need) expect(needText(need)).toBe(dep);
  });

  it.each([
    ['/lib64/ld-linux-x86-64.so.2', 'usr/lib/ld-linux-x86-64.so.2'],
    ['/lib/ld-linux.so.2', 'usr/lib/ld-linux.so.2'],
    ['/usr/lib/ld-linux-x86-64.so.2', 'usr/lib/ld-linux-x86-64.so.2'],
    ['/opt/ld.so', undefined],
  ])('installs the interpreter %s at %s (moss links /lib64 and /lib to usr/lib)', (path, installed) => {
    expect(interpreterInstallPath(path)).toBe(installed);
  });

  it('names its version by its contents, so the same files give the same package', () => {
    const files = [{ installPath: 'usr/lib/libc.so.6', sha256: 'aa' }, { installPath: 'usr/lib/ld-linux-x86-64.so.2', sha256: 'bb' }];
    expect(contentKey(files, ['b', 'a'])).toBe(contentKey([...files].reverse(), ['a', 'b', 'a']));
    expect(contentKey(files, ['a'])).not.toBe(contentKey([{ ...files[0], sha256: 'cc' }, files[1]], ['a']));
    const meta = baseMeta('x86_64', ['soname(libc.so.6(x86_64))', 'interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))'], '0123456789abcdef0123');
    expect(meta).toMatchObject({ name: 'build-root', version: '0123456789abcdef', sourceId: 'build-root', depends: [] });
    expect(meta.provides).toEqual(['interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', 'soname(libc.so.6(x86_64))']);
    expect(isBasePackage(meta)).toBe(true);
  });
});
