import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { IllegalTransitionError } from '../core/task/state';
import { ConflictError, NotFoundError } from '../db/store';
import type { Logger } from './logger';
import { CommandRefusedError, HubUnavailableError } from './pipeline';

/**
 * The API's error classes and the one handler that maps every error to a status code. Handlers and services
 * throw; nothing else writes an error response. Anything not listed here is a 500 whose body says nothing of
 * the cause (the cause goes to the log under the same request id).
 */

export interface Issue {
  /** Where the problem is: `body.repository`, `query.limit`, `params.id`. */
  path: string;
  message: string;
}

/** The request parsed, but its params, query or body do not fit the schema: 422 with zod's issues. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(readonly issues: Issue[]) {
    super(`invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }

  static fromZod(where: 'params' | 'query' | 'body', error: z.ZodError): ValidationError {
    return new ValidationError(
      error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })),
    );
  }
}

/** No token, or a token we do not know: 401. */
export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}

/** A known token whose role does not allow this request: 403. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

/** A task exists but its log cannot be served from this host (not written yet, or on another machine): 404. */
export class LogUnavailableError extends Error {
  override readonly name = 'LogUnavailableError';
}

/** No route matches: 404. */
export class RouteNotFoundError extends Error {
  override readonly name = 'RouteNotFoundError';
}

/**
 * The request cannot even be read as one: undecodable percent-encoding, control characters in the path, the
 * query or the body, a body nested beyond reason. 400, refused at the edge before any handler or query runs.
 */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  constructor(message: string, readonly issues?: Issue[]) {
    super(message);
  }
}

/** A body that is not JSON (or no content type at all): 415. Every body this API reads is a JSON object. */
export class UnsupportedMediaTypeError extends Error {
  override readonly name = 'UnsupportedMediaTypeError';
}

/** The URL is longer than any route needs: 414. */
export class UriTooLongError extends Error {
  override readonly name = 'UriTooLongError';
}

/** The read model cannot be queried where a reply cannot do without it (a metrics scrape): 503. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/** The path is a route, but not for this method: 405 with the methods it has in `Allow`. */
export class MethodNotAllowedError extends Error {
  override readonly name = 'MethodNotAllowedError';
  constructor(message: string, readonly allow: readonly string[]) {
    super(message);
  }
}

interface Mapping {
  status: number;
  code: string;
}

function classify(err: unknown): Mapping | undefined {
  if (err instanceof ValidationError) return { status: 422, code: 'validation_failed' };
  if (err instanceof UnauthorizedError) return { status: 401, code: 'unauthorized' };
  if (err instanceof ForbiddenError) return { status: 403, code: 'forbidden' };
  if (err instanceof NotFoundError || err instanceof RouteNotFoundError) return { status: 404, code: 'not_found' };
  if (err instanceof LogUnavailableError) return { status: 404, code: 'log_unavailable' };
  if (err instanceof ConflictError || err instanceof CommandRefusedError || err instanceof IllegalTransitionError) {
    return { status: 409, code: 'conflict' };
  }
  if (err instanceof HubUnavailableError) return { status: 503, code: 'hub_unavailable' };
  if (err instanceof DatabaseUnavailableError) return { status: 503, code: 'database_unavailable' };
  if (err instanceof BadRequestError) return { status: 400, code: 'bad_request' };
  if (err instanceof UnsupportedMediaTypeError) return { status: 415, code: 'unsupported_media_type' };
  if (err instanceof UriTooLongError) return { status: 414, code: 'uri_too_long' };
  if (err instanceof MethodNotAllowedError) return { status: 405, code: 'method_not_allowed' };
  // body-parser's own errors carry `type` and a 4xx `status`: malformed JSON, a body too large, a bad charset.
  const parser = err as { type?: unknown; status?: unknown; expose?: unknown };
  if (typeof parser.type === 'string' && typeof parser.status === 'number' && parser.status >= 400 && parser.status < 500) {
    return { status: parser.status, code: BODY_PARSER_CODES[parser.type] ?? 'bad_request' };
  }
  // The router's own refusals (a URIError for a parameter it cannot decode carries status 400): the guards of
  // request-guards.ts refuse these first, this keeps a router-level 4xx a 4xx should one slip past them.
  if (err instanceof URIError) return { status: 400, code: 'bad_request' };
  return undefined;
}

/** body-parser's error types, by what the client did wrong. */
const BODY_PARSER_CODES: Record<string, string> = {
  'entity.parse.failed': 'malformed_json',
  'entity.too.large': 'payload_too_large',
  'charset.unsupported': 'unsupported_media_type',
  'encoding.unsupported': 'unsupported_media_type',
};

export function requestIdOf(res: Response): string {
  return String(res.locals.requestId ?? '');
}

export function sendError(res: Response, status: number, code: string, message: string, issues?: Issue[]): void {
  res.status(status).json({ error: { code, message, ...(issues ? { issues } : {}), requestId: requestIdOf(res) } });
}

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(new RouteNotFoundError(`no route ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    // A streamed response (a log) that fails half-way can only be cut short.
    if (res.headersSent) {
      logger.warn('response failed after headers were sent', { requestId: requestIdOf(res), error: String(err) });
      next(err);
      return;
    }
    const known = classify(err);
    if (!known) {
      logger.error('unhandled error', {
        requestId: requestIdOf(res), method: req.method, path: req.path, error: err instanceof Error ? err.stack : String(err),
      });
      sendError(res, 500, 'internal', 'internal error; the server log has the details under this request id');
      return;
    }
    if (known.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="summit"');
    if (known.status === 503) res.setHeader('Retry-After', '30');
    if (err instanceof MethodNotAllowedError) res.setHeader('Allow', err.allow.join(', '));
    const message = known.code === 'malformed_json' ? `malformed JSON body: ${(err as Error).message}` : (err as Error).message;
    const issues = err instanceof ValidationError || err instanceof BadRequestError ? err.issues : undefined;
    sendError(res, known.status, known.code, message, issues);
  };
}
