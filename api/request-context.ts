import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from './logger';

/**
 * A request id on every response: the caller's `x-request-id` when it looks like an id (so a proxy's or a hook's
 * id follows the request through our logs), otherwise a fresh UUID. Anything else a client sends there is
 * replaced, never echoed, so a header cannot smuggle text into our logs or responses.
 */
const ACCEPTABLE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const offered = req.get('x-request-id');
    const requestId = offered && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info('request', { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 });
    });
    next();
  };
}
