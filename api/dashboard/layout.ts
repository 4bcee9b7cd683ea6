import type { Response } from 'express';
import { html, raw, type Html } from './html';
import { assetUrl } from './assets';

/**
 * The page shell every dashboard page shares, and the headers that go with it. The Content-Security-Policy allows
 * scripts, styles and connections from this origin only and no inline script or style at all, so even markup that
 * escaped our escaping could not run; frames, plugins, forms to elsewhere and <base> are refused too.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

export type Section = 'overview' | 'tasks' | 'builders' | 'repositories' | 'packages' | 'login';

const NAV: Array<[Section, string, string]> = [
  ['overview', '/', 'Overview'],
  ['tasks', '/tasks', 'Tasks'],
  ['builders', '/builders', 'Builders'],
  ['repositories', '/repositories', 'Repositories'],
  ['packages', '/packages', 'Packages'],
];

/**
 * htmx settings (read by htmx from this meta tag): no eval (the CSP forbids it and no page needs `hx-on` or
 * filters), no injected indicator <style> (the CSP forbids that too), no history snapshots of live pages.
 */
const HTMX_CONFIG = raw(`<meta name="htmx-config" content='{"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,"historyCacheSize":0,"selfRequestsOnly":true}'>`);

export function page(section: Section, title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Summit</title>
${HTMX_CONFIG}
<link rel="stylesheet" href="${assetUrl('dashboard.css')}">
<script src="${assetUrl('htmx.min.js')}" defer></script>
<script src="${assetUrl('dashboard.js')}" defer></script>
</head>
<body data-section="${section}">
<header class="top">
  <a class="brand" href="/">Summit</a>
  <nav>${NAV.map(([s, href, label]) => html`<a href="${href}"${s === section ? raw(' aria-current="page"') : ''}>${label}</a>`)}</nav>
  <span class="session"><span id="who" class="muted">not signed in</span> <a id="login-link" href="/login">Sign in</a> <button type="button" id="logout" class="admin link">Sign out</button></span>
</header>
<div id="flash" role="status" aria-live="polite"></div>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}

/**
 * A region that refreshes itself every few seconds: htmx fetches the same page and swaps in the same region of it
 * (server-rendered, escaped like the page itself). Without JavaScript the page is simply static.
 */
export function live(id: string, url: string, body: Html, everySeconds = 3): Html {
  return html`<div id="${id}" class="live" hx-get="${url}" hx-trigger="every ${everySeconds}s, refresh from:body" hx-select="#${id}" hx-swap="outerHTML" hx-target="this">${body}</div>`;
}
