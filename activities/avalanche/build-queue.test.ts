import { BuildQueue } from './build-queue';

describe('BuildQueue (a builder backlog ordered by critical path)', () => {
  it('gives a build its slot at once while one is free', async () => {
    const q = new BuildQueue(2);
    await q.acquire({ criticalPath: 1 });
    await q.acquire({ criticalPath: 1 });
    expect(q.busy).toBe(2);
    expect(q.queued).toBe(0);
  });

  it('starts the waiting builds in critical-path order, equals in arrival order, as slots free', async () => {
    const q = new BuildQueue(1);
    const first = await q.acquire({ criticalPath: 0 });
    const started: string[] = [];
    const paths: Array<[string, number]> = [['a', 5], ['b', 30], ['c', 12], ['d', 30], ['e', 1]];
    const done = paths.map(([name, criticalPath]) => q.acquire({ criticalPath }).then((release) => {
      started.push(name);
      return release;
    }));
    expect(q.queued).toBe(5);
    const order = ['b', 'd', 'c', 'a', 'e'];
    let release = first;
    for (const name of order) {
      release();
      release = await done[paths.findIndex(([n]) => n === name)];
    }
    expect(started).toEqual(['b', 'd', 'c', 'a', 'e']);
    release();
    expect(q.busy).toBe(0);
  });

  it('drops a waiting build whose signal aborts, with its reason, and gives the slot to the next', async () => {
    const q = new BuildQueue(1);
    const release = await q.acquire({ criticalPath: 0 });
    const abort = new AbortController();
    const cancelled = q.acquire({ criticalPath: 99 }, abort.signal);
    const next = q.acquire({ criticalPath: 1 });
    abort.abort(new Error('cancelled while waiting'));
    await expect(cancelled).rejects.toThrow('cancelled while waiting');
    expect(q.queued).toBe(1);
    release();
    const r = await next;
    expect(q.busy).toBe(1);
    r();
    r(); // a second release changes nothing
    expect(q.busy).toBe(0);
  });
});
