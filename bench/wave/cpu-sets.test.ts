import { parseCpuList, splitCpus } from './cpu-sets';

describe('bench:wave --builder-cpus', () => {
  it('reads numbers and ranges, and gives the farm the other CPUs', () => {
    expect(parseCpuList('1', 2)).toEqual([1]);
    expect(parseCpuList('3, 0-1,1', 4)).toEqual([0, 1, 3]);
    expect(splitCpus('1', 2)).toEqual({ builder: [1], farm: [0] });
    expect(splitCpus('2-3', 4)).toEqual({ builder: [2, 3], farm: [0, 1] });
  });

  it('names what is wrong in a list', () => {
    expect(parseCpuList('1,x', 2)).toBe('"x" in the CPU list "1,x" is not a CPU number or a range (e.g. 1, 2-3)');
    expect(parseCpuList('3-1', 4)).toBe('the range "3-1" in the CPU list "3-1" runs backwards');
    expect(parseCpuList('2', 2)).toBe('CPU 2 in the CPU list "2" does not exist: this machine has CPUs 0-1');
    expect(splitCpus('0-1', 2)).toBe('the CPU list "0-1" takes every CPU of this machine (0-1): the rest of the farm needs at least one');
  });
});
