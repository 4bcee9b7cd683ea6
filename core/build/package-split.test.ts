import { parseRecipe } from '../formats/recipe';
import { analysePackage, AnalysedFile } from './analysis';
import { splitPackages, splitRule, SplitEntry } from './package-split';
import { pkgconfigRequires } from './pkgconfig';

function recipeOf(extra: string[] = []) {
  return parseRecipe(
    ['name: liba', 'version: "1.0"', 'release: 1', 'homepage: https://example.org', 'license: MIT',
      'summary: A library', 'description: The liba library', ...extra].join('\n'),
    'liba/stone.yaml',
  ).recipe;
}

const file = (path: string, type: SplitEntry['type'] = 'regular', mode = 0o644): SplitEntry => ({ path, type, mode });

const LIBA_INSTALL: SplitEntry[] = [
  file('/usr', 'directory', 0o755),
  file('/usr/bin', 'directory', 0o755),
  file('/usr/bin/liba-config', 'regular', 0o755),
  file('/usr/include', 'directory', 0o755),
  file('/usr/include/liba.h'),
  file('/usr/lib', 'directory', 0o755),
  file('/usr/lib/libliba.so', 'symlink', 0o777),
  file('/usr/lib/libliba.so.1', 'symlink', 0o777),
  file('/usr/lib/libliba.so.1.0.0', 'regular', 0o755),
  file('/usr/lib/libliba.a'),
  file('/usr/lib/libliba.la'),
  file('/usr/lib/pkgconfig', 'directory', 0o755),
  file('/usr/lib/pkgconfig/liba.pc'),
  file('/usr/share', 'directory', 0o755),
  file('/usr/share/liba', 'directory', 0o700),
  file('/usr/share/liba/data.txt'),
  file('/usr/share/empty', 'directory', 0o755),
  file('/etc', 'directory', 0o755),
  file('/etc/liba.conf'),
];

describe('package path rules', () => {
  it.each<[string, string, boolean]>([
    ['/usr/include', '/usr/include/liba.h', true],
    ['/usr/include', '/usr/include', true],
    ['/usr/include/', '/usr/include/x/y.h', true],
    ['/usr/include', '/usr/includes/x.h', false],
    ['/usr/lib/lib*.so', '/usr/lib/libliba.so', true],
    ['/usr/lib/lib*.so', '/usr/lib/libliba.so.1', false],
    ['/usr/lib/*.a', '/usr/lib/sub/libx.a', true],
    ['*', '/usr/bin/anything', true],
    ['/usr/share/man/man?', '/usr/share/man/man3/x.3', true],
    ['/usr/lib/lib[ab].so', '/usr/lib/libb.so', true],
    ['/usr/lib/lib[!ab].so', '/usr/lib/libb.so', false],
    ['/usr/share/doc+x', '/usr/share/doc+x/a', true],
  ])('rule %s matches %s: %s', (pattern, path, expected) => {
    expect(splitRule(pattern, 'p').matches(path)).toBe(expected);
  });
});

describe('package splitting', () => {
  it('splits development files into -devel by default and leaves out libtool archives and files outside /usr', () => {
    const { packages, ignored } = splitPackages(recipeOf(), LIBA_INSTALL);
    expect(packages.map((p) => [p.plan.name, p.entries.map((e) => e.path)])).toEqual([
      ['liba', ['/usr/bin/liba-config', '/usr/lib/libliba.so.1', '/usr/lib/libliba.so.1.0.0', '/usr/share/liba', '/usr/share/liba/data.txt', '/usr/share/empty']],
      ['liba-devel', ['/usr/include/liba.h', '/usr/lib/libliba.so', '/usr/lib/libliba.a', '/usr/lib/pkgconfig/liba.pc']],
    ]);
    expect(ignored).toEqual([
      { path: '/usr/lib/libliba.la', reason: 'libtool archive' },
      { path: '/etc', reason: 'not below /usr' },
      { path: '/etc/liba.conf', reason: 'not below /usr' },
    ]);
    const devel = packages[1].plan;
    expect(devel).toMatchObject({ summary: 'Development files for liba', runDeps: ['liba'] });
    expect(packages[0].plan).toMatchObject({ summary: 'A library', description: 'The liba library' });
  });

  it('lets recipe sub-packages take paths over the templates, merging a declared -devel with the template', () => {
    const recipe = recipeOf([
      'packages:',
      '    - "%(name)-devel":',
      '        summary: Headers of liba',
      '        rundeps:',
      '            - pkgconfig(zlib)',
      '    - "%(name)-tools":',
      '        summary: liba tools',
      '        paths:',
      '            - "%(bindir)"',
      '            - /usr/lib/pkgconfig/liba.pc',
    ]);
    const { packages } = splitPackages(recipe, LIBA_INSTALL);
    expect(packages.map((p) => p.plan.name)).toEqual(['liba', 'liba-devel', 'liba-tools']);
    expect(packages[1].plan).toMatchObject({ summary: 'Headers of liba', runDeps: ['liba', 'pkgconfig(zlib)'] });
    expect(packages[2].entries.map((e) => e.path)).toEqual(['/usr/bin/liba-config', '/usr/lib/pkgconfig/liba.pc']);
    expect(packages[2].plan.description).toBe('The liba library');
  });

  it('emits no package that received no file', () => {
    const { packages } = splitPackages(recipeOf(), [file('/usr/bin/x', 'regular', 0o755)]);
    expect(packages.map((p) => p.plan.name)).toEqual(['liba']);
  });
});

describe('dependency analysis', () => {
  const plan = (over: Partial<ReturnType<typeof basePlan>> = {}) => ({ ...basePlan(), ...over });
  function basePlan() {
    return { name: 'liba', summary: '', description: '', runDeps: [] as string[], runDepsExclude: [] as string[], providesExclude: [] as string[], conflicts: [] as string[] };
  }
  const lib: AnalysedFile = {
    path: '/usr/lib/libliba.so.1.0.0', type: 'regular',
    elf: { machine: 'x86_64', type: 'dyn', soname: 'libliba.so.1', needed: ['libc.so.6', 'libliba.so.1'], runpath: [] },
  };
  const exe: AnalysedFile = {
    path: '/usr/bin/tool', type: 'regular',
    elf: { machine: 'x86_64', type: 'dyn', needed: ['libliba.so.1', 'libc.so.6'], runpath: [], interpreter: '/lib64/ld-linux-x86-64.so.2' },
  };

  it.each<[string, AnalysedFile[], Partial<ReturnType<typeof basePlan>>, { provides: string[]; depends: string[] }]>([
    ['a shared library provides its soname and needs the others', [lib], {}, { provides: ['soname(libliba.so.1(x86_64))'], depends: ['soname(libc.so.6(x86_64))'] }],
    ['an executable provides binary() and needs sonames and its interpreter', [exe], {}, {
      provides: ['binary(tool)'],
      depends: ['interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', 'soname(libc.so.6(x86_64))', 'soname(libliba.so.1(x86_64))'],
    }],
    ['a package providing what it needs does not depend on itself', [lib, exe], {}, {
      provides: ['binary(tool)', 'soname(libliba.so.1(x86_64))'],
      depends: ['interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', 'soname(libc.so.6(x86_64))'],
    }],
    ['sbin gives sysbinary, a library in a sub-folder is provided by its path', [
      { path: '/usr/sbin/d', type: 'symlink' },
      { path: '/usr/lib/plug/libp.so', type: 'regular', elf: { machine: 'x86_64', type: 'dyn', needed: [], runpath: [] } },
    ], {}, { provides: ['soname(plug/libp.so(x86_64))', 'sysbinary(d)'], depends: [] }],
    ['pkg-config files provide their module and need their requirements', [
      { path: '/usr/lib/pkgconfig/liba.pc', type: 'regular', pkgconfigRequires: ['zlib'] },
      { path: '/usr/lib32/pkgconfig/liba.pc', type: 'regular', pkgconfigRequires: [] },
      { path: '/usr/lib/cmake/liba/libaConfig.cmake', type: 'regular' },
    ], {}, { provides: ['cmake(liba)', 'pkgconfig(liba)', 'pkgconfig32(liba)'], depends: ['pkgconfig(zlib)'] }],
    ['declared rundeps are added and excludes applied', [exe], {
      runDeps: ['tool-data', 'binary(sh)'], runDepsExclude: ['^interpreter'], providesExclude: ['binary\\(tool\\)'],
    }, { provides: [], depends: ['binary(sh)', 'soname(libc.so.6(x86_64))', 'soname(libliba.so.1(x86_64))', 'tool-data'] }],
  ])('%s', (_what, files, over, expected) => {
    const { provides, depends } = analysePackage(plan(over), files);
    expect({ provides, depends }).toEqual(expected);
  });

  it('tells the dependencies found in the files from the declared ones', () => {
    const result = analysePackage(plan({ runDeps: ['tool-data'] }), [lib]);
    expect(result.depends).toEqual(['soname(libc.so.6(x86_64))', 'tool-data']);
    expect(result.analysedDepends).toEqual(['soname(libc.so.6(x86_64))']);
  });
});

describe('pkg-config requirements', () => {
  it.each<[string, string[]]>([
    ['Requires: zlib\n', ['zlib']],
    ['Requires: glib-2.0 >= 2.50, gobject-2.0\nRequires.private: libffi < 4 , zlib = 1.3\n', ['glib-2.0', 'gobject-2.0', 'libffi', 'zlib']],
    ['dep=foo\nRequires: ${dep} bar # comment\n', ['foo', 'bar']],
    ['Name: x\nLibs: -lx\n', []],
  ])('reads %p', (text, expected) => {
    expect(pkgconfigRequires(text)).toEqual(expected);
  });
});
