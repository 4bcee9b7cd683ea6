import { z } from 'zod';

/**
 * All settings come from environment variables, validated here by one schema, parsed once at start-up by each
 * entry point. Secrets have no defaults: the admin token is generated into the data folder on first start.
 */
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'a duration such as 30s, 5m or 1h')
  .transform((v) => {
    const n = Number(v.replace(/\D+$/, ''));
    const unit = v.replace(/^\d+/, '');
    return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  });

const port = z.coerce.number().int().min(0).max(65535);

export const configSchema = z.object({
  /** Where every role keeps its state: database file, mirrors, builds, the repository. */
  SUMMIT_DATA_DIR: z.string().min(1).default('.summit'),
  SUMMIT_API_PORT: port.default(3000),
  SUMMIT_API_HOST: z.string().default('127.0.0.1'),
  SUMMIT_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  SUMMIT_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** postgres://… for production; unset means the embedded database (a SQLite file in the data folder). */
  SUMMIT_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  /** How often the fallback Schedule polls every registered repository. */
  SUMMIT_POLL_INTERVAL: duration.prefault('5m'),
  /** ISA variants the default profile builds besides the x86_64 baseline (comma-separated, e.g. x86_64-v3x). */
  SUMMIT_VARIANTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['x86_64-v3x']))),
  /**
   * Base URL builders fetch published packages from (`<base>/<index>/<uri>`): vessel's public URL in a farm;
   * unset means vessel's folder in the data dir (file://, for a single host).
   */
  SUMMIT_PACKAGES_URL: z.string().regex(/^(file|https?):\/\//, 'a file://, http:// or https:// URL').optional(),
  SUMMIT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parse the environment; every problem is named with its variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
