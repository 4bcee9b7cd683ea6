import type { EntityManager, FilterQuery, InferEntity, MikroORM } from '@mikro-orm/core';
import type { VerificationOutcome, VerificationResult } from '../core/contracts/verification';
import { verificationWorkflowId } from '../core/contracts/verification';
import { Verification } from './entities';

export type VerificationRow = InferEntity<typeof Verification>;

/** A verification as the API shows it (GET /api/verifications, GET /api/tasks/:id). */
export interface VerificationView {
  id: string;
  buildId: string;
  n: number;
  repository: string;
  by: string;
  result: string;
  originalBuilder: string | null;
  verifier: string | null;
  reason: string | null;
  packages: number | null;
  files: number | null;
  differenceCount: number;
  differences: Array<{ package: string; path: string; what: string[] }>;
  startedAt: Date;
  finishedAt: Date | null;
}

export function verificationView(r: VerificationRow): VerificationView {
  return {
    id: r.id, buildId: r.buildId, n: r.n, repository: r.repository, by: r.by, result: r.result,
    originalBuilder: r.originalBuilder ?? null, verifier: r.verifier ?? null, reason: r.reason ?? null,
    packages: r.packages ?? null, files: r.files ?? null, differenceCount: r.differenceCount, differences: r.differences ?? [],
    startedAt: r.startedAt, finishedAt: r.finishedAt ?? null,
  };
}

/** Verification builds in the read model (db/entities.ts Verification); each write is idempotent for Temporal's retries. */
export class VerificationStore {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  /** The number the next verification of a build gets (1 for the first). */
  async nextNumber(buildId: string): Promise<number> {
    const rows = await this.em().find(Verification, { buildId }, { fields: ['n'], orderBy: { n: 'desc' }, limit: 1 });
    return (rows[0]?.n ?? 0) + 1;
  }

  /** Records a verification as running (again, on a retry: its row is reset to what is known now). */
  async begin(row: { buildId: string; n: number; repository: string; by: string; originalBuilder: string | null; verifier: string | null }): Promise<void> {
    const em = this.em();
    const id = verificationWorkflowId(row.buildId, row.n);
    const existing = await em.findOne(Verification, { id });
    if (existing) {
      if (existing.result !== 'running') return;
      em.assign(existing, { originalBuilder: row.originalBuilder, verifier: row.verifier });
    } else {
      em.create(Verification, { id, ...row, result: 'running', reason: null, packages: null, files: null, differenceCount: 0, differences: null, startedAt: new Date(), finishedAt: null });
    }
    await em.flush();
  }

  async finish(buildId: string, n: number, outcome: VerificationOutcome): Promise<VerificationRow> {
    const em = this.em();
    const row = await em.findOneOrFail(Verification, { id: verificationWorkflowId(buildId, n) });
    em.assign(row, {
      result: outcome.result,
      verifier: outcome.verifier ?? row.verifier ?? null,
      reason: outcome.reason ?? null,
      packages: outcome.comparison?.packages ?? null,
      files: outcome.comparison?.files ?? null,
      differenceCount: outcome.comparison?.differenceCount ?? 0,
      differences: outcome.comparison?.differences ?? null,
      finishedAt: row.finishedAt ?? new Date(),
    });
    await em.flush();
    return row;
  }

  async forBuild(buildId: string): Promise<VerificationView[]> {
    const rows = await this.em().find(Verification, { buildId }, { orderBy: { n: 'asc' } });
    return rows.map(verificationView);
  }

  /** Newest first; `result` filters (e.g. `different`), `builder` matches either side. */
  async list(q: { result?: VerificationResult; repository?: string; builder?: string; limit: number }): Promise<VerificationView[]> {
    const where: FilterQuery<VerificationRow> = {};
    if (q.result) where.result = q.result;
    if (q.repository) where.repository = q.repository;
    if (q.builder) where.$or = [{ originalBuilder: q.builder }, { verifier: q.builder }];
    const rows = await this.em().find(Verification, where, { orderBy: { startedAt: 'desc', id: 'desc' }, limit: q.limit });
    return rows.map(verificationView);
  }

  /** The compared verifications of the builds a builder made, newest first: what auto-suspension judges. */
  async comparedOf(originalBuilder: string, limit: number): Promise<Array<Pick<VerificationRow, 'buildId' | 'result'>>> {
    return this.em().find(Verification, { originalBuilder, result: { $in: ['identical', 'different'] } }, { fields: ['buildId', 'result'], orderBy: { finishedAt: 'desc', id: 'desc' }, limit });
  }
}

const stores = new WeakMap<MikroORM, VerificationStore>();

/** One VerificationStore per ORM (they share its connection). */
export function verificationStoreOf(orm: MikroORM): VerificationStore {
  let s = stores.get(orm);
  if (!s) stores.set(orm, (s = new VerificationStore(orm)));
  return s;
}
