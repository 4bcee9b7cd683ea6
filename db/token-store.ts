import { InferEntity, MikroORM, UniqueConstraintViolationException } from '@mikro-orm/core';
import { generateToken, hashToken, newTokenId } from '../core/auth/token-secret';
import { roleOf, type Identity, type Role, type RoleName } from '../core/auth/roles';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { ApiToken } from './entities';
import { toDate } from './task-query';
import { ConflictError, NotFoundError } from './store';

export type ApiTokenRow = InferEntity<typeof ApiToken>;

/** A token as the API lists it: everything but the digest. */
export type TokenRecord = Omit<ApiTokenRow, 'hash'>;

export interface NewToken {
  name: string;
  role: Role;
  repositories?: string[] | null;
  expiresAt?: Date | null;
  createdBy?: string | null;
}

/** What a lookup tells Auth: the identity, and why a known token no longer works. */
export type TokenLookup =
  | { found: false }
  | { found: true; identity: Identity; revokedAt: Date | null; expiresAt: Date | null };

const record = ({ hash: _hash, ...rest }: ApiTokenRow): TokenRecord => ({ ...rest, repositories: normalise(rest.repositories) });

/** libsql hands JSON columns back as text. */
function normalise(v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  return (typeof v === 'string' ? JSON.parse(v) : v) as string[];
}

/**
 * API tokens in the database (table api_tokens). Every request's token is looked up here by its digest, with no
 * cache: a revocation or an expiry holds from the next request, in every API process sharing the database. One
 * indexed lookup by primary-key-like unique column per authenticated request.
 */
export class TokenStore {
  constructor(private readonly orm: MikroORM) {}

  private em() {
    return this.orm.em.fork();
  }

  /** Creates a token; the secret is returned here once and never stored. */
  async create(input: NewToken): Promise<{ record: TokenRecord; token: string }> {
    const token = generateToken(input.role);
    const em = this.em();
    const row = em.create(ApiToken, {
      id: newTokenId(), name: input.name, role: input.role, repositories: input.repositories ?? null, hash: hashToken(token),
      origin: 'api', createdBy: input.createdBy ?? null, expiresAt: input.expiresAt ?? null, revokedAt: null, revokedBy: null,
    });
    await em.flush();
    return { record: record(row), token };
  }

  /** Every token, newest first, revoked and expired ones included (the audit trail). */
  async list(): Promise<TokenRecord[]> {
    const rows = await this.em().find(ApiToken, {}, { orderBy: { createdAt: 'desc', id: 'asc' } });
    return rows.map(record);
  }

  /**
   * Revokes a token from now on (again: a no-op that answers the record). The last working admin token is not
   * revoked (409): the farm would be left without anyone able to create tokens but by editing its data folder.
   */
  async revoke(id: string, by: string, now: Date = new Date()): Promise<TokenRecord> {
    const em = this.em();
    const row = await em.findOne(ApiToken, { id });
    if (!row) throw new NotFoundError('token', id);
    if (row.revokedAt) return record(row);
    if (row.role === 'admin') {
      const admins = await em.count(ApiToken, {
        role: 'admin', revokedAt: null, id: { $ne: id }, $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }],
      });
      if (admins === 0) throw new ConflictError(`token "${row.name}" (${id}) is the last working admin token; create another admin token first`);
    }
    row.revokedAt = now;
    row.revokedBy = by;
    await em.flush();
    return record(row);
  }

  /** The token whose secret hashes to `hash`, however it stands (Auth decides what revoked or expired means). */
  async lookup(hash: string): Promise<TokenLookup> {
    // A plain row, not an entity: this runs on every authenticated request, and the identity map and hydration
    // of an entity cost more than the indexed read itself.
    const row = await (this.em() as unknown as SqlEntityManager).createQueryBuilder(ApiToken)
      .select(['id', 'name', 'role', 'repositories', 'revokedAt', 'expiresAt']).where({ hash }).limit(1)
      .execute<Record<string, unknown> | undefined>('get', true);
    if (!row) return { found: false };
    return {
      found: true,
      identity: { id: String(row.id), name: String(row.name), role: roleOf(row.role as RoleName), repositories: normalise(row.repositories) },
      revokedAt: toDate(row.revokedAt),
      expiresAt: toDate(row.expiresAt),
    };
  }

  /**
   * The bootstrap tokens of <data>/tokens.json, imported hashed at each start: a secret already known (revoked
   * or not) is left as it is, so a revoked bootstrap token stays revoked; a new file (deleted and generated again,
   * the way to recover a lost admin token) adds its tokens. Several API processes may start at once: the unique
   * digest makes the second insert a no-op.
   */
  async importBootstrap(tokens: ReadonlyArray<{ name: string; role: RoleName; token: string }>): Promise<number> {
    let added = 0;
    for (const t of tokens) {
      const hash = hashToken(t.token);
      const em = this.em();
      if (await em.findOne(ApiToken, { hash })) continue;
      em.create(ApiToken, {
        id: newTokenId(), name: t.name, role: roleOf(t.role), repositories: null, hash, origin: 'bootstrap',
        createdBy: 'tokens.json', expiresAt: null, revokedAt: null, revokedBy: null,
      });
      try {
        await em.flush();
        added++;
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
      }
    }
    return added;
  }
}
