import { join } from 'node:path';
import { readTokensFile, TOKENS_FILE } from '../api/tokens';

/**
 * How the admin commands of `summit` reach the API: the URL from SUMMIT_API_URL, else from SUMMIT_API_HOST and
 * SUMMIT_API_PORT (the API's own settings, so a shell that runs the farm needs nothing more); the token from
 * SUMMIT_TOKEN, else the admin token of the data folder's tokens.json (SUMMIT_DATA_DIR, default `.summit`).
 * Every command that talks to the API goes through ApiClient, so errors read the same everywhere.
 */
export interface ApiTarget {
  url: string;
  token?: string;
}

/** An answer the API gave with a status other than 2xx: its status, code and message (from the error body). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API could not be reached at all (nothing listening, DNS, TLS): names the URL and the cause. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
}

export async function resolveApiTarget(env: NodeJS.ProcessEnv = process.env, opts: { needToken?: boolean } = {}): Promise<ApiTarget> {
  const url = (env.SUMMIT_API_URL ?? `http://${env.SUMMIT_API_HOST ?? '127.0.0.1'}:${env.SUMMIT_API_PORT ?? '3000'}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new Error(`SUMMIT_API_URL must be an http(s) URL, got "${url}"`);
  let token = env.SUMMIT_TOKEN;
  if (!token && opts.needToken) {
    const file = join(env.SUMMIT_DATA_DIR ?? '.summit', TOKENS_FILE);
    try {
      token = (await readTokensFile(file)).find((t) => t.role === 'admin')?.token;
    } catch (err) {
      throw new Error(`no SUMMIT_TOKEN and the tokens file could not be read: ${(err as Error).message}`);
    }
    if (!token) throw new Error(`no SUMMIT_TOKEN and ${file} holds no admin token`);
  }
  return { url, token };
}

export class ApiClient {
  constructor(readonly target: ApiTarget) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** A raw response (for streams such as a followed log); non-2xx answers throw ApiError like the rest. */
  async fetch(method: string, path: string, body?: unknown, init: { signal?: AbortSignal; accept?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (init.accept) headers.accept = init.accept;
    const url = `${this.target.url}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: init.signal });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiUnreachableError(`cannot reach the API at ${this.target.url} (${cause?.code ?? cause?.message ?? (err as Error).message}); set SUMMIT_API_URL`);
    }
    if (!res.ok) {
      const text = await res.text();
      let code = `http_${res.status}`;
      let message = text.slice(0, 500) || res.statusText;
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (parsed.error?.message) message = parsed.error.message;
        if (parsed.error?.code) code = parsed.error.code;
      } catch {
        // not JSON: the text itself is the message
      }
      throw new ApiError(res.status, code, `${method} ${path}: ${res.status} ${message}`);
    }
    return res;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}
