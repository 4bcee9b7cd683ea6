import { ConfigError, parseConfig } from './config';
import { DEFAULT_PROFILE, parseProfile, profileFrom, ProfileError, profileSettingProblems } from './profile';
import { profileOf, variantsFor } from './variants';

const TWO = JSON.stringify({
  architectures: [
    { name: 'x86_64', levels: ['x86_64', 'x86_64-v3x', 'x86_64-v4'] },
    { name: 'aarch64', levels: ['aarch64'] },
  ],
});

describe('the farm profile', () => {
  it('by default is the farm before profiles: x86_64 with x86_64 and x86_64-v3x, publishing to main and main-v3x', () => {
    expect(DEFAULT_PROFILE.architectures).toEqual(['x86_64']);
    expect(DEFAULT_PROFILE.levels).toEqual([
      { level: 'x86_64', architecture: 'x86_64', baseline: 'x86_64', index: 'main' },
      { level: 'x86_64-v3x', architecture: 'x86_64', baseline: 'x86_64', index: 'main-v3x' },
    ]);
    expect(variantsFor([])).toEqual([{ isa: 'x86_64', index: 'main', architecture: 'x86_64' }]);
  });

  it('lists each architecture with its levels, baseline first, and names the index of each', () => {
    const profile = parseProfile(TWO);
    expect(profile.architectures).toEqual(['x86_64', 'aarch64']);
    expect(profile.levelsOf('x86_64')).toEqual(['x86_64', 'x86_64-v3x', 'x86_64-v4']);
    expect(profile.levelsOf('riscv64')).toEqual([]);
    expect(profile.levels.map((l) => `${l.level}→${l.index}`)).toEqual(['x86_64→main', 'x86_64-v3x→main-v3x', 'x86_64-v4→main-v4', 'aarch64→main-aarch64']);
    expect(profile.architectureOf('x86_64-v4')).toBe('x86_64');
    expect(profile.architectureOf('aarch64')).toBe('aarch64');
    expect(profile.architectureOf('ppc64le')).toBeUndefined();
  });

  it('builds every architecture\'s baseline and the extra levels asked for; each level layers on its own baseline', () => {
    const profile = parseProfile(TWO);
    const variants = variantsFor(['x86_64-v4'], profile);
    expect(variants).toEqual([
      { isa: 'x86_64', index: 'main', architecture: 'x86_64' },
      { isa: 'x86_64-v4', index: 'main-v4', architecture: 'x86_64' },
      { isa: 'aarch64', index: 'main-aarch64', architecture: 'aarch64' },
    ]);
    expect(profileOf(variants).variants).toEqual([
      { id: 'x86_64', index: 'main' },
      { id: 'x86_64-v4', index: 'main-v4', layersOn: 'x86_64' },
      { id: 'aarch64', index: 'main-aarch64' },
    ]);
    expect(profile.baseIndexes('main-v4')).toEqual(['main']);
    expect(profile.baseIndexes('main-aarch64')).toEqual([]);
    expect(profile.baseIndexes('main')).toEqual([]);
    expect(() => variantsFor(['aarch64-sve'], profile)).toThrow(/SUMMIT_VARIANTS: "aarch64-sve" is not a level of the profile \(x86_64, x86_64-v3x, x86_64-v4, aarch64\)/);
  });

  it('takes an index per level where the default naming does not fit, and YAML as well as JSON', () => {
    const profile = parseProfile('architectures:\n  - name: aarch64\n    levels: [aarch64]\n  - name: x86_64\n    levels: [x86_64]\nindexes:\n  x86_64: main-x86\n');
    expect(profile.levels.map((l) => `${l.level}→${l.index}`)).toEqual(['aarch64→main', 'x86_64→main-x86']);
  });

  it.each([
    [{}, /architectures: /],
    [{ architectures: [] }, /architectures: a profile lists at least one architecture/],
    [{ architectures: [{ name: 'x86_64', levels: [] }] }, /architectures\.0\.levels: an architecture lists at least its baseline level/],
    [{ architectures: [{ name: 'x86_64', levels: ['x86_64-v3x', 'x86_64'] }] }, /architectures\.0\.levels\.0: the first level of "x86_64" is its baseline and must be named "x86_64" \(got "x86_64-v3x"\)/],
    [{ architectures: [{ name: 'x86_64', levels: ['x86_64'] }, { name: 'x86_64', levels: ['x86_64'] }] }, /architectures\.1\.name: architecture "x86_64" is listed twice/],
    [{ architectures: [{ name: 'x86_64', levels: ['x86_64', 'aarch64'] }, { name: 'aarch64', levels: ['aarch64'] }] }, /architectures\.1\.levels\.0: level "aarch64" is listed twice \(also under x86_64\)/],
    [{ architectures: [{ name: 'x86/64', levels: ['x86/64'] }] }, /architectures\.0\.name: an architecture name may hold only/],
    [{ architectures: [{ name: 'x86_64', levels: ['x86_64', '../v3'] }] }, /architectures\.0\.levels\.1: an ISA level may hold only/],
    [{ architectures: [{ name: 'x86_64', levels: ['x86_64'], flags: ['avx'] }] }, /architectures\.0: Unrecognized key: "flags"/],
    [{ architectures: [{ name: 'x86_64', levels: ['x86_64'] }], indexes: { aarch64: 'arm' } }, /indexes\.aarch64: "aarch64" is not a level of the profile \(x86_64\)/],
    [{ architectures: [{ name: 'x86_64', levels: ['x86_64', 'x86_64-v3x'] }], indexes: { 'x86_64-v3x': 'main' } }, /levels "x86_64" and "x86_64-v3x" both publish to index "main"/],
  ])('refuses %j, naming the bad field', (doc, message) => {
    expect(() => profileFrom(doc, 'test')).toThrow(ProfileError);
    expect(() => profileFrom(doc, 'test')).toThrow(message);
  });

  it('refuses text that is neither JSON nor YAML', () => {
    expect(() => parseProfile('{ architectures: [', 'p.json')).toThrow(/invalid profile \(p\.json\): not JSON or YAML/);
  });

  it('checks the settings that name levels and the builder\'s architecture against the profile', () => {
    const profile = parseProfile(TWO);
    expect(profileSettingProblems(profile, { SUMMIT_VARIANTS: ['x86_64-v4'], SUMMIT_BUILDER_ISA: ['aarch64'], SUMMIT_BUILDER_ARCH: 'aarch64' })).toEqual([]);
    expect(profileSettingProblems(profile, { SUMMIT_BUILDER_ISA: ['x86_64'], SUMMIT_BUILDER_ARCH: 'aarch64' })).toEqual([
      { field: 'SUMMIT_BUILDER_ISA', message: 'x86_64: not a level of aarch64, the architecture the builder builds for (aarch64)' },
    ]);
    expect(profileSettingProblems(profile, { SUMMIT_BUILDER_ARCH: 'riscv64', SUMMIT_VARIANTS: ['x86_64-v9'] }).map((p) => p.field)).toEqual(['SUMMIT_VARIANTS', 'SUMMIT_BUILDER_ARCH']);
  });

  it('is read from SUMMIT_PROFILE inline by the configuration, which names the variable of every problem', () => {
    const c = parseConfig({ SUMMIT_PROFILE: TWO, SUMMIT_VARIANTS: 'x86_64-v4', SUMMIT_BUILDER_ISA: 'aarch64' });
    expect(c.SUMMIT_VARIANTS).toEqual(['x86_64-v4']);
    expect(() => parseConfig({ SUMMIT_VARIANTS: 'x86_64-v4' })).toThrow(/SUMMIT_VARIANTS: x86_64-v4: not a level of the profile \(x86_64, x86_64-v3x\) \(got "x86_64-v4"\)/);
    expect(() => parseConfig({ SUMMIT_PROFILE: '{"architectures": []}' })).toThrow(ConfigError);
    expect(() => parseConfig({ SUMMIT_PROFILE: '{"architectures": []}' })).toThrow(/SUMMIT_PROFILE: invalid profile \(SUMMIT_PROFILE\):\n {2}architectures: a profile lists at least one architecture/);
    // A file's path is read by the entry point (workers/profile.ts), not by the pure configuration.
    expect(parseConfig({ SUMMIT_PROFILE: '/etc/summit/profile.yaml', SUMMIT_VARIANTS: 'x86_64-v4' }).SUMMIT_PROFILE).toBe('/etc/summit/profile.yaml');
  });
});
