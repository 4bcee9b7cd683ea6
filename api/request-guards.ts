import type { RequestHandler } from 'express';
import { BadRequestError, UnsupportedMediaTypeError, UriTooLongError, type Issue } from './errors';

/**
 * The edge: what every request must be before a router sees it. Anything refused here is refused for every
 * route alike (400, 414, 415), so no handler, schema or SQL query ever receives undecodable percent-encoding,
 * control characters or a body nested beyond reason. PostgreSQL refuses a NUL in text with an error that would
 * otherwise surface as a 500; the router would throw a URIError for a parameter it cannot decode.
 */

/**
 * The longest path and query any route needs is a build id (a few hundred characters) plus a short query; 8 KiB
 * is what most proxies allow. Node itself cuts at 16 KiB of request line and headers (431, see server.ts).
 */
export const MAX_URL_LENGTH = 8 * 1024;

/** Our bodies are flat commands; JSON nested deeper than this is not one of them (and is refused unwalked). */
export const MAX_BODY_DEPTH = 16;

/** C0 controls, DEL and C1 controls: never part of an id, a name, a ref or a URL this API accepts. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this expression
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Keys that mean something to JavaScript objects rather than to us; refused wherever they appear in a body. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Quoted and cut short, so an echo of hostile input stays one readable line in the error message. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function decode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Issues of the path and the query string as they arrive, before express decodes or parses them. */
export function urlIssues(url: string): Issue[] {
  const issues: Issue[] = [];
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  for (const segment of path.split('/')) {
    const decoded = decode(segment);
    if (decoded === undefined) issues.push({ path: 'path', message: `${quote(segment)} is not valid percent-encoding (UTF-8)` });
    else if (CONTROL.test(decoded)) issues.push({ path: 'path', message: `${quote(segment)} holds a control character` });
  }
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    // The query parser reads + as a space, so must we.
    const key = decode(rawKey.replace(/\+/g, ' '));
    const value = decode(rawValue.replace(/\+/g, ' '));
    if (key === undefined) {
      issues.push({ path: 'query', message: `the parameter name ${quote(rawKey)} is not valid percent-encoding (UTF-8)` });
      continue;
    }
    const where = CONTROL.test(key) ? 'query' : `query.${key}`;
    if (CONTROL.test(key)) issues.push({ path: where, message: `the parameter name ${quote(key)} holds a control character` });
    else if (value === undefined) issues.push({ path: where, message: `${quote(rawValue)} is not valid percent-encoding (UTF-8)` });
    else if (CONTROL.test(value)) issues.push({ path: where, message: `${quote(value)} holds a control character` });
  }
  return issues;
}

/** Refuses a URL that is too long, undecodable or carries control characters: 414 or 400 naming the part. */
export const guardUrl: RequestHandler = (req, _res, next) => {
  if (req.originalUrl.length > MAX_URL_LENGTH) {
    next(new UriTooLongError(`the URL is ${req.originalUrl.length} characters long; at most ${MAX_URL_LENGTH} are accepted`));
    return;
  }
  const issues = urlIssues(req.originalUrl);
  next(issues.length ? new BadRequestError(`malformed URL: ${issues.map((i) => i.message).join('; ')}`, issues) : undefined);
};

/**
 * A request that carries a body must say it is JSON (415 otherwise): without this, express.json would skip a
 * form or text body and the schema would report a confusing "body required". A request without a body (most
 * POSTs here: retry, cancel, refresh) needs no content type.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !req.is('application/json')) {
    const type = req.headers['content-type'];
    next(new UnsupportedMediaTypeError(type ? `a body of type ${quote(type)} is not accepted; send application/json` : 'the body has no Content-Type; send application/json'));
    return;
  }
  next();
};

/**
 * Issues of a parsed JSON body: control characters in strings or keys, reserved keys, nesting beyond
 * MAX_BODY_DEPTH. Walked without recursion, and stopped at the first few issues, so a hostile body costs at
 * most one pass over what body-parser already bounded (64 KiB).
 */
export function bodyIssues(body: unknown): Issue[] {
  const issues: Issue[] = [];
  const stack: Array<{ value: unknown; path: string[] }> = [{ value: body, path: ['body'] }];
  while (stack.length > 0 && issues.length < 10) {
    const { value, path } = stack.pop()!;
    if (path.length - 1 > MAX_BODY_DEPTH) {
      issues.push({ path: path.slice(0, MAX_BODY_DEPTH + 1).join('.'), message: `nested deeper than ${MAX_BODY_DEPTH} levels` });
      break;
    }
    if (typeof value === 'string') {
      if (CONTROL.test(value)) issues.push({ path: path.join('.'), message: 'holds a control character' });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: [...path, String(i)] }));
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        if (RESERVED_KEYS.has(key)) issues.push({ path: path.join('.'), message: `the key ${quote(key)} is not accepted` });
        else if (CONTROL.test(key)) issues.push({ path: path.join('.'), message: `the key ${quote(key)} holds a control character` });
        else stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
      }
    }
  }
  return issues;
}

/** Runs after express.json: 400 naming where a parsed body holds what no route accepts. */
export const guardBody: RequestHandler = (req, _res, next) => {
  const issues = req.body === undefined ? [] : bodyIssues(req.body);
  next(issues.length ? new BadRequestError(`unacceptable JSON body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues) : undefined);
};
