import { logStages } from './build-log-stages';

const LOG = [
  '==> summit: build build/p/r/x-1.0.0-1/x86_64 on av1: x 1.0.0-1 (x86_64) at abc [2026-12-02T00:00:00.000Z]',
  'Cloning…',
  '==> summit: dependency a from file:///x/a.stone [2026-12-02T00:00:01.000Z]',
  '    3 files, 0 symlinks, 2 directories',
  '==> summit: step install [2026-12-02T00:00:01.500Z]',
  'wavebench: steps began 1796169601.800',
  'wavebench: steps ended 1796169601.850',
  '==> summit: step install done in 0.5 s [2026-12-02T00:00:02.000Z]',
  '==> summit: packaging [2026-12-02T00:00:02.000Z]',
  '    x: 1 files; provides name(x); depends nothing',
  '==> summit: build succeeded in 2.2 s [2026-12-02T00:00:02.200Z]',
  '',
].join('\n');

describe('stages of a build log', () => {
  it('splits checkout, dependencies, container start, script, container stop and packing', () => {
    expect(logStages(LOG)).toEqual({
      startedAt: Date.parse('2026-12-02T00:00:00.000Z'),
      checkoutMs: 1000,
      dependenciesMs: 500,
      containerStartMs: 300,
      scriptMs: 50,
      containerStopMs: 150,
      stepsMs: 500,
      packingMs: 200,
      succeededAt: Date.parse('2026-12-02T00:00:02.200Z'),
    });
  });

  it('ends checkout at the first step when there are no dependencies, and leaves the split out without in-container lines', () => {
    const log = LOG.split('\n').filter((l) => !l.includes('dependency') && !l.startsWith('wavebench') && !l.includes('files, 0')).join('\n');
    const stages = logStages(log)!;
    expect(stages.checkoutMs).toBe(1500);
    expect(stages.dependenciesMs).toBe(0);
    expect(stages.containerStartMs).toBeUndefined();
    expect(stages.stepsMs).toBe(500);
  });

  it('reads checkout and dependencies from their own end markers when the dependencies ran beside the checkout', () => {
    const log = [
      '==> summit: build build/p/r/x-1.0.0-1/x86_64 on av1: x 1.0.0-1 (x86_64) at abc [2026-12-02T00:00:00.000Z]',
      '==> summit: dependency a from file:///x/a.stone [2026-12-02T00:00:00.010Z]',
      '$ git -C clone archive …',
      '==> summit: recipe read [2026-12-02T00:00:00.040Z]',
      '==> summit: dependencies ready [2026-12-02T00:00:00.060Z]',
      ...LOG.split('\n').slice(4),
    ].join('\n');
    const stages = logStages(log)!;
    expect(stages.checkoutMs).toBe(40);
    expect(stages.dependenciesMs).toBe(50);
    expect(stages.stepsMs).toBe(500);
  });

  it('gives nothing for a log without its first or last marker', () => {
    expect(logStages('')).toBeUndefined();
    expect(logStages(LOG.replace(/==> summit: build succeeded.*\n/, ''))).toBeUndefined();
  });
});
