import { html, type Html } from '../html';
import { page } from '../layout';

/**
 * Sign-in: dashboard.js checks the token (GET /api/tokens/self) and keeps it in sessionStorage, for this tab only, and
 * sends it as a bearer token with admin actions. Never a cookie: a cookie would ride along on requests other sites
 * make the browser send (CSRF); a header our own script adds cannot.
 */
export function loginPage(): Html {
  return page('login', 'Sign in', html`<form id="login-form" class="login" method="post" action="/login" autocomplete="off">
<p>Admin actions (retry, cancel, priority, pause) need an API token with the admin role. It is kept in this tab's session storage and sent only to this API.</p>
<label>API token <input type="password" name="token" id="token" required minlength="32" autocomplete="off" spellcheck="false"></label>
<button type="submit">Sign in</button>
<p id="login-result" role="status"></p>
<noscript><p>Signing in needs JavaScript; every page can be read without it.</p></noscript>
</form>`);
}
