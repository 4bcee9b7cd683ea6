import { cgroupCounter, cgroupSettings, DEFAULT_LIMITS, formatBytes, formatDuration, limitReason, networkDecision } from './limits';

describe('build limits', () => {
  const limits = { ...DEFAULT_LIMITS, memoryBytes: 256 * 2 ** 20, tasks: 64, timeMs: 20_000, diskBytes: 50 * 2 ** 20, logBytes: 2 ** 20 };

  it.each([
    ['memory', 'exceeded the memory limit of 256 MiB'],
    ['tasks', 'tried to run more than 64 tasks (processes and threads) at once'],
    ['time', 'ran past the time limit of 20 s'],
    ['disk', 'used more than 50 MiB of disk'],
    ['log', 'wrote more than 1 MiB of log'],
  ] as const)('names the %s limit that stopped a build with its value', (kind, reason) => {
    expect(limitReason(kind, limits)).toBe(reason);
  });

  it.each([
    [900, '900 bytes'], [1024, '1 KiB'], [1536, '1.5 KiB'], [8 * 2 ** 30, '8 GiB'],
  ])('writes %d bytes as %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [20_000, '20 s'], [90_000, '90 s'], [4 * 3600_000, '4 h'], [5400_000, '1 h 30 min'],
  ])('writes %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('writes the same limits into cgroup v2 and v1 files, swap off, cpu weight 100 as 1024 shares', () => {
    expect(cgroupSettings(2, { ...limits, cpuWeight: 100 })).toEqual([
      { controller: '', file: 'memory.max', value: String(256 * 2 ** 20) },
      { controller: '', file: 'memory.swap.max', value: '0', optional: true },
      { controller: '', file: 'pids.max', value: '64' },
      { controller: '', file: 'cpu.weight', value: '100' },
    ]);
    const v1 = cgroupSettings(1, { ...limits, cpuWeight: 50 });
    expect(v1.find((s) => s.file === 'memory.limit_in_bytes')?.value).toBe(String(256 * 2 ** 20));
    expect(v1.find((s) => s.file === 'memory.memsw.limit_in_bytes')).toMatchObject({ value: String(256 * 2 ** 20), optional: true });
    expect(v1.find((s) => s.file === 'cpu.shares')).toEqual({ controller: 'cpu', file: 'cpu.shares', value: '512' });
  });

  it('reads the counters of memory.events, memory.oom_control and pids.events', () => {
    expect(cgroupCounter('low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n', 'oom_kill')).toBe(1);
    expect(cgroupCounter('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n', 'oom_kill')).toBe(2);
    expect(cgroupCounter('max 0\n', 'max')).toBe(0);
    expect(cgroupCounter('', 'max')).toBe(0);
  });
});

describe('network decision', () => {
  const where = { recipeFile: 'o/online/stone.yaml', repository: 'recipes', builderId: 'b1' };
  const asks = 'o/online/stone.yaml asks for the network (networking: true), which';

  it.each([
    // asks, repository, builder → network, refusal
    [false, false, false, false, undefined],
    [false, true, true, false, undefined],
    [false, undefined, true, false, undefined],
    [true, true, true, true, undefined],
    [true, false, true, false, `${asks} the policy of repository recipes (its networking setting) does not allow`],
    [true, undefined, true, false, `${asks} the policy of repository recipes (its networking setting) does not allow`],
    [true, true, false, false, `${asks} builder b1 (SUMMIT_BUILD_NETWORK) does not allow`],
    [true, false, false, false, `${asks} neither the policy of repository recipes (its networking setting) nor builder b1 (SUMMIT_BUILD_NETWORK) allows`],
  ] as const)('recipe asks %s, repository allows %s, builder allows %s: network %s', (recipeAsks, repositoryAllows, builderAllows, network, refusal) => {
    expect(networkDecision({ ...where, asks: recipeAsks, repositoryAllows, builderAllows })).toEqual(refusal ? { network, refusal } : { network });
  });

  it('names the repository generically when the build id does not say which', () => {
    expect(networkDecision({ ...where, repository: undefined, asks: true, repositoryAllows: false, builderAllows: true }).refusal)
      .toBe(`${asks} the policy of the repository (its networking setting) does not allow`);
  });
});
