import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../../db/store';
import { publicRoute, readRoute } from '../auth';
import type { ApiDeps } from '../deps';
import { ForbiddenError, UnauthorizedError, ValidationError } from '../errors';
import { idParams, noQuery } from '../routes/schemas';
import { PublishedIndexes } from '../services/published';
import { RepositoryCyclesCache } from '../services/repository-cycles';
import { parse } from '../validate';
import { sendAsset } from './assets';
import { html, type Html } from './html';
import { page, securityHeaders } from './layout';
import type { DashboardOptions } from './options';
import { buildersPage } from './pages/builders';
import { loginPage, signInGatePage } from './pages/login';
import { overviewPage } from './pages/overview';
import { packagePage, packagesIndexPage, streamPage, streamQuery } from './pages/packages';
import { repositoriesPage, repositoryPage } from './pages/repositories';
import { taskPage } from './pages/task';
import { searchTarget, tasksPage, tasksQuery } from './pages/tasks';

/**
 * The web dashboard, served by the API at `/`: server-rendered HTML (every page readable without JavaScript),
 * refreshed in place by htmx (a region of the same page fetched every few seconds), with one small script of
 * ours for the live log, sign-in and admin actions. Every page is read from the same services as the JSON API.
 *
 * GET /                          the farm at a glance
 * GET /tasks                     ?status=a,b&repository=&q=&cursor=&limit=
 * GET /tasks/:id                 one task (id URL-encoded, one segment, as in the API)
 * GET /builders, /repositories, /repositories/:id
 * GET /packages, /packages/:index?stream=&q=, /packages/:index/:name?stream=
 * GET /login
 * GET /dashboard/assets/:name    htmx, dashboard.js, dashboard.css
 */
const DEFAULTS: DashboardOptions = { namespace: 'default', indexes: ['main'] };

export const pageIndexParams = z.object({ index: z.string().min(1).max(255) });
export const pageParams = z.object({ index: z.string().min(1).max(255), name: z.string().min(1).max(1024) });
export const assetParams = z.object({ name: z.string().min(1).max(64) });

function send(res: Response, body: Html): void {
  securityHeaders(res);
  res.setHeader('Cache-Control', 'no-store');
  res.type('html').send(body.text);
}

export function dashboardRouter(deps: ApiDeps, options: DashboardOptions = DEFAULTS): Router {
  const router = Router();
  const published = new PublishedIndexes(options.packagesBaseUrl, options.indexes, undefined, options.architectures);
  const cycles = new RepositoryCyclesCache(deps.store);
  // Pages are reads like the API's: public under SUMMIT_API_PUBLIC_READS=all; a task page shows the log tail (detail).
  const read = readRoute(deps.auth);

  router.get('/', read, async (req, res) => {
    parse('query', noQuery, req.query);
    send(res, await overviewPage(deps.store));
  });
  router.get('/tasks', read, async (req, res) => {
    const query = parse('query', tasksQuery, req.query);
    const target = searchTarget(query.q);
    if (target) {
      res.redirect(303, target);
      return;
    }
    send(res, await tasksPage(deps.store, query, req.originalUrl));
  });
  router.get('/tasks/:id', readRoute(deps.auth, 'detail'), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('query', noQuery, req.query);
    send(res, await taskPage(deps.store, options, id));
  });
  router.get('/builders', read, async (req, res) => {
    parse('query', noQuery, req.query);
    send(res, await buildersPage(deps.store));
  });
  router.get('/repositories', read, async (req, res) => {
    parse('query', noQuery, req.query);
    send(res, await repositoriesPage(deps.store));
  });
  router.get('/repositories/:id', read, async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('query', noQuery, req.query);
    send(res, await repositoryPage(deps.store, cycles, id));
  });
  router.get('/packages', read, async (req, res) => {
    parse('query', noQuery, req.query);
    send(res, await packagesIndexPage(published));
  });
  router.get('/packages/:index', read, async (req, res) => {
    const { index } = parse('params', pageIndexParams, req.params);
    send(res, await streamPage(published, index, parse('query', streamQuery, req.query)));
  });
  router.get('/packages/:index/:name', read, async (req, res) => {
    const { index, name } = parse('params', pageParams, req.params);
    send(res, await packagePage(deps.store, published, index, name, parse('query', streamQuery, req.query)));
  });
  router.get('/login', publicRoute('the sign-in page: no data'), (req, res) => {
    parse('query', noQuery, req.query);
    send(res, loginPage());
  });
  router.get('/dashboard/assets/:name', publicRoute('the dashboard\'s own scripts and styles'), (req, res) => {
    const { name } = parse('params', assetParams, req.params);
    parse('query', noQuery, req.query);
    sendAsset(req, res, name);
  });
  router.use(htmlErrors);
  return router;
}

/**
 * A browser asking for a page (Accept: text/html) gets the error as a page; every other client gets the API's
 * JSON error from the one error handler, as for any route. A page that needs a token (SUMMIT_API_PUBLIC_READS
 * `summary` or `none`) asked for without one, or with one that no longer works, is the sign-in prompt (401); a
 * token of a role that may not read it, a page saying so (403).
 */
const htmlErrors: ErrorRequestHandler = (err, req: Request, res, next) => {
  const status = err instanceof NotFoundError ? 404 : err instanceof ValidationError ? 422 : err instanceof UnauthorizedError ? 401 : err instanceof ForbiddenError ? 403 : undefined;
  if (status === undefined || res.headersSent || req.path.startsWith('/api/') || req.accepts(['json', 'html']) !== 'html') {
    next(err);
    return;
  }
  res.status(status);
  const message = (err as Error).message;
  if (status === 401) {
    send(res, signInGatePage(message));
    return;
  }
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not for this token' : 'Not a valid request';
  send(res, page('overview', title, html`<p class="reason">${message}</p><p><a href="/">Back to the overview</a></p>`));
};
