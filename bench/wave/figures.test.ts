import type { LogStages } from './build-log-stages';
import { readyAt, waveFigures, type TaskObservation } from './figures';
import type { WorkflowTimings } from './history-stages';

const log = (start: number): LogStages => ({
  startedAt: start, checkoutMs: 100, dependenciesMs: 0, containerStartMs: 200, scriptMs: 50, containerStopMs: 50,
  stepsMs: 300, packingMs: 50, succeededAt: start + 500,
});
const history = (start: number, imports = 1): WorkflowTimings => ({
  startedAt: start - 50,
  closedAt: start + 1000,
  activities: [
    { type: 'buildRecipe', scheduledAt: start - 20, startedAt: start - 10, closedAt: start + 600, outcome: 'completed' },
    ...Array.from({ length: imports }, () => ({ type: 'importArtefacts', scheduledAt: start + 650, startedAt: start + 660, closedAt: start + 800, outcome: 'completed' })),
  ],
});
const task = (source: string, created: number, dispatched: number, started: number, completed: number, imports = 1): TaskObservation => ({
  id: `build/p/r/${source}-1-1/x86_64`, source, status: 'completed', attempts: 1,
  events: [{ from: null, to: 'new', at: created }, { from: 'new', to: 'building', at: dispatched }, { from: 'publishing', to: 'completed', at: completed }],
  log: log(started), history: history(started, imports),
});

describe('wave figures', () => {
  // push at 0; a (no deps) ready at 1000, started 1200, completed 2000; b needs a: ready at 2000, started 2100.
  const tasks = [task('a', 1000, 1100, 1200, 2000), task('b', 1000, 2050, 2100, 3000)];
  const input = { slots: 2, existingTasks: 0, pushAt: 0, tasks, dependencies: new Map([['a', []], ['b', ['a']]]), indexCounts: new Map([['a', 1], ['b', 1]]) };

  it('measures the wall from push to the last completion and waits from when a task was ready', () => {
    const f = waveFigures(input);
    expect(f.wallMs).toBe(3000);
    expect(f.packagesPerSecond).toBeCloseTo(2 / 3);
    expect(f.readyToBuildStartedMs.p50).toBe(150);
    expect(f.readyToBuildStartedMs.max).toBe(200);
    expect(f.pushToFirstTaskMs).toBe(1000);
    expect(f.pushToFirstBuildMs).toBe(1200);
  });

  it('counts utilisation and overhead from the time inside containers', () => {
    const f = waveFigures(input);
    expect(f.slotUtilisation).toBeCloseTo(600 / 6000);
    expect(f.scriptUtilisation).toBeCloseTo(100 / 6000);
    expect(f.overheadPerPackageMs).toBe((6000 - 600) / 2);
    expect(f.stageP50Ms['container start']).toBe(200);
    expect(f.stageP50Ms['fetch + verify + import + publish']).toBe(150);
  });

  it('flags a package published twice or a build imported twice', () => {
    expect(waveFigures(input).publishedExactlyOnce).toBe(true);
    const twice = waveFigures({ ...input, tasks: [tasks[0], task('b', 1000, 2050, 2100, 3000, 2)], indexCounts: new Map([['a', 2], ['b', 1]]) });
    expect(twice.publishedExactlyOnce).toBe(false);
    expect(twice.publishProblems).toHaveLength(2);
  });

  it('does not count a dependency published after the build started (a cut edge of a cycle)', () => {
    expect(readyAt(tasks[0], ['b'], new Map([['b', 3000]]), 1200)).toBe(1000);
  });
});
