import type { EntityManager, InferEntity, MikroORM } from '@mikro-orm/core';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { tryIndexOf, tryRepositoryKey, type TryStatus } from '../core/contracts/try';
import { TryBuild } from './entities';
import { ConflictError, NotFoundError } from './store';

export type TryRow = InferEntity<typeof TryBuild>;

/** A try holding its name and its index (a failed one, whose ref could not be read, holds neither). */
const LIVE: TryStatus[] = ['building', 'published', 'cancelled'];

/** The try-builds of the read model (db/entities.ts TryBuild). */
export class TryStore {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  /**
   * Record a new try of `name`: refused (ConflictError) while another live try holds the name. Its `seq` is one
   * more than the last try of that name, so its build ids are its own.
   */
  async create(row: { name: string; repository: string; ref: string; by: string; expiresAt: Date }): Promise<TryRow> {
    const em = this.em();
    const before = await em.find(TryBuild, { name: row.name }, { orderBy: { seq: 'desc' }, limit: 1 });
    const last = before[0];
    if (last && LIVE.includes(last.status as TryStatus)) {
      throw new ConflictError(`try "${row.name}" exists (${last.status}, ${last.repository} ${last.ref}, expires ${last.expiresAt.toISOString()}); choose another name`);
    }
    const seq = (last?.seq ?? 0) + 1;
    const created = em.create(TryBuild, {
      ...row, seq, commit: null, index: tryIndexOf(row.name), key: tryRepositoryKey(row.name, seq), status: 'building',
      waveId: null, tasks: 0, histories: [], reason: null, expiredAt: null,
    });
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`try "${row.name}" is being created by another request`);
      throw err;
    }
    return created;
  }

  async get(name: string, seq: number): Promise<TryRow> {
    const row = await this.em().findOne(TryBuild, { name, seq });
    if (!row) throw new NotFoundError('try', `${name}#${seq}`);
    return row;
  }

  /** The newest try of `name` (live or not). */
  async latest(name: string): Promise<TryRow> {
    const [row] = await this.em().find(TryBuild, { name }, { orderBy: { seq: 'desc' }, limit: 1 });
    if (!row) throw new NotFoundError('try', name);
    return row;
  }

  /** The try owning a read-model key (`try~<name>~<seq>`), or null. */
  async byKey(key: string): Promise<TryRow | null> {
    return this.em().findOne(TryBuild, { key });
  }

  /** Newest first; `live` leaves out the expired ones. */
  async list(opts: { limit: number; live?: boolean; repository?: string }): Promise<TryRow[]> {
    const where: Record<string, unknown> = {};
    if (opts.live) where.status = { $in: LIVE };
    if (opts.repository) where.repository = opts.repository;
    return this.em().find(TryBuild, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: opts.limit });
  }

  /** Tries whose time has passed at `now` and whose wave has ended (one still building expires when it ends). */
  async due(now: Date): Promise<TryRow[]> {
    return this.em().find(TryBuild, { status: { $in: ['published', 'cancelled'] }, expiresAt: { $lte: now } }, { orderBy: { expiresAt: 'asc' } });
  }

  /** Change what a try records; an expired try stays expired. */
  async update(name: string, seq: number, fields: Partial<Pick<TryRow, 'status' | 'commit' | 'waveId' | 'tasks' | 'histories' | 'reason' | 'expiredAt'>>): Promise<TryRow> {
    const em = this.em();
    const row = await em.findOne(TryBuild, { name, seq });
    if (!row) throw new NotFoundError('try', `${name}#${seq}`);
    if (row.status === 'expired' && fields.status && fields.status !== 'expired') return row;
    Object.assign(row, fields);
    await em.flush();
    return row;
  }
}
