import { z } from 'zod';
import { ISA_LEVELS } from './contracts/queues';

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
const csv = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

export const configSchema = z.object({
  // Every role
  /** Where every role keeps its state: database file, mirrors, builds, the repository. */
  SUMMIT_DATA_DIR: z.string().min(1).default('.summit'),
  SUMMIT_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  SUMMIT_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  SUMMIT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

  // API and summit
  SUMMIT_API_PORT: port.default(3000),
  SUMMIT_API_HOST: z.string().default('127.0.0.1'),
  /** postgres://… for production; unset means the embedded database (a SQLite file in the data folder). */
  SUMMIT_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  /** How often the fallback Schedule polls every registered repository. */
  SUMMIT_POLL_INTERVAL: duration.prefault('5m'),
  /** ISA variants the default profile builds besides the x86_64 baseline (comma-separated, e.g. x86_64-v3x). */
  SUMMIT_VARIANTS: csv.prefault('').pipe(z.array(z.enum(['x86_64-v3x']))),
  /**
   * Base URL builders fetch published packages from (`<base>/<index>/<uri>`): vessel's public URL in a farm;
   * unset means vessel's folder in the data dir (file://, for a single host).
   */
  SUMMIT_PACKAGES_URL: z.string().regex(/^(file|https?):\/\//, 'a file://, http:// or https:// URL').optional(),
  /** Web UI port of the dev server `npm start` runs. */
  SUMMIT_TEMPORAL_UI_PORT: port.default(8233),

  // Vessel
  /** When set, serve the published repositories over HTTP on this port (0 picks a free one). */
  SUMMIT_VESSEL_PORT: port.optional(),
  SUMMIT_VESSEL_HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * Vessel publishing (coalesced windows): imports finished within this long of each other are published as one
   * history version with one move of volatile (activities/vessel/publisher.ts). 0ms publishes each as soon as it
   * is ready (still coalescing those ready at the same instant).
   */
  SUMMIT_PUBLISH_WINDOW: duration.prefault('2s'),

  // Avalanche
  SUMMIT_BUILDER_ID: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'letters, digits and . _ + - only').optional(),
  SUMMIT_BUILDER_SLOTS: z.coerce.number().int().min(1).max(64).optional(),
  /** ISA levels this builder serves (default: all its CPU can build). */
  SUMMIT_BUILDER_ISA: csv.pipe(z.array(z.enum(ISA_LEVELS)).min(1)).optional(),
  SUMMIT_BUILDER_HEARTBEAT: duration.optional(),
  SUMMIT_BUILD_JOBS: z.coerce.number().int().min(1).max(1024).optional(),
  /** A rootfs directory to build in instead of the host's /usr (checked to exist when avalanche starts). */
  SUMMIT_BUILD_ROOT: z.string().min(1).optional(),
  SUMMIT_AVALANCHE_PORT: port.optional(),
  SUMMIT_AVALANCHE_HOST: z.string().min(1).default('0.0.0.0'),
  SUMMIT_AVALANCHE_PUBLIC_URL: z.string().regex(/^https?:\/\/[^/]+/, 'an http(s):// URL').optional(),
  SUMMIT_ARTEFACT_TOKEN_TTL: duration.optional(),
  /** Test-only fault switch: damage every .stone after hashing it, so vessel's refusal can be shown. */
  SUMMIT_TEST_CORRUPT_ARTEFACTS: z.enum(['0', '1']).optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parse the environment; every problem is named with its variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Compose files pass unset variables as empty strings: those mean "default", not "".
  const result = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
