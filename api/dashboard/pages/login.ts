import { html, type Html } from '../html';
import { page } from '../layout';

/**
 * Sign-in: dashboard.js checks the token (GET /api/tokens/self) and keeps it in sessionStorage, for this tab only, and
 * sends it as a bearer token with admin actions. Never a cookie: a cookie would ride along on requests other sites
 * make the browser send (CSRF); a header our own script adds cannot.
 */
export function loginPage(): Html {
  return page('login', 'Sign in', loginForm(html`<p>Admin actions (retry, cancel, priority, pause) need an API token with the admin role; where this API does not show its pages to everyone (SUMMIT_API_PUBLIC_READS), reading them needs a viewer's. It is kept in this tab's session storage and sent only to this API.</p>`));
}

function loginForm(intro: Html): Html {
  return html`<form id="login-form" class="login" method="post" action="/login" autocomplete="off">
${intro}
<label>API token <input type="password" name="token" id="token" required minlength="32" autocomplete="off" spellcheck="false"></label>
<button type="submit">Sign in</button>
<p id="login-result" role="status"></p>
<noscript><p>Signing in needs JavaScript.</p></noscript>
</form>`;
}

/**
 * What a page answers (401) when this API shows it only to a token's holder (SUMMIT_API_PUBLIC_READS `summary` or
 * `none`) and the request carried none: a browser's navigation cannot send the tab's token as a header, so the
 * page says so and offers the sign-in; dashboard.js, holding a token (or once signed in here), reads the same URL
 * again with it and puts that page in place of this one (`data-gate`).
 */
export function signInGatePage(reason: string): Html {
  return page('login', 'Sign in to read this page', html`<div data-gate>
<p id="gate-state" class="muted" role="status">This API shows this page to a token's holder only (<span data-gate-reason>${reason}</span>).</p>
${loginForm(html`<p>Sign in with an API token (a viewer's reads every page; admin actions need an admin's). It is kept in this tab's session storage and sent only to this API.</p>`)}
</div>`);
}
