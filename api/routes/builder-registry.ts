import { Router } from 'express';
import { z } from 'zod';
import { builderId } from '../../core/contracts/ids';
import { TRUST_LEVELS } from '../../core/contracts/trust';
import { identityOf, publicRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import type { RouteDocs } from '../openapi';
import { builderStanding, enrolBuilder, issueEnrolment, revokeBuilder, setBuilderTrust } from '../services/builder-registry';
import { parse } from '../validate';
import { idParams, noQuery } from './schemas';
import { builderStandingCommandResponse, enrolledResponse, enrolmentTokenResponse, standingResponse } from './responses';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/** How long an enrolment token may be spent: 90m, 12h, 7d (at most 30 days); default 24h. */
const expiresIn = z.string().regex(/^\d{1,5}[mhd]$/, 'a duration such as 90m, 12h or 7d')
  .transform((v) => Number(v.slice(0, -1)) * UNITS[v.slice(-1)])
  .refine((ms) => ms > 0 && ms <= 30 * UNITS.d, 'between 1m and 30d');
const reason = z.string().min(1).max(500);
const builderIdText = z.string().min(1).max(128).refine((v) => {
  try {
    builderId(v);
    return true;
  } catch {
    return false;
  }
}, 'letters, digits, . _ + - (a builder id)');

export const enrolmentBody = z.strictObject({ trust: z.enum(TRUST_LEVELS), expiresIn: expiresIn.optional() });
export const enrolBody = z.strictObject({
  /** The one-time token an admin issued (POST /api/builders/enrolments). */
  token: z.string().min(1).max(200),
  builderId: builderIdText,
  /** The builder's Ed25519 public key: base64 of its DER (SPKI) encoding. */
  publicKey: z.string().min(1).max(4096),
});
export const trustBody = z.strictObject({ trust: z.enum(TRUST_LEVELS), reason: reason.optional() });
export const revokeBody = z.strictObject({ reason: reason.optional() }).optional();

const pem = 'MCowBQYDK2VwAyEAIP4i5ZADOW0kiVOAnBTNFcnk+gV3rMG7wokrOLriDkU=';

/** The builder registry's routes (issue 10); the schemas the handlers parse with are the ones documented here. */
export const REGISTRY_DOCS = {
  'POST /api/builders/enrolments': { summary: 'issue a one-time enrolment token for a builder of a trust level; 201 with `token`, shown this once (only its digest is kept)', body: enrolmentBody, response: { status: 201, schema: enrolmentTokenResponse }, examples: { body: { trust: 'community', expiresIn: '12h' } } },
  'POST /api/builders/enrol': { summary: 'a builder spends its enrolment token to register its Ed25519 public key (base64 DER); 201 with its identity and trust (401: token unknown, spent or expired)', body: enrolBody, response: { status: 201, schema: enrolledResponse }, examples: { body: { token: 'summit_enrol_…', builderId: 'builder-1', publicKey: pem } } },
  'GET /api/builders/:id/standing': { summary: "a builder's standing: enrolled, trust, state (revoked), drain or suspension, public key; what the builder asks at each heartbeat and vessel at each import", params: idParams, query: noQuery, response: { schema: standingResponse }, examples: { params: { id: 'builder-1' } } },
  'POST /api/builders/:id/trust': { summary: "change an enrolled builder's trust level from now on (trusted, community)", params: idParams, body: trustBody, response: { schema: builderStandingCommandResponse }, examples: { params: { id: 'builder-1' }, body: { trust: 'trusted', reason: 'audited host' } } },
  'POST /api/builders/:id/revoke': { summary: 'revoke a builder at once: it takes nothing new, its running builds are stopped and requeued, vessel imports nothing more from it', params: idParams, body: revokeBody, response: { schema: builderStandingCommandResponse }, examples: { params: { id: 'builder-1' }, body: { reason: 'host compromised' } } },
} satisfies RouteDocs;

export function builderRegistryRouter(deps: ApiDeps): Router {
  const router = Router();
  const admin = requireRole(deps.auth, 'admin');
  const d = REGISTRY_DOCS;
  router.post('/api/builders/enrolments', admin, async (req, res) => {
    const body = parse('body', d['POST /api/builders/enrolments'].body, req.body);
    const made = await issueEnrolment(deps.store, body.trust, body.expiresIn, identityOf(res.locals).name);
    res.status(201).json(made);
  });
  router.post('/api/builders/enrol', publicRoute('a builder enrolling: the one-time enrolment token in the body is its authentication'), async (req, res) => {
    const body = parse('body', d['POST /api/builders/enrol'].body, req.body);
    const builder = await enrolBuilder(deps, body.token, body.builderId, body.publicKey);
    res.status(201).json({ builderId: builder.id, trust: builder.trust, state: builder.state, enrolledAt: builder.enrolledAt });
  });
  router.get('/api/builders/:id/standing', publicRoute('builders read their own standing and vessel a builder\'s key: nothing secret (a public key, a trust level)'), async (req, res) => {
    const { id } = parse('params', d['GET /api/builders/:id/standing'].params, req.params);
    parse('query', noQuery, req.query);
    res.json(await builderStanding(deps.store, id));
  });
  router.post('/api/builders/:id/trust', admin, async (req, res) => {
    const { id } = parse('params', d['POST /api/builders/:id/trust'].params, req.params);
    const body = parse('body', d['POST /api/builders/:id/trust'].body, req.body);
    const { builder, changed } = await setBuilderTrust(deps, id, body.trust, identityOf(res.locals).name, body.reason ?? null);
    res.json({ builder: builder.id, trust: builder.trust, state: builder.state, changed });
  });
  router.post('/api/builders/:id/revoke', admin, async (req, res) => {
    const { id } = parse('params', d['POST /api/builders/:id/revoke'].params, req.params);
    const body = parse('body', d['POST /api/builders/:id/revoke'].body, req.body);
    const { builder, changed } = await revokeBuilder(deps, id, identityOf(res.locals).name, body?.reason ?? null);
    res.json({ builder: builder.id, trust: builder.trust, state: builder.state, revoked: builder.revoked, changed });
  });
  return router;
}
