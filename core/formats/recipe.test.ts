import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from './errors';
import { parseRecipe, readRecipeFile, recipeDependencies, RecipeError, type Recipe } from './recipe';

const FILE = 'demo/stone.yaml';

/** A minimal valid recipe; `extra` is appended as further top-level YAML. Lines 1–5 are always these five. */
function yaml(extra = '', head: Partial<Record<'name' | 'version' | 'release' | 'homepage' | 'license', string>> = {}): string {
  const h = { name: 'demo', version: '1.0.0', release: '1', homepage: 'https://example.org', license: 'MIT', ...head };
  return `name: ${h.name}\nversion: ${h.version}\nrelease: ${h.release}\nhomepage: ${h.homepage}\nlicense: ${h.license}\n${extra}`;
}

function parse(text: string): { recipe: Recipe; warnings: ReturnType<typeof parseRecipe>['warnings'] } {
  return parseRecipe(text, FILE);
}

/** The RecipeError a text raises (failing the test if it parses). */
function failure(text: string): RecipeError {
  try {
    parseRecipe(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(RecipeError);
    expect(err).toBeInstanceOf(FormatError);
    return err as RecipeError;
  }
  throw new Error(`expected the recipe to be refused:\n${text}`);
}

describe('names that become build ids and pool paths', () => {
  test.each([
    ['name', '../evil', 1],
    ['name', 'a/b', 1],
    ['name', '"$(touch x)"', 1],
    ['name', "'x;rm -rf /'", 1],
    ['name', '.hidden', 1],
    ['version', '"1.0 beta"', 2],
    ['version', '1.0/2', 2],
    ['version', '"1.0`id`"', 2],
  ] as const)('%s %s is refused with the field and its line', (field, value, line) => {
    const issue = failure(yaml('', { [field]: value })).issues[0];
    expect(issue).toMatchObject({ path: field, line });
    expect(issue.message).toMatch(new RegExp(`^the ${field} ".*" may hold only letters, digits`));
  });

  test('a name longer than 100 characters is refused', () => {
    expect(failure(yaml('', { name: 'a'.repeat(101) })).issues[0].message).toBe('the name is 101 characters long; at most 100 are allowed');
  });

  test.each(['0.25.1+git.1354b67', '1.5.29-rc2', '1.0~rc1', '2024.1', '9.3p1', '1.5.6.pl02'])('version %s, as real recipes write them, is accepted', (version) => {
    expect(parse(yaml('', { version })).recipe.source.version).toBe(version);
  });

  test.each(['xorg_proto', 'libstdc++', 'gtk+3', 'python-3.11'])('name %s is accepted', (name) => {
    expect(parse(yaml('', { name })).recipe.source.name).toBe(name);
  });
});

describe('version', () => {
  test.each([
    ['0.010', '0.010'],
    ['1.10', '1.10'],
    ['2', '2'],
    ['47.0', '47.0'],
    ['1e3', '1e3'],
    ['20240722.0', '20240722.0'],
    ['"8.2"', '8.2'],
    ["'017'", '017'],
    ['1.2.3', '1.2.3'],
    ['3.0.0-rc.3', '3.0.0-rc.3'],
  ])('version %s is kept as the text %s', (written, expected) => {
    expect(parse(yaml('', { version: written })).recipe.source.version).toBe(expected);
  });

  test('a version that is not text or a number is refused', () => {
    const err = failure(yaml('', { version: '[1]' }));
    expect(err.issues).toEqual([expect.objectContaining({ path: 'version', line: 2, column: 10 })]);
  });
});

describe('release', () => {
  test('a whole number is the release', () => {
    expect(parse(yaml('', { release: '12' })).recipe.source.release).toBe(12);
  });

  test.each([
    ['0', 'must be 1 or more'],
    ['1.0', 'expected a whole number, found "1.0"'],
    ['"3"', 'expected a whole number, found text "3"'],
    ['-2', 'must be 1 or more'],
  ])('release %s is refused: %s', (written, message) => {
    const err = failure(yaml('', { release: written }));
    expect(err.issues).toEqual([expect.objectContaining({ path: 'release', line: 3, column: 10, message: expect.stringContaining(message) })]);
  });
});

describe('booleans', () => {
  test.each([
    ['true', true],
    ['false', false],
    ['"true"', true],
    ['"false"', false],
    ['yes', true],
    ['no', false],
    ['on', true],
    ['off', false],
    ['True', true],
    ['"FALSE"', false],
  ])('emul32: %s reads as %s', (written, expected) => {
    expect(parse(yaml(`emul32: ${written}\n`)).recipe.options.emul32).toBe(expected);
  });

  test('options left out take boulder defaults', () => {
    expect(parse(yaml()).recipe.options).toEqual({
      toolchain: 'llvm',
      cspgo: false,
      samplepgo: false,
      debug: true,
      strip: true,
      networking: false,
      compressman: false,
      lastrip: true,
      mold: false,
      emul32: false,
      architectures: [],
    });
  });

  test('every option key is read', () => {
    const text = yaml(
      'toolchain: gnu\ncspgo: yes\nsamplepgo: true\ndebug: no\nstrip: "false"\nnetworking: on\ncompressman: true\n' +
        'lastrip: false\nmold: yes\nemul32: true\narchitectures: [x86_64, emul32/x86_64]\n',
    );
    expect(parse(text).recipe.options).toEqual({
      toolchain: 'gnu',
      cspgo: true,
      samplepgo: true,
      debug: false,
      strip: false,
      networking: true,
      compressman: true,
      lastrip: false,
      mold: true,
      emul32: true,
      architectures: ['x86_64', 'emul32/x86_64'],
    });
  });

  test.each([['maybe'], ['1'], ['[true]']])('strip: %s is refused with its place', (written) => {
    const err = failure(yaml(`strip: ${written}\n`));
    expect(err.issues).toEqual([expect.objectContaining({ file: FILE, path: 'strip', line: 6, column: 8 })]);
    expect(err.issues[0].message).toContain('expected true or false');
  });

  test('an unknown toolchain is refused', () => {
    expect(failure(yaml('toolchain: msvc\n')).issues[0]).toMatchObject({ path: 'toolchain', message: expect.stringContaining('"llvm", "gnu"') });
  });
});

describe('license', () => {
  test.each([
    ['MIT', ['MIT']],
    ['[MIT, Apache-2.0]', ['MIT', 'Apache-2.0']],
    ['\n  - GPL-2.0-only\n  - LGPL-2.1-or-later', ['GPL-2.0-only', 'LGPL-2.1-or-later']],
  ])('license %j becomes a list', (written, expected) => {
    expect(parse(yaml('', { license: written })).recipe.source.license).toEqual(expected);
  });

  test('a list entry of the wrong type is reported at that entry', () => {
    expect(failure(yaml('', { license: '[MIT, 3]' })).issues).toEqual([
      expect.objectContaining({ path: 'license[1]', line: 5, column: 16, message: 'expected text, found the number 3' }),
    ]);
  });
});

describe('missing and mistyped keys', () => {
  test('required keys that are missing are all reported, without a line', () => {
    const err = failure('name: demo\nversion: 1\n');
    expect(err.issues.map((i) => [i.path, i.line, i.message])).toEqual([
      ['release', undefined, 'required key is missing'],
      ['homepage', undefined, 'required key is missing'],
      ['license', undefined, 'required key is missing'],
    ]);
    expect(err.where).toBe(FILE);
    expect(err.problem).toMatch(/^3 problems:\n {2}demo\/stone\.yaml release: required key is missing\n/);
  });

  test('one type error names file, line:column and YAML path in `where`', () => {
    const err = failure(yaml('', { homepage: '[a, b]' }));
    expect(err.where).toBe(`${FILE}:4:11 homepage`);
    expect(err.problem).toBe('expected text, found a list');
    expect(err.message).toBe(`recipe: ${FILE}:4:11 homepage: expected text, found a list`);
  });

  test('several problems are listed in order of position, each with its own place', () => {
    const err = failure(yaml('builddeps: [a, 2]\npackages:\n  - demo-devel:\n      rundeps: demo\n', { homepage: '7' }));
    expect(err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      '4:11 homepage: expected text, found the number 7',
      '6:16 builddeps[1]: expected text, found the number 2',
      '9:16 packages[0].demo-devel.rundeps: expected a list, found text "demo"',
    ]);
  });

  test('an empty optional text value counts as left out', () => {
    expect(parse(yaml('summary:\nsetup:\n')).recipe.package.summary).toBeUndefined();
  });

  test.each([
    ['builddeps', 'builddeps:\n'],
    ['upstreams', 'upstreams :\n    # - https://example.org/demo-1.0.tar.xz : 0123\n'],
    ['packages', 'packages:\n  # - demo-devel:\n'],
    ['a sub-package rundeps', 'packages:\n  - demo-devel:\n      rundeps:\n'],
    ['tuning and paths', 'tuning:\npaths:\n'],
  ])('a list key with no value (%s) is an empty list, as boulder takes it', (_what, extra) => {
    const { recipe } = parse(yaml(extra));
    expect(recipe.build.buildDeps).toEqual([]);
    expect(recipe.upstreams).toEqual([]);
    expect(recipe.tuning).toEqual([]);
    expect(recipe.package.paths).toEqual([]);
    expect(recipe.subPackages.flatMap((p) => p.package.runDeps)).toEqual([]);
  });

  test('a list key holding a scalar is still refused', () => {
    expect(failure(yaml('builddeps: gcc\n')).issues[0]).toMatchObject({ path: 'builddeps', line: 6, message: 'expected a list, found text "gcc"' });
  });

  test.each([
    ['', 'the recipe is empty'],
    ['# only a comment\n', 'the recipe is empty'],
    ['- name: x\n', 'found a list'],
    ['just text\n', 'found text "just text"'],
  ])('a document that is not a mapping (%j) is refused', (text, message) => {
    expect(failure(text).issues[0].message).toContain(message);
  });
});

describe('unknown keys', () => {
  test('are warnings with their YAML path and the position of the key, and the recipe still parses', () => {
    const text = yaml(
      'tune:\n  - lto\npackages:\n  - "%(name)-devel":\n      sumary: Dev files\nprofiles:\n  - emul32:\n      configure: x\n' +
        'upstreams:\n  - https://example.org/a.tar.gz:\n      hash: abc\n      extract: false\n',
    );
    const { recipe, warnings } = parse(text);
    expect(recipe.subPackages).toEqual([{ name: '%(name)-devel', package: expect.objectContaining({ summary: undefined }) }]);
    expect(warnings.map((w) => [w.path, w.line, w.column])).toEqual([
      ['tune', 6, 1],
      ['packages[0]["%(name)-devel"].sumary', 10, 7],
      ['profiles[0].emul32.configure', 13, 7],
      ['upstreams[0]["https://example.org/a.tar.gz"].extract', 17, 7],
    ]);
    expect(warnings[0]).toEqual({
      file: FILE,
      path: 'tune',
      line: 6,
      column: 1,
      message: 'unknown recipe key "tune": boulder ignores it; did you mean "tuning"?',
    });
    expect(warnings[1].message).toContain('did you mean "summary"?');
  });

  test('git upstream keys are checked against the git fields', () => {
    const { warnings } = parse(yaml(`upstreams:\n  - git|https://example.org/r.git:\n      ref: ${'a'.repeat(40)}\n      hash: abc\n`));
    expect(warnings).toEqual([expect.objectContaining({ path: 'upstreams[0]["git|https://example.org/r.git"].hash', line: 9 })]);
  });

  test('extra keys of a single-key list entry are warnings: boulder keeps only the smallest key', () => {
    const text = yaml('packages:\n  - zz-docs:\n      summary: Docs\n    aa-libs:\n      summary: Libs\n');
    const { recipe, warnings } = parse(text);
    expect(recipe.subPackages.map((p) => p.name)).toEqual(['aa-libs']);
    expect(warnings).toEqual([expect.objectContaining({ path: 'packages[0].zz-docs', line: 7, column: 5 })]);
    expect(warnings[0].message).toContain('ignores "zz-docs" (it keeps "aa-libs")');
  });

  test('ride along on the error when the recipe is refused for another reason', () => {
    const err = failure(yaml('tune: [lto]\nstrip: maybe\n'));
    expect(err.issues.map((i) => i.path)).toEqual(['strip']);
    expect(err.warnings.map((w) => w.path)).toEqual(['tune']);
  });
});

describe('YAML syntax errors', () => {
  test.each([
    ['name: demo\nversion: [1.0\nrelease: 1\n', 3, 1],
    ['name: demo\nname: again\n', 2, 1],
    ['name: demo\n\tversion: 1\n', 2, 1],
    ['name: demo\n---\nname: two\n', 2, 1],
    // An unclosed quote is noticed where the input ends.
    ['name: "demo\n', 2, 1],
    ['name: demo\nversion: 1\n  release: 1\n', 2, 10],
  ])('%j is a RecipeError at line %i column %i', (text, line, column) => {
    const err = failure(text);
    expect(err.issues[0]).toMatchObject({ file: FILE, line, column });
    expect(err.message).toContain(`${FILE}:${line}:${column}`);
  });

  test('an alias with no anchor is a RecipeError', () => {
    expect(failure(yaml('summary: *nowhere\n')).message).toMatch(/nowhere/);
  });

  test('aliases are followed', () => {
    const text = yaml('builddeps: &deps\n  - pkgconfig(zlib)\ncheckdeps: *deps\n');
    expect(parse(text).recipe.build.checkDeps).toEqual(['pkgconfig(zlib)']);
  });

  test('a document of nested aliases (billion laughs) is refused quickly', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    const started = Date.now();
    expect(failure(text).message).toMatch(/expands to more than|alias/i);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('upstreams', () => {
  const sha = 'd5ad07dd862facae03051c54c6535e54c7ed7407318783fcad1ad2d7076fffeb';
  const commit = '85f8339d9c11caa203d79e6b10fd928a388d6466';

  test.each([
    [`- https://example.org/a-1.tar.xz : ${sha}`, { kind: 'archive', url: 'https://example.org/a-1.tar.xz', hash: sha, unpack: true }],
    [
      `- https://example.org/a.zip :\n      hash: ${sha}\n      rename: b.zip\n      stripdirs: 2\n      unpack: no\n      unpackdir: sub/dir`,
      { kind: 'archive', url: 'https://example.org/a.zip', hash: sha, rename: 'b.zip', stripDirs: 2, unpack: false, unpackDir: 'sub/dir' },
    ],
    [`- git|https://github.com/o/r.git : ${commit}`, { kind: 'git', url: 'https://github.com/o/r.git', ref: commit, staging: true }],
    [
      `- git|https://github.com/o/r.git :\n      ref: ${commit}\n      clonedir: src/r\n      staging: no`,
      { kind: 'git', url: 'https://github.com/o/r.git', ref: commit, cloneDir: 'src/r', staging: false },
    ],
    ['- git|https://github.com/o/r.git : v1.2.0', { kind: 'git', url: 'https://github.com/o/r.git', ref: 'v1.2.0', staging: true }],
  ])('%s', (entry, expected) => {
    expect(parse(yaml(`upstreams:\n  ${entry}\n`)).recipe.upstreams).toEqual([expected]);
  });

  test.each([
    ['- git|https://github.com/o/r.git : {hash: abc}', 'upstreams[0]["git|https://github.com/o/r.git"]', 'found archive fields (hash) on a git| URL'],
    ['- https://example.org/a.tgz : {ref: abc}', 'upstreams[0]["https://example.org/a.tgz"]', 'prefix the URL with git|'],
    ['- https://example.org/a.tgz : {rename: b.tgz}', 'upstreams[0]["https://example.org/a.tgz"]', 'needs hash'],
    ['- git|https://github.com/o/r.git : {clonedir: x}', 'upstreams[0]["git|https://github.com/o/r.git"]', 'needs ref'],
    ['- not a url : abc', 'upstreams[0]["not a url"]', 'not a valid URL'],
    ['- {}', 'upstreams[0]', 'empty upstream'],
    ['- https://example.org/a.tgz : {hash: abc, stripdirs: 300}', 'upstreams[0]["https://example.org/a.tgz"].stripdirs', 'must be at most 255'],
    ['- https://example.org/a.tgz : 12', 'upstreams[0]["https://example.org/a.tgz"]', 'expected the sha256'],
    ['- https://example.org/a.tgz', 'upstreams[0]', 'expected a mapping, found text'],
  ])('%s is refused at %s', (entry, path, message) => {
    const err = failure(yaml(`upstreams:\n  ${entry}\n`));
    expect(err.issues).toEqual([expect.objectContaining({ path, line: 7, message: expect.stringContaining(message) })]);
  });
});

describe('packages and profiles', () => {
  test('sub-packages keep their written names, fields and paths in both forms', () => {
    const text = yaml(
      'packages:\n' +
        '  - "%(name)-devel":\n      summary: Development files\n      rundeps:\n        - "%(name)"\n' +
        '      paths:\n        - /usr/include\n        - /usr/lib/*.so : symlink\n' +
        '  - demo-tools:\n      description: Tools\n      conflicts: [old-tools]\n      rundeps-exclude: [soname(x)]\n' +
        '      provides-exclude: [binary(y)]\n      paths:\n        - /usr/bin/tool: exe\n  - {}\n',
    );
    expect(parse(text).recipe.subPackages).toEqual([
      {
        name: '%(name)-devel',
        package: {
          summary: 'Development files',
          description: undefined,
          runDeps: ['%(name)'],
          runDepsExclude: [],
          providesExclude: [],
          paths: [
            { path: '/usr/include', kind: 'any' },
            { path: '/usr/lib/*.so', kind: 'symlink' },
          ],
          conflicts: [],
        },
      },
      {
        name: 'demo-tools',
        package: {
          summary: undefined,
          description: 'Tools',
          runDeps: [],
          runDepsExclude: ['soname(x)'],
          providesExclude: ['binary(y)'],
          paths: [{ path: '/usr/bin/tool', kind: 'exe' }],
          conflicts: ['old-tools'],
        },
      },
    ]);
  });

  test('root package fields are read from the top level', () => {
    const text = yaml('summary: Demo\ndescription: |\n  Long text\nrundeps: [a]\nrundeps-exclude: [b]\nprovides-exclude: [c]\npaths: [/usr/share/demo]\nconflicts: [d]\n');
    expect(parse(text).recipe.package).toEqual({
      summary: 'Demo',
      description: 'Long text\n',
      runDeps: ['a'],
      runDepsExclude: ['b'],
      providesExclude: ['c'],
      paths: [{ path: '/usr/share/demo', kind: 'any' }],
      conflicts: ['d'],
    });
  });

  test('a path kind outside any/exe/symlink/special is refused at that entry', () => {
    const err = failure(yaml('paths:\n  - /usr/bin/x: binary\n'));
    expect(err.issues).toEqual([expect.objectContaining({ path: 'paths[0]["/usr/bin/x"]', line: 7, column: 17 })]);
    expect(err.issues[0].message).toContain('"any", "exe", "symlink", "special"');
  });

  test('profiles hold build steps per target; the root build is separate', () => {
    const text = yaml(
      'setup: "%configure"\nbuilddeps: [pkgconfig(zlib)]\ncheckdeps: [binary(python3)]\n' +
        'profiles:\n  - emul32:\n      setup: "%configure --libdir=%(libdir)"\n      builddeps: [pkgconfig32(zlib)]\n' +
        '  - x86_64:\n      build: "%make"\n      workload: run\n      environment: export A=1\n      check: "%make check"\n      install: "%make_install"\n',
    );
    const { recipe } = parse(text);
    expect(recipe.build).toEqual(expect.objectContaining({ setup: '%configure', buildDeps: ['pkgconfig(zlib)'], checkDeps: ['binary(python3)'] }));
    expect(recipe.profiles).toEqual([
      { target: 'emul32', build: expect.objectContaining({ setup: '%configure --libdir=%(libdir)', buildDeps: ['pkgconfig32(zlib)'], checkDeps: [] }) },
      {
        target: 'x86_64',
        build: expect.objectContaining({ build: '%make', workload: 'run', environment: 'export A=1', check: '%make check', install: '%make_install' }),
      },
    ]);
  });

  test('a packages value that is not a list of mappings is refused', () => {
    expect(failure(yaml('packages:\n  demo-devel: {}\n')).issues[0]).toMatchObject({ path: 'packages', message: 'expected a list, found a mapping' });
    expect(failure(yaml('packages:\n  - demo-devel\n')).issues[0]).toMatchObject({ path: 'packages[0]', message: 'expected a mapping, found text "demo-devel"' });
  });
});

describe('tuning', () => {
  test.each([
    ['- lto', { key: 'lto', value: true }],
    ['- lto: full', { key: 'lto', value: 'full' }],
    ['- lto: true', { key: 'lto', value: true }],
    ['- icf: false', { key: 'icf', value: false }],
    // YAML 1.2 reads `no` as text, and so does boulder: it is an option name here, not false.
    ['- icf: no', { key: 'icf', value: 'no' }],
    ['- frame-pointer: false', { key: 'frame-pointer', value: false }],
  ])('%s', (entry, expected) => {
    expect(parse(yaml(`tuning:\n  ${entry}\n`)).recipe.tuning).toEqual([expected]);
  });

  test.each([
    ['- {}', 'tuning[0]', 'empty tuning entry'],
    ['- lto: [a]', 'tuning[0].lto', 'expected true, false or an option'],
    ['- 3', 'tuning[0]', 'expected a tuning key'],
  ])('%s is refused at %s', (entry, path, message) => {
    expect(failure(yaml(`tuning:\n  ${entry}\n`)).issues).toEqual([expect.objectContaining({ path, message: expect.stringContaining(message) })]);
  });
});

describe('recipeDependencies', () => {
  test('root and sub-packages with macros expanded, same names merged, build deps as boulder records them', () => {
    const text = yaml(
      'builddeps: [pkgconfig(zlib), binary(cmake)]\ncheckdeps: [binary(cmake), binary(python3)]\nrundeps: [bash]\n' +
        'profiles:\n  - emul32:\n      builddeps: [pkgconfig32(zlib)]\n' +
        'packages:\n  - "%(name)-devel":\n      rundeps: ["%(name)", pkgconfig(zlib)]\n  - "%(name)":\n      rundeps: ["%(name)-libs", bash]\n' +
        '      conflicts: [demo-legacy]\n  - "%(name)-libs-%(version)":\n      summary: Libraries\n',
      { version: '0.010' },
    );
    expect(recipeDependencies(parse(text).recipe)).toEqual({
      source: 'demo',
      buildDepends: [
        { kind: 'binary', name: 'cmake' },
        { kind: 'binary', name: 'python3' },
        { kind: 'pkgconfig', name: 'zlib' },
      ],
      profileBuildDepends: [{ kind: 'pkgconfig32', name: 'zlib' }],
      packages: [
        {
          name: 'demo',
          provides: [{ kind: 'name', name: 'demo' }],
          depends: [
            { kind: 'name', name: 'bash' },
            { kind: 'name', name: 'demo-libs' },
          ],
          conflicts: [{ kind: 'name', name: 'demo-legacy' }],
        },
        {
          name: 'demo-devel',
          provides: [{ kind: 'name', name: 'demo-devel' }],
          depends: [
            { kind: 'name', name: 'demo' },
            { kind: 'pkgconfig', name: 'zlib' },
          ],
          conflicts: [],
        },
        { name: 'demo-libs-0.010', provides: [{ kind: 'name', name: 'demo-libs-0.010' }], depends: [], conflicts: [] },
      ],
    });
  });
});

describe('readRecipeFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recipe-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads the nano fixture in place', async () => {
    const { recipe, warnings } = await readRecipeFile(join(__dirname, '../../test/fixtures/recipes-nano/stone.yaml'));
    expect(recipe.source).toEqual({ name: 'nano', version: '8.2', release: 30, homepage: 'https://www.nano-editor.org/', license: ['GPL-3.0-or-later'] });
    expect(recipe.build.buildDeps).toEqual(['pkgconfig(libmagic)', 'pkgconfig(ncursesw)', 'pkgconfig(zlib)']);
    expect(warnings).toEqual([]);
  });

  test('bytes that are not UTF-8 are a RecipeError naming the file', async () => {
    const path = join(dir, 'latin1.yaml');
    writeFileSync(path, Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]));
    await expect(readRecipeFile(path)).rejects.toMatchObject({ name: 'FormatError', where: `${path}:1:1`, problem: 'not UTF-8 at byte 6 (0xe9): a recipe must be UTF-8 text' });
  });

  test('a missing file is an I/O error, not a FormatError', async () => {
    await expect(readRecipeFile(join(dir, 'absent.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
