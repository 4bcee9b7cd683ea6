import { BuilderState, OpenTask, planDispatch } from './dispatch';
import { Profile } from './variants';

const PROFILE: Profile = { variants: [{ id: 'x86_64', index: 'x86_64' }, { id: 'x86_64-v3x', index: 'x86_64-v3x', layersOn: 'x86_64' }] };

function task(source: string, variant = 'x86_64', deps: { build?: string[]; run?: string[] } = {}, status: OpenTask['status'] = 'queued'): OpenTask {
  return {
    id: `${source}@${variant}`,
    source,
    variant,
    status,
    packages: [{ name: source, provides: [`soname(lib${source}.so)`], depends: deps.run ?? [], buildDepends: deps.build ?? [] }],
  };
}

const builder = (id: string, serves: string[], slots = 1, running = 0): BuilderState => ({ id, serves, slots, running });
const history = (entries: Record<string, number>) => new Map(Object.entries(entries).map(([k, v]) => [k, [v]]));

describe('planDispatch', () => {
  it('makes a task wait for every open task providing one of its dependencies', () => {
    const plan = planDispatch({
      tasks: [task('zlib'), task('curl', 'x86_64', { build: ['soname(libzlib.so)'] }), task('git', 'x86_64', { run: ['curl', 'zlib'] })],
      builders: [builder('b1', ['x86_64'], 4)],
      history: new Map(),
    });
    expect(plan.assignments.map((a) => a.taskId)).toEqual(['zlib@x86_64']);
    expect(plan.waiting).toEqual([
      { taskId: 'curl@x86_64', on: ['zlib@x86_64'] },
      { taskId: 'git@x86_64', on: ['curl@x86_64', 'zlib@x86_64'] },
    ]);
  });

  it('only waits within the same architecture', () => {
    const plan = planDispatch({
      tasks: [task('zlib', 'aarch64'), task('curl', 'x86_64', { build: ['zlib'] })],
      builders: [builder('arm', ['aarch64']), builder('x86', ['x86_64'])],
      history: new Map(),
    });
    expect(plan.assignments.map((a) => `${a.taskId} on ${a.builderId}`).sort()).toEqual(['curl@x86_64 on x86', 'zlib@aarch64 on arm']);
  });

  it('dispatches ready tasks highest critical path first, ties by id, into free slots only', () => {
    const plan = planDispatch({
      tasks: [task('small'), task('big'), task('tie-b'), task('tie-a'), task('after-small', 'x86_64', { build: ['small'] })],
      builders: [builder('b1', ['x86_64'], 2, 1), builder('b2', ['x86_64'], 2)],
      history: history({ small: 10, 'after-small': 100, big: 50, 'tie-a': 20, 'tie-b': 20 }),
    });
    // small's critical path is 110 (it unlocks after-small), big 50, ties 20.
    expect(plan.assignments).toEqual([
      { taskId: 'small@x86_64', builderId: 'b2', criticalPath: 110 },
      { taskId: 'big@x86_64', builderId: 'b1', criticalPath: 50 },
      { taskId: 'tie-a@x86_64', builderId: 'b2', criticalPath: 20 },
    ]);
    expect(plan.queued).toEqual(['tie-b@x86_64']);
  });

  it('blocks the dependents of failed and cancelled tasks, transitively', () => {
    const plan = planDispatch({
      tasks: [
        task('zlib', 'x86_64', {}, 'failed'),
        task('openssl', 'x86_64', {}, 'cancelled'),
        task('curl', 'x86_64', { build: ['zlib', 'openssl'] }),
        task('git', 'x86_64', { build: ['curl'] }),
        task('free'),
      ],
      builders: [builder('b1', ['x86_64'], 4)],
      history: new Map(),
    });
    expect(plan.blocked).toEqual([
      { taskId: 'curl@x86_64', by: ['openssl@x86_64', 'zlib@x86_64'] },
      { taskId: 'git@x86_64', by: ['openssl@x86_64', 'zlib@x86_64'] },
    ]);
    expect(plan.assignments.map((a) => a.taskId)).toEqual(['free@x86_64']);
  });

  it('runs v3x tasks only on builders serving v3x and keeps those for v3x work', () => {
    const plan = planDispatch({
      tasks: [task('a'), task('a', 'x86_64-v3x'), task('b'), task('b', 'x86_64-v3x')],
      builders: [builder('plain', ['x86_64']), builder('modern', ['x86_64', 'x86_64-v3x'])],
      history: new Map(),
      profile: PROFILE,
    });
    expect(plan.assignments.map((a) => `${a.taskId} on ${a.builderId}`)).toEqual(['a@x86_64 on plain', 'a@x86_64-v3x on modern']);
    expect(plan.queued).toEqual(['b@x86_64', 'b@x86_64-v3x']);
  });

  it('says why a v3x task cannot run when no builder serves v3x', () => {
    const plan = planDispatch({
      tasks: [task('a'), task('a', 'x86_64-v3x')],
      builders: [builder('plain', ['x86_64'])],
      history: new Map(),
      profile: PROFILE,
    });
    expect(plan.unservable).toEqual([{ taskId: 'a@x86_64-v3x', reason: 'no builder serves x86_64-v3x' }]);
    expect(plan.assignments.map((a) => a.taskId)).toEqual(['a@x86_64']);
  });

  it('lets a v3x task wait for the baseline task of a dependency, never the other way round', () => {
    const plan = planDispatch({
      tasks: [task('zlib'), task('app', 'x86_64-v3x', { build: ['zlib'] }), task('app', 'x86_64', { build: ['zlib'] })],
      builders: [builder('modern', ['x86_64', 'x86_64-v3x'], 3)],
      history: new Map(),
      profile: PROFILE,
    });
    expect(plan.waiting).toEqual([
      { taskId: 'app@x86_64', on: ['zlib@x86_64'] },
      { taskId: 'app@x86_64-v3x', on: ['zlib@x86_64'] },
    ]);
  });

  it('does not deadlock on a dependency cycle among open tasks: it follows the bootstrap plan', () => {
    const plan = planDispatch({
      tasks: [task('glibc', 'x86_64', { build: ['bash'] }), task('bash', 'x86_64', { run: ['glibc'] })],
      builders: [builder('b1', ['x86_64'])],
      history: new Map(),
    });
    expect(plan.assignments.map((a) => a.taskId)).toEqual(['bash@x86_64']);
    expect(plan.cycles).toHaveLength(1);
    expect(plan.cycles[0].cut).toEqual([{ from: 'glibc@x86_64', to: 'bash@x86_64', kind: 'run', via: 'glibc' }]);
  });
});

describe('planDispatch asked again about the same tasks', () => {
  const tasks = (statuses: Record<string, OpenTask['status']> = {}) => {
    const zlib = task('zlib', 'x86_64', {}, statuses.zlib);
    const curl = task('curl', 'x86_64', { build: ['soname(libzlib.so)'], run: ['git'] }, statuses.curl);
    const git = task('git', 'x86_64', { build: ['curl'] }, statuses.git);
    const app = task('app', 'x86_64', { build: ['git'] }, statuses.app);
    return [zlib, curl, git, app];
  };
  const deepCopy = (ts: OpenTask[]): OpenTask[] => JSON.parse(JSON.stringify(ts)) as OpenTask[];
  const input = (ts: OpenTask[]) => ({ tasks: ts, builders: [builder('b1', ['x86_64'], 2)], history: history({ zlib: 10, curl: 20, git: 30, app: 40 }) });

  it('answers as it would the first time when only statuses changed (the package lists being the same ones)', () => {
    const first = tasks();
    planDispatch(input(first));
    // Same package lists, new statuses: zlib is running, curl failed.
    const again = first.map((t) => ({ ...t, status: t.source === 'zlib' ? 'running' as const : t.source === 'curl' ? 'failed' as const : t.status }));
    const reused = planDispatch(input(again));
    const fresh = planDispatch(input(deepCopy(again)));
    expect(reused).toEqual(fresh);
    expect(reused.blocked.map((b) => b.taskId).sort()).toEqual(['app@x86_64', 'git@x86_64']);
  });

  it('reads a changed package list anew', () => {
    const first = tasks();
    expect(planDispatch(input(first)).waiting.map((w) => w.taskId)).toContain('app@x86_64');
    // app no longer needs git: a new package list (as after an intake of a new commit).
    const changed = first.map((t) => (t.source === 'app' ? { ...t, packages: [{ ...t.packages[0], buildDepends: [] }] } : t));
    const plan = planDispatch(input(changed));
    expect(plan).toEqual(planDispatch(input(deepCopy(changed))));
    expect(plan.waiting.map((w) => w.taskId)).not.toContain('app@x86_64');
  });
});
