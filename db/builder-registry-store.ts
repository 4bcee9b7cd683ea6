import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UniqueConstraintViolationException, type EntityManager, type InferEntity } from '@mikro-orm/core';
import { generateToken, hashToken } from '../core/auth/token-secret';
import type { TrustLevel } from '../core/contracts/trust';
import type { BuilderStanding, BuilderState, StandingHold } from '../core/trust/standing';
import { adminStoreOf } from './admin-store';
import { AdminEvent, BuilderEnrolment, EnrolledBuilder } from './entities';
import { bumpMarkers } from './change-markers';
import { ConflictError, NotFoundError, type Store } from './store';

export type EnrolledBuilderRow = InferEntity<typeof EnrolledBuilder>;

/** A builder as the registry lists it (its key included: it is public). */
export interface RegisteredBuilder {
  id: string;
  trust: TrustLevel;
  state: BuilderState;
  publicKey: string;
  enrolledAt: Date;
  revoked: { by: string; reason: string | null; at: Date } | null;
}

/** An enrolment token the builder could not spend: unknown, spent or expired (the API answers 401). */
export class EnrolmentRefusedError extends Error {
  override readonly name = 'EnrolmentRefusedError';
}

function registered(r: EnrolledBuilderRow): RegisteredBuilder {
  return {
    id: r.id, trust: r.trust as TrustLevel, state: r.state as BuilderState, publicKey: r.publicKey, enrolledAt: r.enrolledAt,
    revoked: r.revokedAt ? { by: r.revokedBy ?? '?', reason: r.revokedReason ?? null, at: r.revokedAt } : null,
  };
}

/**
 * The builder registry (issue 10): one-time enrolment tokens, and the enrolled builders with their public keys,
 * trust levels and states. Writes record who and when in admin_events (subject `builder:<id>`), beside drains.
 */
export class BuilderRegistryStore {
  constructor(private readonly store: Store) {}

  private em(): EntityManager {
    return this.store.orm.em.fork();
  }

  /** A one-time token enrolling one builder at `trust`; the secret is returned here once, only its digest kept. */
  async issue(trust: TrustLevel, expiresAt: Date, by: string): Promise<{ id: string; token: string; trust: TrustLevel; expiresAt: Date }> {
    const id = `enr_${randomBytes(8).toString('hex')}`;
    const token = generateToken('enrol');
    const em = this.em();
    em.create(BuilderEnrolment, { id, hash: hashToken(token), trust, createdBy: by, expiresAt, usedAt: null, usedBy: null });
    await em.flush();
    return { id, token, trust, expiresAt };
  }

  /**
   * Enrolment tokens made outside the API (a secret file per builder, docker-compose.yml): each accepted as a
   * trusted one-time token valid for 30 days from its first import, unless its digest is already known (spent or
   * not: importing again at every start changes nothing). Returns how many were new.
   */
  async acceptPremade(tokens: readonly string[], now = new Date()): Promise<number> {
    let made = 0;
    for (const token of tokens) {
      const em = this.em();
      if (await em.findOne(BuilderEnrolment, { hash: hashToken(token) }, { fields: ['id'] })) continue;
      em.create(BuilderEnrolment, {
        id: `enr_${randomBytes(8).toString('hex')}`, hash: hashToken(token), trust: 'trusted', createdBy: 'SUMMIT_ENROL_TOKEN_FILES',
        expiresAt: new Date(now.getTime() + 30 * 86_400_000), usedAt: null, usedBy: null,
      });
      await em.flush().catch((err: unknown) => {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
      });
      made++;
    }
    return made;
  }

  /**
   * Spends an enrolment token to register `builderId` with its public key. Refused (EnrolmentRefusedError) for a
   * token unknown, spent or expired; 409 for an id already enrolled and not revoked (a revoked id may enrol anew,
   * with a new key). The token is spent in the same transaction as the registration.
   */
  async enrol(token: string, builderId: string, publicKey: string, now = new Date()): Promise<RegisteredBuilder> {
    try {
      return await this.em().transactional(async (em) => {
        const enrolment = await em.findOne(BuilderEnrolment, { hash: hashToken(token) });
        if (!enrolment) throw new EnrolmentRefusedError('unknown enrolment token');
        if (enrolment.usedAt) throw new EnrolmentRefusedError(`enrolment token ${enrolment.id} was already used (by builder ${enrolment.usedBy})`);
        if (enrolment.expiresAt.getTime() <= now.getTime()) throw new EnrolmentRefusedError(`enrolment token ${enrolment.id} expired at ${enrolment.expiresAt.toISOString()}`);
        const spent = await em.nativeUpdate(BuilderEnrolment, { id: enrolment.id, usedAt: null }, { usedAt: now, usedBy: builderId });
        if (spent === 0) throw new EnrolmentRefusedError(`enrolment token ${enrolment.id} was already used`);
        const existing = await em.findOne(EnrolledBuilder, { id: builderId });
        if (existing && existing.state !== 'revoked') throw new ConflictError(`builder "${builderId}" is already enrolled; revoke it first to enrol it again`);
        const fields = {
          publicKey, trust: enrolment.trust, state: 'enrolled', enrolment: enrolment.id, enrolledAt: now,
          trustChangedBy: null, trustChangedAt: null, revokedBy: null, revokedReason: null, revokedAt: null,
        };
        if (existing) em.assign(existing, fields);
        else em.create(EnrolledBuilder, { id: builderId, ...fields });
        em.create(AdminEvent, { subject: `builder:${builderId}`, action: `enrol ${enrolment.trust}`, by: `enrolment ${enrolment.id}`, reason: null, at: now });
        await bumpMarkers(em, 'registry');
        await em.flush();
        return registered((existing ?? (await em.findOneOrFail(EnrolledBuilder, { id: builderId }))));
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`builder "${builderId}" is being enrolled by another request`);
      throw err;
    }
  }

  async get(id: string): Promise<RegisteredBuilder | undefined> {
    const row = await this.em().findOne(EnrolledBuilder, { id });
    return row ? registered(row) : undefined;
  }

  async list(): Promise<RegisteredBuilder[]> {
    return (await this.em().find(EnrolledBuilder, {}, { orderBy: { id: 'asc' } })).map(registered);
  }

  /** Every builder's trust and state, for planning. */
  async levels(): Promise<Map<string, { trust: TrustLevel; state: BuilderState }>> {
    const rows = await this.em().find(EnrolledBuilder, {}, { fields: ['id', 'trust', 'state'] });
    return new Map(rows.map((r) => [r.id, { trust: r.trust as TrustLevel, state: r.state as BuilderState }]));
  }

  /** Changes a builder's trust level from now on; `changed: false` when it already had it. Revoked builders stay revoked (409). */
  async setTrust(id: string, trust: TrustLevel, by: string, reason: string | null): Promise<{ builder: RegisteredBuilder; changed: boolean }> {
    return this.em().transactional(async (em) => {
      const row = await em.findOne(EnrolledBuilder, { id });
      if (!row) throw new NotFoundError('enrolled builder', id);
      if (row.state === 'revoked') throw new ConflictError(`builder "${id}" is revoked; enrol it again with a new token`);
      if (row.trust === trust) return { builder: registered(row), changed: false };
      const now = new Date();
      em.assign(row, { trust, trustChangedBy: by, trustChangedAt: now });
      em.create(AdminEvent, { subject: `builder:${id}`, action: `trust ${trust}`, by: by, reason: reason, at: now });
      await bumpMarkers(em, 'registry');
      await em.flush();
      return { builder: registered(row), changed: true };
    });
  }

  /** Revokes a builder for good (it may enrol again only with a new token and key); `changed: false` when it already was. */
  async revoke(id: string, by: string, reason: string | null): Promise<{ builder: RegisteredBuilder; changed: boolean }> {
    return this.em().transactional(async (em) => {
      const row = await em.findOne(EnrolledBuilder, { id });
      if (!row) throw new NotFoundError('enrolled builder', id);
      if (row.state === 'revoked') return { builder: registered(row), changed: false };
      const now = new Date();
      em.assign(row, { state: 'revoked', revokedBy: by, revokedReason: reason, revokedAt: now });
      em.create(AdminEvent, { subject: `builder:${id}`, action: 'revoke', by: by, reason: reason, at: now });
      await bumpMarkers(em, 'registry');
      await em.flush();
      return { builder: registered(row), changed: true };
    });
  }

  /** What the builder (and vessel) is told: the registry's record and any drain hold (admin or automatic suspension). */
  async standing(id: string): Promise<BuilderStanding> {
    const [row, hold] = await Promise.all([this.get(id), adminStoreOf(this.store).holdOn({ kind: 'builder', id })]);
    const drained: StandingHold | null = hold ? { by: hold.by, reason: hold.reason, at: hold.at.toISOString() } : null;
    if (!row) return { builderId: id, enrolled: false, trust: null, state: null, publicKey: null, enrolledAt: null, revoked: null, drained };
    return {
      builderId: id, enrolled: true, trust: row.trust, state: row.state, publicKey: row.publicKey, enrolledAt: row.enrolledAt.toISOString(),
      revoked: row.revoked && { ...row.revoked, at: row.revoked.at.toISOString() }, drained,
    };
  }
}

/** One registry store per Store (they share its connection). */
const stores = new WeakMap<Store, BuilderRegistryStore>();

export function builderRegistryOf(store: Store): BuilderRegistryStore {
  let registry = stores.get(store);
  if (!registry) stores.set(store, (registry = new BuilderRegistryStore(store)));
  return registry;
}

/** The tokens of SUMMIT_ENROL_TOKEN_FILES: one per file, at least 32 characters (a guessable one is refused). */
export async function readPremadeEnrolments(files: readonly string[]): Promise<string[]> {
  const tokens: string[] = [];
  for (const file of files) {
    const token = (await readFile(file, 'utf8')).trim();
    if (token.length < 32) throw new Error(`SUMMIT_ENROL_TOKEN_FILES: ${file} holds no token of at least 32 characters`);
    tokens.push(token);
  }
  return tokens;
}
