import { prng, randInt } from '../prng';
import { closureReport, ClosureTracker, describeClosure, unresolvedDependencies, type ClosureEntry } from './closure';

const pkg = (name: string, depends: string[] = [], provides: string[] = [], architecture = 'x86_64'): ClosureEntry => ({ name, architecture, depends, provides });

describe('closure of a published set', () => {
  it('resolves dependencies by provides and plain names by package name', () => {
    const set = {
      x86_64: [
        pkg('liba', ['soname(libc.so.6(x86_64))'], ['soname(libliba.so.1(x86_64))']),
        pkg('liba-devel', ['liba'], ['pkgconfig(liba)']),
        pkg('tool', ['soname(libliba.so.1(x86_64))'], ['binary(tool)']),
        pkg('app', ['binary(tool)']),
        pkg('build-root', [], ['soname(libc.so.6(x86_64))']),
      ],
    };
    expect(unresolvedDependencies(set)).toEqual([]);
  });

  it('names each unresolved dependency once with every package that needs it, sorted', () => {
    const set = {
      x86_64: [
        pkg('tool', ['interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', 'soname(libc.so.6(x86_64))']),
        pkg('liba', ['soname(libc.so.6(x86_64))']),
        pkg('app', ['binary(tool)', 'gone']),
      ],
    };
    expect(closureReport('main', set)).toEqual({
      index: 'main',
      unresolved: [
        { dependency: 'binary(tool)', neededBy: ['app'] },
        { dependency: 'gone', neededBy: ['app'] },
        { dependency: 'interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', neededBy: ['tool'] },
        { dependency: 'soname(libc.so.6(x86_64))', neededBy: ['liba', 'tool'] },
      ],
    });
    expect(describeClosure(closureReport('main', set), 2)).toBe(
      'index main: 4 runtime dependencies nothing in the repository provides: binary(tool) (needed by app); gone (needed by app) and 2 more',
    );
  });

  it('counts a declared base repository, but only in the same architecture', () => {
    const set = { x86_64: [pkg('tool', ['soname(libc.so.6(x86_64))'])], aarch64: [pkg('tool', ['soname(libc.so.6(x86_64))'], [], 'aarch64')] };
    const base = { x86_64: [pkg('glibc', [], ['soname(libc.so.6(x86_64))'])] };
    expect(closureReport('main-v3x', set, [base]).unresolved).toEqual([{ dependency: 'aarch64:soname(libc.so.6(x86_64))', neededBy: ['tool'] }]);
  });

  it('does not let a package provide to itself what it does not provide', () => {
    expect(unresolvedDependencies({ x86_64: [pkg('a', ['binary(a)'])] })).toHaveLength(1);
  });
});

describe('the closure tracker', () => {
  it('gives the one-shot answer after every change of a set, whatever came or went', () => {
    const rand = prng(9);
    const make = (i: number, v: number): ClosureEntry =>
      pkg(`p${i}`, [`soname(l${randInt(rand, 40)}(x86_64))`, ...(randInt(rand, 3) === 0 ? [`p${randInt(rand, 40)}`] : [])], randInt(rand, 4) === 0 ? [] : [`soname(l${(i + v) % 40}(x86_64))`]);
    let entries = Array.from({ length: 40 }, (_, i) => make(i, 0));
    const tracker = new ClosureTracker();
    for (let round = 1; round <= 60; round++) {
      entries = entries.map((e, i) => (randInt(rand, 8) === 0 ? make(i, round) : e)).filter(() => randInt(rand, 50) !== 0);
      if (randInt(rand, 4) === 0) entries.push(make(100 + round, round));
      tracker.update({ x86_64: entries });
      expect(tracker.unresolved()).toEqual(unresolvedDependencies({ x86_64: entries }));
    }
  });

  it('leaves out what a declared base provides', () => {
    const tracker = new ClosureTracker();
    tracker.update({ x86_64: [pkg('tool', ['soname(libc.so.6(x86_64))', 'gone'])] });
    expect(tracker.unresolved((_arch, dep) => dep === 'gone').map((u) => u.dependency)).toEqual(['soname(libc.so.6(x86_64))']);
  });
});
