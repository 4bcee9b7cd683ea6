import { UniqueConstraintViolationException, type EntityManager, type InferEntity } from '@mikro-orm/core';
import type { AdminState } from '../core/planning/admin';
import { AdminEvent, AdminHold, Builder, RepositoryProtection, Task, TaskApproval, TaskEvent } from './entities';
import { bumpMarkers } from './change-markers';
import { ConflictError, NotFoundError, type Store } from './store';

export type AdminHoldRow = InferEntity<typeof AdminHold>;
export type AdminEventRow = InferEntity<typeof AdminEvent>;

/** What a hold is on: the whole farm, one repository, one builder. */
export type HoldSubject = { kind: 'farm' } | { kind: 'repository'; id: string } | { kind: 'builder'; id: string };

export function subjectKey(s: HoldSubject): string {
  return s.kind === 'farm' ? 'farm' : `${s.kind}:${s.id}`;
}

/** The hold as the API shows it. */
export interface HoldView {
  by: string;
  reason: string | null;
  at: Date;
}

/** Tasks no admin command may change any more: they are done for good. */
const FINAL = new Set(['completed', 'superseded']);
const IN_CHUNK = 500;

/**
 * The read model of admins' decisions (pause, drain, priority, approval) and their audit trail. Planning reads
 * adminState() every round; the API writes through the other methods, each recording who, when and why: on the
 * task's own events for tasks, in admin_events for the farm, repositories and builders.
 */
export class AdminStore {
  constructor(private readonly store: Store) {}

  private em(): EntityManager {
    return this.store.orm.em.fork();
  }

  /** Puts a hold in place; false (and no event) when it already was. Repositories and builders must exist. */
  async hold(subject: HoldSubject, by: string, reason: string | null, action: string): Promise<{ changed: boolean; hold: HoldView }> {
    await this.mustExist(subject);
    const key = subjectKey(subject);
    return raced(
      () => this.em().transactional(async (em) => {
        const existing = await em.findOne(AdminHold, { subject: key });
        if (existing) return { changed: false, hold: view(existing) };
        const now = new Date();
        em.create(AdminHold, { subject: key, by, reason, at: now });
        em.create(AdminEvent, { subject: key, action, by, reason, at: now });
        await bumpMarkers(em, 'admin');
        return { changed: true, hold: { by, reason, at: now } };
      }),
    );
  }

  /** Lifts a hold; false (and no event) when there was none. */
  async release(subject: HoldSubject, by: string, reason: string | null, action: string): Promise<{ changed: boolean }> {
    await this.mustExist(subject);
    const key = subjectKey(subject);
    return this.em().transactional(async (em) => {
      const n = await em.nativeDelete(AdminHold, { subject: key });
      if (n === 0) return { changed: false };
      em.create(AdminEvent, { subject: key, action, by, reason, at: new Date() });
      await bumpMarkers(em, 'admin');
      return { changed: true };
    });
  }

  async holds(): Promise<Map<string, HoldView>> {
    const rows = await this.em().find(AdminHold, {}, { orderBy: { subject: 'asc' } });
    return new Map(rows.map((r) => [r.subject, view(r)]));
  }

  /** The hold on one subject, if any (one row read: vessel asks for a builder's standing at every import). */
  async holdOn(subject: HoldSubject): Promise<HoldView | undefined> {
    const row = await this.em().findOne(AdminHold, { subject: subjectKey(subject) });
    return row ? view(row) : undefined;
  }

  /** The newest events of a subject (or of every subject), newest first. */
  async events(subject: HoldSubject | undefined, limit: number): Promise<AdminEventRow[]> {
    return this.em().find(AdminEvent, subject ? { subject: subjectKey(subject) } : {}, { orderBy: { id: 'desc' }, limit });
  }

  /** Replaces a repository's protected package names or globs; an empty list removes the protection. */
  async protect(repository: string, packages: readonly string[], by: string, reason: string | null): Promise<void> {
    await this.store.getRepository(repository);
    const key = subjectKey({ kind: 'repository', id: repository });
    await raced(() =>
      this.em().transactional(async (em) => {
        await em.nativeDelete(RepositoryProtection, { repository });
        if (packages.length > 0) em.create(RepositoryProtection, { repository, packages: [...packages], by, at: new Date() });
        em.create(AdminEvent, { subject: key, action: packages.length > 0 ? `protect ${packages.join(' ')}` : 'unprotect', by, reason, at: new Date() });
        await bumpMarkers(em, 'admin');
      }),
    );
  }

  async protection(repository: string): Promise<string[]> {
    return (await this.em().findOne(RepositoryProtection, { repository }))?.packages ?? [];
  }

  async protections(): Promise<Map<string, string[]>> {
    return new Map((await this.em().find(RepositoryProtection, {})).map((p) => [p.repository, p.packages]));
  }

  /** Sets a task's priority, with an event on the task. Refused (409) for a completed or superseded task. */
  async setPriority(taskId: string, priority: number, by: string, reason: string | null): Promise<{ taskId: string; status: string; priority: number }> {
    return this.em().transactional(async (em) => {
      const task = await em.findOne(Task, { id: taskId }, { fields: ['id', 'status', 'priority'] });
      if (!task) throw new NotFoundError('task', taskId);
      if (FINAL.has(task.status)) throw new ConflictError(`task "${taskId}" is ${task.status}; its priority no longer matters`);
      if (Number(task.priority) !== priority) {
        await em.nativeUpdate(Task, { id: taskId }, { priority });
        await em.insert(TaskEvent, { task: taskId, from: task.status, to: task.status, reason: `priority ${priority} (was ${task.priority}) by ${by}${reason ? `: ${reason}` : ''}`, at: new Date() });
      }
      return { taskId, status: task.status, priority };
    });
  }

  /** Approves a task that builds protected packages, with an event on the task; approving twice changes nothing. */
  async approve(taskId: string, by: string, reason: string | null): Promise<{ taskId: string; status: string; approved: { by: string; at: Date }; changed: boolean }> {
    return raced(() => this.em().transactional(async (em) => {
      const task = await em.findOne(Task, { id: taskId }, { fields: ['id', 'status'] });
      if (!task) throw new NotFoundError('task', taskId);
      const existing = await em.findOne(TaskApproval, { task: taskId });
      if (existing) return { taskId, status: task.status, approved: { by: existing.by, at: existing.at }, changed: false };
      if (FINAL.has(task.status)) throw new ConflictError(`task "${taskId}" is ${task.status}; there is nothing to approve`);
      const now = new Date();
      em.create(TaskApproval, { task: taskId, by, reason, at: now });
      await em.insert(TaskEvent, { task: taskId, from: task.status, to: task.status, reason: `approved by ${by}${reason ? `: ${reason}` : ''}`, at: now });
      return { taskId, status: task.status, approved: { by, at: now }, changed: true };
    }));
  }

  async approval(taskId: string): Promise<{ by: string; at: Date } | null> {
    const row = await this.em().findOne(TaskApproval, { task: taskId });
    return row ? { by: row.by, at: row.at } : null;
  }

  /**
   * What planning honours this round (core/planning/admin.ts). Approvals are read only for `candidates` (the
   * `new` tasks of protected repositories), so the round stays small however many tasks were ever approved. With
   * `known`, the holds and protections a caller keeps (activities/summit/planning-inputs.ts) are not read again.
   */
  async adminState(
    candidates: (protectedRepositories: ReadonlySet<string>) => readonly string[],
    known?: { holds: ReadonlyMap<string, HoldView>; protections: ReadonlyMap<string, string[]> },
  ): Promise<AdminState> {
    const [holds, protections] = known ? [known.holds, known.protections] : await Promise.all([this.holds(), this.protections()]);
    const pausedRepositories = new Map<string, HoldView>();
    const drainedBuilders = new Map<string, HoldView>();
    for (const [subject, h] of holds) {
      if (subject.startsWith('repository:')) pausedRepositories.set(subject.slice('repository:'.length), h);
      else if (subject.startsWith('builder:')) drainedBuilders.set(subject.slice('builder:'.length), h);
    }
    const approved = new Set<string>();
    const ids = protections.size > 0 ? candidates(new Set(protections.keys())) : [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      for (const a of await this.em().find(TaskApproval, { task: { $in: ids.slice(i, i + IN_CHUNK) } }, { fields: ['task'] })) approved.add(a.task);
    }
    return { farmPaused: holds.get('farm') ?? null, pausedRepositories, drainedBuilders, protectedPackages: protections, approved };
  }

  async setReasons(updates: ReadonlyArray<{ id: string; reason: string | null }>): Promise<void> {
    if (updates.length === 0) return;
    await this.em().transactional(async (em) => {
      // Only while still new: a task queued meanwhile keeps the reason its move wrote.
      for (const u of updates) await em.nativeUpdate(Task, { id: u.id, status: 'new' }, { reason: u.reason });
    });
  }

  private async mustExist(subject: HoldSubject): Promise<void> {
    if (subject.kind === 'repository') await this.store.getRepository(subject.id);
    if (subject.kind === 'builder' && !(await this.em().findOne(Builder, { id: subject.id }, { fields: ['id'] }))) throw new NotFoundError('builder', subject.id);
  }
}

/**
 * Two admins acting on one subject at once: both read "none", the second insert hits the primary key. Running the
 * transaction again reads what the first wrote (so the second answers `changed: false`), rather than a 500.
 */
async function raced<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException) || i >= attempts) throw err;
    }
  }
}

function view(r: AdminHoldRow): HoldView {
  return { by: r.by, reason: r.reason ?? null, at: r.at };
}

/** One AdminStore per Store (they share its connection); a caller that holds a Store asks for it here. */
const stores = new WeakMap<Store, AdminStore>();

export function adminStoreOf(store: Store): AdminStore {
  let admin = stores.get(store);
  if (!admin) stores.set(store, (admin = new AdminStore(store)));
  return admin;
}
