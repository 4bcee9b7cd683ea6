import { parseRecipe } from '../formats/recipe';
import { expandMacros, MACRO_ACTIONS, MacroError, macroVariables } from './macros';
import { stepScripts } from './step-script';

const site = { recipe: 'liba (l/liba/stone.yaml)', step: 'build' };
const baseline = macroVariables({ name: 'liba', version: '1.0', release: 3, isa: 'x86_64', jobs: 4 });
const v3x = macroVariables({ name: 'liba', version: '1.0', release: 3, isa: 'x86_64-v3x', jobs: 4 });

describe('recipe macros', () => {
  it('names the level\'s architecture of the profile in %(arch), with that level\'s flags; a level without flags of its own gets none', () => {
    const arm = macroVariables({ name: 'liba', version: '1.0', release: 3, isa: 'aarch64', architecture: 'aarch64', jobs: 4 });
    expect(expandMacros('%(arch) %(isa) %(archflags)', arm, site)).toBe('aarch64 aarch64 -march=armv8-a+simd+fp+crypto -mtune=cortex-a72.cortex-a53');
    const riscv = macroVariables({ name: 'liba', version: '1.0', release: 3, isa: 'riscv64', architecture: 'riscv64', jobs: 4 });
    expect(expandMacros('%(arch)|%(archflags)|%(cflags)|%(rustflags)', riscv, site)).toBe('riscv64||-pipe -O2 -fPIC -Wformat -Wformat-security -Wno-error|-C opt-level=3');
  });

  it.each<[string, string, string]>([
    ['%make', 'make -j "4"', 'an action'],
    ['%make_install', 'make -j "4" install DESTDIR="/mason/install"', 'an action built on another'],
    ['%make_install -j1', 'make -j "4" install DESTDIR="/mason/install" -j1', 'arguments after an action'],
    ['%cmake_build', 'cmake --build "summit-builddir" --verbose --parallel "4"', 'cmake build'],
    ['%cmake_install', 'DESTDIR="/mason/install" cmake --install "summit-builddir" --verbose', 'cmake install'],
    ['%meson_build', 'meson compile --verbose -j "4" -C "summit-builddir"', 'meson build'],
    ['%meson_install', 'DESTDIR="/mason/install" meson install --no-rebuild -C "summit-builddir"', 'meson install'],
    ['%patch %(pkgdir)/fix.patch', 'patch --batch --remove-empty-files --no-backup-if-mismatch -p1 -i /mason/recipe/fix.patch', 'patch'],
    ['%(installroot)%(bindir)', '/mason/install/usr/bin', 'variables built on others'],
    ['%(workdir) %(pkgdir) %(sourcedir)', '/mason/build /mason/recipe /mason/sourcedir', 'container paths'],
    ['%(name)-%(version)-%(release)', 'liba-1.0-3', 'recipe identity'],
    ['%(jobs) %(arch) %(isa)', '4 x86_64 x86_64', 'build facts'],
    ['%(libdir) %(prefix) %(libexecdir)', '/usr/lib /usr /usr/lib/liba', 'directories'],
    ['%(cflags)', '-march=x86-64-v2 -mtune=ivybridge -pipe -O2 -fPIC -Wformat -Wformat-security -Wno-error', 'baseline CFLAGS'],
    ["printf '%%s' 100%", "printf '%s' 100%", 'escaped and stray percent signs'],
    ['${x%.c} %1', '${x%.c} %1', 'shell suffix removal and % before a digit'],
  ])('expands %s (%s)', (input, expected) => {
    expect(expandMacros(input, baseline, site)).toBe(expected);
  });

  it('expands %configure to a checked ./configure with the standard directories', () => {
    const out = expandMacros('%configure --disable-static', baseline, site);
    expect(out.split('\n')[0]).toContain('%configure: no ./configure');
    expect(out).toMatch(/^\.\/configure --prefix="\/usr" --bindir="\/usr\/bin" .* --libdir="\/usr\/lib" .* --disable-static$/m);
  });

  it.each([['%cmake', 'cmake -G Ninja -B "summit-builddir"'], ['%meson', 'meson setup --buildtype=plain --prefix="/usr"']])('expands %s', (macro, start) => {
    expect(expandMacros(macro, baseline, site)).toContain(start);
  });

  it('gives the v3x level its own CFLAGS', () => {
    expect(v3x.cflags).toMatch(/^-march=x86-64-v3 -mtune=znver1 -maes -mfsgsbase -mpclmul -mrdrnd -mxsaveopt /);
  });

  it.each([
    ['%frobnicate', '%frobnicate'],
    ['make %(nosuchdir)/x', '%(nosuchdir)'],
  ])('refuses %s naming the macro, the step and the recipe', (input, macro) => {
    let error: unknown;
    try {
      expandMacros(input, baseline, site);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MacroError);
    expect((error as MacroError).macro).toBe(macro);
    expect((error as Error).message).toMatch(new RegExp(`^recipe liba \\(l/liba/stone.yaml\\), step "build": unknown macro ${macro.replace(/[()%]/g, '\\$&')}`));
  });

  it('refuses a variable that refers to itself', () => {
    expect(() => expandMacros('%(a)', { ...baseline, a: 'x%(b)', b: '%(a)' }, site)).toThrow(/refers to itself \(%\(a\) → %\(b\) → %\(a\)\)/);
  });

  it('documents every action', () => {
    for (const [name, action] of Object.entries(MACRO_ACTIONS)) {
      expect(action.description.length).toBeGreaterThan(10);
      expect(() => expandMacros(`%${name}`, baseline, site)).not.toThrow();
    }
  });
});

describe('step scripts', () => {
  const { recipe } = parseRecipe(
    [
      'name: liba', 'version: "1.0"', 'release: 3', 'homepage: https://example.org', 'license: MIT',
      'summary: s', 'description: d', 'environment: export FOO=1', 'setup: |\n    echo setup', 'build: |\n    %make',
      'install: |\n    %make_install', 'profiles:\n    - x86_64-v3x:\n        build: |\n            %make V=1',
    ].join('\n'),
    'l/liba/stone.yaml',
  );

  it('writes one sh -e script per defined step with the flags exported, the environment and the expanded step', () => {
    const scripts = stepScripts({ recipe, recipeFile: 'l/liba/stone.yaml', isa: 'x86_64', jobs: 2, sourceDateEpoch: 1700000000, withDependencies: false });
    expect(scripts.map((s) => s.step)).toEqual(['setup', 'build', 'install']);
    const build = scripts[1].script;
    expect(build).toMatch(/^#!\/bin\/sh\n# summit build step "build" of liba 1.0-3 \(x86_64\)/);
    expect(build).toContain("\nset -e\n");
    expect(build).toContain("CFLAGS='-march=x86-64-v2 -mtune=ivybridge -pipe -O2 -fPIC -Wformat -Wformat-security -Wno-error'; export CFLAGS");
    expect(build).toContain("SOURCE_DATE_EPOCH='1700000000'; export SOURCE_DATE_EPOCH");
    expect(build).toContain("cd '/mason/build'\n# environment\nexport FOO=1");
    expect(build).toMatch(/set -x\nmake -j "2"\n*$/);
    expect(build).not.toContain('CPATH');
  });

  it('uses a profile of the ISA level for the steps it defines and points the tools at the dependencies', () => {
    const scripts = stepScripts({ recipe, recipeFile: 'l/liba/stone.yaml', isa: 'x86_64-v3x', jobs: 2, withDependencies: true });
    expect(scripts.map((s) => s.step)).toEqual(['setup', 'build', 'install']);
    expect(scripts[1].script).toMatch(/make -j "2" V=1\n*$/);
    expect(scripts[1].script).toContain("CPATH='/mason/deps/usr/include'; export CPATH");
    expect(scripts[1].script).toContain("PKG_CONFIG_PATH='/mason/deps/usr/lib/pkgconfig:/mason/deps/usr/share/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig'");
    expect(scripts[1].script).toContain('-march=x86-64-v3');
  });
});
