import { judgeHealth, pressureReasons, underPressure, type HostSample } from './health';

const MiB = 1024 * 1024;
const calm: HostSample = { load1: 1, cpus: 4, memAvailable: 8192 * MiB, memTotal: 16384 * MiB, diskFree: 50_000 * MiB, diskTotal: 100_000 * MiB };

describe('builder admission thresholds', () => {
  it.each([
    ['nothing crossed', calm, { maxLoadPerCpu: 2, minFreeMemory: 1024 * MiB, minFreeDisk: 2048 * MiB }, []],
    ['load per CPU above the limit', { ...calm, load1: 9 }, { maxLoadPerCpu: 2 }, [/load 9\.00 on 4 CPU\(s\) is above 2 per CPU/]],
    ['load exactly at the limit', { ...calm, load1: 8 }, { maxLoadPerCpu: 2 }, []],
    ['too little memory', { ...calm, memAvailable: 512 * MiB }, { minFreeMemory: 1024 * MiB }, [/available memory 512 MiB is below 1024 MiB/]],
    ['too little disk', { ...calm, diskFree: 100 * MiB }, { minFreeDisk: 2048 * MiB }, [/free disk 100 MiB is below 2048 MiB/]],
    ['every one at once', { ...calm, load1: 40, memAvailable: 1, diskFree: 1 }, { maxLoadPerCpu: 1, minFreeMemory: MiB, minFreeDisk: MiB }, [/load/, /memory/, /disk/]],
    ['no thresholds', { ...calm, load1: 400, memAvailable: 0, diskFree: 0 }, {}, []],
  ] as const)('%s', (_name, sample, thresholds, expected) => {
    const reasons = pressureReasons(sample, thresholds);
    expect(reasons).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(reasons[i]).toMatch(re));
  });

  it('counts a builder under pressure only when its health says so', () => {
    expect(underPressure({ health: judgeHealth(calm, { minFreeMemory: 1e15 }) })).toBe(true);
    expect(underPressure({ health: judgeHealth(calm, {}) })).toBe(false);
    expect(underPressure({})).toBe(false);
    expect(underPressure({ health: null })).toBe(false);
  });
});
