import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from 'express';
import { accessTable, publicRoute } from '../auth';
import { openApiDocument } from '../openapi';
import { ROUTE_DOCS } from '../route-docs';
import { parse } from '../validate';
import { assetPath, docsAsset, DOCS_ASSETS } from './docs-assets';
import { noQuery } from './schemas';

/**
 * GET /api/openapi.json (the document, built at its first request from api/route-docs.ts and the access every
 * router of the app declares, once they are all in place), GET /api/docs (Swagger UI) and its
 * assets from swagger-ui-dist in node_modules. The page runs no inline script (its initializer is init.js), so its
 * Content-Security-Policy allows scripts from this origin only; Swagger UI sets inline styles, hence
 * 'unsafe-inline' for styles alone.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Summit API</title>
<link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true, tryItOutEnabled: false, persistAuthorization: false });\n`;

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    // dist/ layout: one level deeper
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  }
}

export function docsRouter(): Router {
  const router = Router();
  let document: string | undefined;
  const assets = new Map<string, Buffer>();
  const asset = (name: keyof typeof DOCS_ASSETS): Buffer => {
    let data = assets.get(name);
    if (!data) assets.set(name, (data = name === 'init.js' ? Buffer.from(INIT) : readFileSync(assetPath(name))));
    return data;
  };
  router.get('/api/openapi.json', publicRoute('the API description: what the routes are, no data'), (req, res) => {
    parse('query', noQuery, req.query);
    document ??= JSON.stringify(openApiDocument(ROUTE_DOCS, { title: 'Summit API', version: packageVersion() }, accessTable(req.app)));
    res.type('application/json').send(document);
  });
  router.get('/api/docs', publicRoute('the API description page'), (req, res) => {
    parse('query', noQuery, req.query);
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('text/html; charset=utf-8').send(PAGE);
  });
  router.get('/api/docs/:asset', publicRoute('static assets of the API description page'), (req, res) => {
    const { asset: name } = parse('params', docsAsset, req.params);
    parse('query', noQuery, req.query);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type(DOCS_ASSETS[name]).send(asset(name));
  });
  return router;
}
