import { ApiClient, resolveApiTarget } from './api-client';
import { parseCommandArgs, printJson } from './args';
import { Command, UsageError } from './io';

/**
 * `summit tokens create|list|revoke`: API tokens through the API (admin), so no restart and no file editing.
 * The admin token comes from SUMMIT_TOKEN or the data folder's tokens.json (cli/api-client.ts).
 */
interface TokenRecord {
  id: string;
  name: string;
  role: string;
  repositories: string[] | null;
  origin: string;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30d`, `12h`, `2w`, `90m` from now, or an ISO 8601 date-time with a zone. */
export function expiryFrom(text: string, now: Date = new Date()): string {
  const relative = /^(\d+)([mhdw])$/.exec(text);
  if (relative) return new Date(now.getTime() + Number(relative[1]) * UNITS[relative[2]]).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(text) || Number.isNaN(Date.parse(text))) {
    throw new UsageError(`--expires takes a duration (30d, 12h, 2w, 90m) or an ISO date-time with a zone (2027-01-31T00:00:00Z), got "${text}"`);
  }
  return new Date(text).toISOString();
}

function state(t: TokenRecord, now: Date): string {
  if (t.revokedAt) return `revoked ${t.revokedAt}`;
  if (t.expiresAt && Date.parse(t.expiresAt) <= now.getTime()) return `expired ${t.expiresAt}`;
  return t.expiresAt ? `active until ${t.expiresAt}` : 'active';
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

async function client(): Promise<ApiClient> {
  return new ApiClient(await resolveApiTarget(process.env, { needToken: true }));
}

export const create: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(
    args,
    { role: { type: 'string' }, repositories: { type: 'string' }, expires: { type: 'string' }, json: { type: 'boolean' } },
    { min: 1, max: 1, names: '<name>' },
  );
  if (!values.role) throw new UsageError('--role viewer|contributor|builder|admin is required');
  const body = {
    name: positionals[0],
    role: values.role,
    ...(values.repositories ? { repositories: values.repositories.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(values.expires ? { expiresAt: expiryFrom(values.expires) } : {}),
  };
  const made = await (await client()).post<TokenRecord & { token: string }>('/api/tokens', body);
  if (values.json) {
    printJson(io.out, made);
    return 0;
  }
  io.out(`created ${made.id} "${made.name}" (${made.role}${made.repositories ? ` of ${made.repositories.join(', ')}` : ''}${made.expiresAt ? `, expires ${made.expiresAt}` : ''})`);
  io.out(`token (shown only this once): ${made.token}`);
  return 0;
};

export const list: Command = async (args, io) => {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: 'no arguments' });
  const { items } = await (await client()).get<{ items: TokenRecord[] }>('/api/tokens');
  if (values.json) {
    printJson(io.out, items);
    return 0;
  }
  const now = new Date();
  io.out(table([
    ['ID', 'NAME', 'ROLE', 'REPOSITORIES', 'CREATED', 'STATE'],
    ...items.map((t) => [t.id, t.name, t.role, t.repositories?.join(',') ?? (t.role === 'contributor' ? 'all' : '-'), `${t.createdAt} by ${t.createdBy ?? '?'}`, state(t, now)]),
  ]));
  return 0;
};

export const revoke: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: '<token id>' });
  const revoked = await (await client()).post<TokenRecord>(`/api/tokens/${encodeURIComponent(positionals[0])}/revoke`);
  if (values.json) printJson(io.out, revoked);
  else io.out(`revoked ${revoked.id} "${revoked.name}" at ${revoked.revokedAt ?? '?'}`);
  return 0;
};
