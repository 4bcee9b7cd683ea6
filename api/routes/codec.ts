import express, { Router, type RequestHandler } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { PayloadCodecError } from '../../core/payload-codec';
import { requireRole, type Auth } from '../auth';
import { sendError } from '../errors';
import { parse } from '../validate';

/**
 * The codec endpoint (Temporal's remote codec protocol): `POST /codec/decode` and `/codec/encode` take and return
 * `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }` (Payloads as protobuf JSON), so that the Temporal
 * UI (`--ui-codec-endpoint <api>/codec`) and CLI (`--codec-endpoint <api>/codec --codec-auth "Bearer <token>"`)
 * can show encrypted payloads to an operator. Decoding reveals secrets, so both need the admin token; CORS lets
 * the configured UI origin call it from the browser.
 */
export interface CodecEndpointDeps {
  auth: Auth;
  /** Absent when payload encryption is not configured: the routes then answer 503. */
  codec?: PayloadCodec;
  /** The Temporal UI's origin (SUMMIT_CODEC_UI_ORIGIN); no CORS headers for any other. */
  uiOrigin?: string;
}

const base64 = z.string().max(16 * 1024 * 1024).regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
export const payloadsBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })).max(10_000),
});

const fromJson = (p: z.infer<typeof payloadsBody>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

function cors(uiOrigin: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (uiOrigin && req.headers.origin === uiOrigin) {
      res.setHeader('Access-Control-Allow-Origin', uiOrigin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Namespace');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

export function codecRouter(deps: CodecEndpointDeps): Router {
  const router = Router();
  router.use('/codec', cors(deps.uiOrigin));
  // A history page can hold many payloads, more than the API's 64 KiB limit for commands; parsed only once the
  // token is checked, so nobody without one makes the API read 8 MB.
  const body = express.json({ limit: '8mb' });
  for (const direction of ['encode', 'decode'] as const) {
    router.post(`/codec/${direction}`, requireRole(deps.auth, 'admin'), body, async (req, res) => {
      const { payloads } = parse('body', payloadsBody, req.body);
      if (!deps.codec) {
        sendError(res, 503, 'codec_unavailable', 'payload encryption is not configured on this API (SUMMIT_PAYLOAD_KEYS / SUMMIT_PAYLOAD_KEY_FILE)');
        return;
      }
      try {
        const out = await deps.codec[direction](payloads.map(fromJson));
        res.json({ payloads: out.map(toJson) });
      } catch (err) {
        if (!(err instanceof PayloadCodecError)) throw err;
        sendError(res, 422, 'undecodable_payload', err.message);
      }
    });
  }
  return router;
}
