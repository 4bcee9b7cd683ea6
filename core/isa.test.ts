import { readFileSync } from 'node:fs';
import { parseProfile } from './profile';
import { cpuFlags, detectIsaLevels, machineArchitecture, X86_64_V3X_REQUIRED_FLAGS, X86_64_V4_EXTRA_FLAGS } from './isa';

const ZEN2_FLAGS =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx ' +
  'mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf pni ' +
  'pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm ' +
  'extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core ' +
  'perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba ibrs ibpb stibp vmmcall fsgsbase ' +
  'bmi1 avx2 smep bmi2 cqm rdt_a rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves';

// An Ivy Bridge: the v2 set and AES/RDRAND, but neither AVX2 nor BMI nor FMA.
const IVYBRIDGE_FLAGS =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht ' +
  'tm pbe syscall nx rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid ' +
  'aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic ' +
  'popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm cpuid_fault epb pti fsgsbase smep erms xsaveopt';

function cpuinfo(...flagLines: string[]): string {
  return flagLines
    .map((flags, i) => `processor\t: ${i}\nvendor_id\t: AuthenticAMD\nmodel name\t: test cpu\nflags\t\t: ${flags}\n`)
    .join('\n');
}

describe('ISA level detection from /proc/cpuinfo', () => {
  it('serves x86_64 and x86_64-v3x when the CPU has the whole v2, v3 and extras set', () => {
    expect(detectIsaLevels(cpuinfo(ZEN2_FLAGS, ZEN2_FLAGS))).toEqual({ levels: ['x86_64', 'x86_64-v3x'], missingForV3x: [], missing: {} });
  });

  it.each([
    ['avx2', 'avx2'],
    ['abm (LZCNT)', 'abm'],
    ['xsaveopt (one of the v3x extras)', 'xsaveopt'],
  ])('serves only the baseline when %s is missing', (_what, flag) => {
    const detection = detectIsaLevels(cpuinfo(ZEN2_FLAGS.replace(` ${flag}`, '')));
    expect(detection.levels).toEqual(['x86_64']);
    expect(detection.missingForV3x).toEqual([flag]);
  });

  it('names every v3 flag an Ivy Bridge lacks', () => {
    expect(detectIsaLevels(cpuinfo(IVYBRIDGE_FLAGS)).missingForV3x).toEqual(['avx2', 'bmi1', 'bmi2', 'fma', 'abm', 'movbe']);
  });

  it('counts only flags every processor reports', () => {
    expect(detectIsaLevels(cpuinfo(ZEN2_FLAGS, ZEN2_FLAGS.replace(' fma', ''))).levels).toEqual(['x86_64']);
    expect(cpuFlags(cpuinfo('a b c', 'b c d'))).toEqual(new Set(['b', 'c']));
  });

  it('serves the baseline from text without any flags line (a non-x86 or unreadable cpuinfo)', () => {
    expect(detectIsaLevels('processor : 0\n').levels).toEqual(['x86_64']);
  });

  const wide = parseProfile(JSON.stringify({ architectures: [{ name: 'x86_64', levels: ['x86_64', 'x86_64-v3x', 'x86_64-v4'] }, { name: 'aarch64', levels: ['aarch64', 'aarch64-sve2'] }] }));
  const AVX512 = ` ${X86_64_V4_EXTRA_FLAGS.join(' ')}`;

  it('serves x86_64-v4 from a profile that lists it only with the five AVX-512 flags on top of v3', () => {
    expect(detectIsaLevels(cpuinfo(ZEN2_FLAGS + AVX512), wide.levelsOf('x86_64')).levels).toEqual(['x86_64', 'x86_64-v3x', 'x86_64-v4']);
    const without = detectIsaLevels(cpuinfo(ZEN2_FLAGS + AVX512.replace(' avx512vl', '')), wide.levelsOf('x86_64'));
    expect(without.levels).toEqual(['x86_64', 'x86_64-v3x']);
    expect(without.missing).toEqual({ 'x86_64-v4': ['avx512vl'] });
  });

  it('never serves a level the profile does not list, whatever the CPU has', () => {
    expect(detectIsaLevels(cpuinfo(ZEN2_FLAGS + AVX512)).levels).toEqual(['x86_64', 'x86_64-v3x']);
  });

  it('serves an aarch64 machine its baseline, and no level whose flags it does not know', () => {
    const detection = detectIsaLevels('processor : 0\nFeatures : fp asimd evtstrm aes pmull sha1 sha2 crc32\n', wide.levelsOf('aarch64'));
    expect(detection).toEqual({ levels: ['aarch64'], missingForV3x: [], missing: {} });
  });

  it.each([['x86_64', 'x86_64'], ['amd64', 'x86_64'], ['x64', 'x86_64'], ['aarch64', 'aarch64'], ['arm64', 'aarch64'], ['riscv64', 'riscv64']])(
    'spells the machine %s as the profile does: %s', (machine, architecture) => {
      expect(machineArchitecture(machine)).toBe(architecture);
    },
  );

  it('requires the documented flag list', () => {
    expect(X86_64_V3X_REQUIRED_FLAGS).toEqual([
      'cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3',
      'avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave',
      'aes', 'fsgsbase', 'pclmulqdq', 'rdrand', 'xsaveopt',
    ]);
  });

  it('reports which levels this machine serves', () => {
    const detection = detectIsaLevels(readFileSync('/proc/cpuinfo', 'utf8'));
    // Printed on purpose: the test log then says what this host can build.
    console.log(`this machine serves ${detection.levels.join(', ')}` +
      (detection.missingForV3x.length ? ` (v3x lacks ${detection.missingForV3x.join(', ')})` : ''));
    expect(detection.levels[0]).toBe('x86_64');
  });
});
