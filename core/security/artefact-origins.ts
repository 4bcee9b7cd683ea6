/**
 * Where builders' artefact servers may be. A build result names its builder's server (`artefactBaseUrl`), and
 * vessel fetches and deletes there, and the API reads live logs there: the address is the builder's own word,
 * so a hostile enrolled builder could aim those requests at any host vessel or the API can reach. The operator
 * lists the builders' origins in SUMMIT_ARTEFACT_ORIGINS, and every request to a builder's server is checked
 * against the list first. Unset, any http(s) origin is allowed (`npm start`, tests with free ports); the shape
 * is checked either way: http or https, no credentials, no query or fragment.
 *
 * Entries, comma-separated: `scheme://host[:port]` (the exact origin; no port means the scheme's default) or
 * `scheme://host:*` (any port of that host, for builders started on free ports).
 */
export const ARTEFACT_ORIGINS_SETTING = 'SUMMIT_ARTEFACT_ORIGINS';

interface OriginRule {
  protocol: 'http:' | 'https:';
  /** As WHATWG URL writes it: lower case, IPv6 in brackets. */
  hostname: string;
  /** The port as a URL would carry it ('' for the scheme's default), or '*' for any. */
  port: string;
  text: string;
}

export class ArtefactOriginsError extends Error {
  override readonly name = 'ArtefactOriginsError';
}

const ANY_PORT = ':*';

export class ArtefactOrigins {
  /** No list: any http(s) origin. */
  static readonly ANY = new ArtefactOrigins([]);

  private constructor(private readonly rules: readonly OriginRule[]) {}

  /** The setting's value (unset or blank: ANY); throws an ArtefactOriginsError naming the entry that is wrong. */
  static parse(text: string | undefined): ArtefactOrigins {
    const entries = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return entries.length === 0 ? ArtefactOrigins.ANY : new ArtefactOrigins(entries.map(parseRule));
  }

  get restricted(): boolean {
    return this.rules.length > 0;
  }

  /** Why `url` may not be used as a builder's artefact server, or undefined when it may. */
  problem(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `artefact server "${url}" is not a URL`;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `artefact server ${parsed.origin}: ${parsed.protocol} is not http or https`;
    if (parsed.username || parsed.password) return `artefact server ${parsed.host}: credentials are not allowed in its URL`;
    if (parsed.search || parsed.hash) return `artefact server ${parsed.origin}: a query or fragment is not allowed in its URL`;
    if (this.rules.length === 0) return undefined;
    const allowed = this.rules.some(
      (r) => r.protocol === parsed.protocol && r.hostname === parsed.hostname && (r.port === '*' || r.port === parsed.port),
    );
    return allowed ? undefined : `artefact server ${parsed.origin} is not in ${ARTEFACT_ORIGINS_SETTING} (${this.describe()})`;
  }

  describe(): string {
    return this.rules.length === 0 ? 'any http(s) origin' : this.rules.map((r) => r.text).join(', ');
  }
}

function parseRule(entry: string): OriginRule {
  const anyPort = entry.endsWith(ANY_PORT);
  const notOrigin = new ArtefactOriginsError(`${ARTEFACT_ORIGINS_SETTING}: "${entry}" is not an http(s) origin such as http://builder-1:8090 or http://builder-1:*`);
  let url: URL;
  try {
    url = new URL(anyPort ? entry.slice(0, -ANY_PORT.length) : entry);
  } catch {
    throw notOrigin;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw notOrigin;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new ArtefactOriginsError(`${ARTEFACT_ORIGINS_SETTING}: "${entry}" is not an origin: give scheme://host[:port] only, no path, credentials, query or fragment`);
  }
  if (anyPort && url.port !== '') throw new ArtefactOriginsError(`${ARTEFACT_ORIGINS_SETTING}: "${entry}" has two ports`);
  return { protocol: url.protocol, hostname: url.hostname, port: anyPort ? '*' : url.port, text: entry };
}
