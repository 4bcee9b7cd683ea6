import { openDatabase } from '../../db/orm';
import { Task, TaskEvent } from '../../db/entities';

/**
 * Fill the read model with M finished tasks (completed, each with its four status events), as a farm that has
 * run for a while has: batched inserts straight into the tables, before summit starts. They belong to a
 * repository of their own, with package names no wave recipe uses, so they only cost time, never change what
 * the wave builds.
 */
export async function insertFinishedTasks(opts: { url?: string; dataDir: string; count: number; batch?: number }): Promise<number> {
  const orm = await openDatabase({ url: opts.url, dataDir: opts.dataDir });
  const started = Date.now();
  try {
    const batch = opts.batch ?? 1000;
    const day = 24 * 3600_000;
    const base = Date.now() - 30 * day;
    for (let from = 0; from < opts.count; from += batch) {
      const em = orm.em.fork();
      const tasks = [];
      const events = [];
      for (let i = from; i < Math.min(opts.count, from + batch); i++) {
        const source = `old-${i % 2000}`;
        const release = Math.floor(i / 2000) + 1;
        const id = `build/history/old/${source}-1.0.0-${release}/x86_64`;
        const created = new Date(base + i * 20_000);
        const startedAt = new Date(created.getTime() + 1_000);
        const builtAt = new Date(created.getTime() + 6_000);
        const finishedAt = new Date(created.getTime() + 8_000);
        tasks.push({
          id, project: 'history', repository: 'old', source, version: '1.0.0', release, isa: 'x86_64', index: 'main',
          commit: '0'.repeat(40), recipePath: source, status: 'completed', attempts: 1, builder: 'old-builder', priority: 0,
          logPath: null, logTail: null, reason: null, supersededBy: null,
          published: [{ name: `old-pkg-${source}`, uri: `pool/o/old-pkg-${source}-1.0.0-${release}-1-x86_64.stone`, sha256: '0'.repeat(64), size: 1000 }],
          createdAt: created, startedAt, builtAt, finishedAt, updatedAt: finishedAt,
        });
        events.push(
          { task: id, from: null, to: 'new', reason: 'recipe added', at: created },
          { task: id, from: 'new', to: 'queued', reason: 'queued', at: created },
          { task: id, from: 'queued', to: 'building', reason: 'picked up by old-builder', at: startedAt },
          { task: id, from: 'building', to: 'publishing', reason: 'built on old-builder', at: builtAt },
          { task: id, from: 'publishing', to: 'completed', reason: 'published', at: finishedAt },
        );
      }
      await em.insertMany(Task, tasks);
      await em.insertMany(TaskEvent, events);
    }
    return Date.now() - started;
  } finally {
    await orm.close(true);
  }
}
