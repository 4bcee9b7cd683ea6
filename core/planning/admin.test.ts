import { planDispatch, type OpenTask } from '../graph/dispatch';
import { adminSummary, dispatchableBuilders, globMatches, HELD_PREFIX, heldTasks, NO_ADMIN_STATE, protectedNamesOf, reasonUpdates, type AdminState, type HoldCandidate } from './admin';

const hold = (who: string, reason: string | null = null) => ({ by: who, reason, at: new Date(0) });
const task = (id: string, over: Partial<HoldCandidate> = {}): HoldCandidate => ({ id, repository: 'recipes', source: id, status: 'new', packages: [id], ...over });
const state = (over: Partial<AdminState>): AdminState => ({ ...NO_ADMIN_STATE, ...over });

describe('globMatches', () => {
  it.each([
    ['gcc', 'gcc', true],
    ['gcc', 'gcc-devel', false],
    ['gcc*', 'gcc-devel', true],
    ['*-devel', 'glibc-devel', true],
    ['llvm*', 'clang', false],
    ['a.b', 'axb', false],
    ['*', 'anything', true],
  ])('%s against %s is %s', (pattern, name, expected) => {
    expect(globMatches(pattern, name)).toBe(expected);
  });
});

describe('heldTasks', () => {
  it('holds nothing when admins hold nothing back', () => {
    expect(heldTasks([task('a'), task('b')], NO_ADMIN_STATE).size).toBe(0);
  });

  it('holds every new task while the farm is paused, and only new ones', () => {
    const held = heldTasks([task('a'), task('b', { status: 'building' }), task('c', { status: 'blocked' })], state({ farmPaused: hold('alice', 'maintenance') }));
    expect([...held]).toEqual([['a', `${HELD_PREFIX}the farm is paused by alice: maintenance`]]);
  });

  it('holds the new tasks of a paused repository only', () => {
    const held = heldTasks([task('a'), task('b', { repository: 'other' })], state({ pausedRepositories: new Map([['recipes', hold('bob')]]) }));
    expect([...held]).toEqual([['a', `${HELD_PREFIX}repository recipes is paused by bob`]]);
  });

  it('holds a task that emits a protected package until it is approved', () => {
    const protectedPackages = new Map([['recipes', ['gcc*', 'binutils']]]);
    const tasks = [task('gcc', { packages: ['libgcc', 'gcc-devel'] }), task('zlib'), task('binutils'), task('tool', { packages: ['gcc-wrapper'] })];
    const held = heldTasks(tasks, state({ protectedPackages, approved: new Set(['binutils']) }));
    expect([...held.keys()]).toEqual(['gcc', 'tool']);
    expect(held.get('gcc')).toContain('protected: gcc, gcc-devel');
    expect(held.get('tool')).toContain('protected: gcc-wrapper');
  });

  it('applies protection per repository', () => {
    const held = heldTasks([task('gcc', { repository: 'other' })], state({ protectedPackages: new Map([['recipes', ['gcc']]]) }));
    expect(held.size).toBe(0);
  });

  it('names the farm pause before a repository pause before an approval', () => {
    const all = state({ farmPaused: hold('a'), pausedRepositories: new Map([['recipes', hold('b')]]), protectedPackages: new Map([['recipes', ['x']]]) });
    expect(heldTasks([task('x')], all).get('x')).toContain('farm is paused');
    expect(heldTasks([task('x')], { ...all, farmPaused: null }).get('x')).toContain('repository recipes is paused');
    expect(heldTasks([task('x')], { ...all, farmPaused: null, pausedRepositories: new Map() }).get('x')).toContain('approval');
  });
});

describe('protectedNamesOf', () => {
  it('matches the source name as well as the emitted packages', () => {
    expect(protectedNamesOf(['glibc'], { source: 'glibc', packages: ['libc6'] })).toEqual(['glibc']);
    expect(protectedNamesOf(['libc*'], { source: 'glibc', packages: ['libc6', 'libc6-dev'] })).toEqual(['libc6', 'libc6-dev']);
  });
});

describe('dispatchableBuilders', () => {
  it('leaves drained builders out', () => {
    const live = [{ id: 'b1' }, { id: 'b2' }];
    expect(dispatchableBuilders(live, state({ drainedBuilders: new Map([['b1', hold('ops')]]) }))).toEqual([{ id: 'b2' }]);
  });
});

describe('reasonUpdates', () => {
  it('writes a held reason once, clears it when the hold is lifted, and leaves other reasons alone', () => {
    const held = new Map([['a', `${HELD_PREFIX}x`], ['b', `${HELD_PREFIX}y`]]);
    const current = new Map<string, string | null>([['a', `${HELD_PREFIX}x`], ['b', 'no builder serves x86_64'], ['c', `${HELD_PREFIX}old`], ['d', 'something else']]);
    expect(reasonUpdates(held, current)).toEqual([{ id: 'b', reason: `${HELD_PREFIX}y` }, { id: 'c', reason: null }]);
  });
});

describe('adminSummary', () => {
  it('says nothing when nothing is held', () => {
    expect(adminSummary(NO_ADMIN_STATE, 0)).toBeUndefined();
  });

  it('says the farm is paused and by whom', () => {
    expect(adminSummary(state({ farmPaused: hold('alice', 'upgrade'), drainedBuilders: new Map([['b1', hold('x')]]) }), 3)).toBe('farm paused by alice: upgrade; drained builders: b1; 3 task(s) held');
  });
});

describe('priority in dispatch', () => {
  const t = (source: string, priority?: number, build: string[] = []): OpenTask => ({
    id: source, source, variant: 'x86_64', status: 'queued', priority, packages: [{ name: source, provides: [], depends: [], buildDepends: build }],
  });

  it('dispatches a higher admin priority before a longer critical path', () => {
    // `long` heads a chain (critical path 200 s); `bumped` alone is 10 s but has priority 5.
    const plan = planDispatch({
      tasks: [t('long'), t('after', undefined, ['long']), t('bumped', 5)],
      builders: [{ id: 'b1', serves: ['x86_64'], slots: 1, running: 0 }],
      history: new Map([['long', [100]], ['after', [100]], ['bumped', [10]]]),
    });
    expect(plan.assignments.map((a) => a.taskId)).toEqual(['bumped']);
    expect(plan.queued).toEqual(['long']);
  });

  it('keeps critical-path order among equal priorities', () => {
    const plan = planDispatch({
      tasks: [t('short', 1), t('long', 1)],
      builders: [{ id: 'b1', serves: ['x86_64'], slots: 2, running: 0 }],
      history: new Map([['long', [100]], ['short', [10]]]),
    });
    expect(plan.assignments.map((a) => a.taskId)).toEqual(['long', 'short']);
  });

  it('lets a negative priority go last', () => {
    const plan = planDispatch({
      tasks: [t('low', -1), t('plain')],
      builders: [{ id: 'b1', serves: ['x86_64'], slots: 1, running: 0 }],
      history: new Map([['low', [500]], ['plain', [1]]]),
    });
    expect(plan.assignments.map((a) => a.taskId)).toEqual(['plain']);
  });
});
