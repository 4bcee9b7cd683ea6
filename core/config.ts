import { z } from 'zod';
import { MAX_NAME_LENGTH, SAFE_NAME_CHARACTERS, SAFE_NAME_PATTERN } from './contracts/names';
import { PUBLIC_READS } from './auth/roles';
import { ArtefactOrigins } from './security/artefact-origins';
import { DEFAULT_PROFILE, isInlineProfile, parseProfile, profileSettingProblems, type FarmProfile } from './profile';

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

/** A longer duration (also days and weeks): 90m, 36h, 7d, 2w. */
export const longDuration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d|w)$/, 'a duration such as 30s, 12h, 7d or 2w')
  .transform((v) => {
    const n = Number(v.replace(/\D+$/, ''));
    const unit = v.replace(/^\d+/, '') as 'ms' | 's' | 'm' | 'h' | 'd' | 'w';
    return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[unit];
  });

/**
 * A size in bytes with an optional binary unit (K, M, G, T: powers of 1024): 512M is 512 MiB, 2G is 2 GiB. One
 * parser for every size setting; `example` is the message a bad value gets.
 */
const sizeOf = (example: string) =>
  z
    .string()
    .regex(/^\d+[KMGT]?$/i, example)
    .transform((v) => {
      const exp = 'KMGT'.indexOf(v.slice(-1).toUpperCase()) + 1;
      return Number(exp ? v.slice(0, -1) : v) * 1024 ** exp;
    });
const size = sizeOf('a size such as 256M, 20G or 1048576 (K, M, G, T are powers of 1024)');
const byteSize = sizeOf('a size in bytes such as 500M or 2G');

const port = z.coerce.number().int().min(0).max(65535);
const csv = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
/** An ISA level's or architecture's name; whether the profile lists it is checked where the profile is loaded. */
const isaLevel = z.string().max(64).regex(SAFE_NAME_PATTERN, `an ISA level of the profile (${SAFE_NAME_CHARACTERS})`);
const absolutePaths = csv.pipe(z.array(z.string().startsWith('/', 'an absolute path')));

export const configSchema = z.object({
  // Every role
  /** Where every role keeps its state: database file, mirrors, builds, the repository. */
  SUMMIT_DATA_DIR: z.string().min(1).default('.summit'),
  SUMMIT_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  SUMMIT_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  SUMMIT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** A folder for each role's log file (`<dir>/<role>.log`, api/logger.ts); unset: JSON lines on stdout. `npm start` sets `<data>/logs`. */
  SUMMIT_LOG_DIR: z.string().min(1).optional(),
  /**
   * `host:port` where this process's Temporal SDK serves its runtime metrics in Prometheus format (workers/runtime.ts):
   * every worker process (summit, vessel, avalanche; `npm start` runs them in one) needs its own port. Unset: off.
   */
  SUMMIT_TEMPORAL_METRICS_ADDRESS: z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'host:port, e.g. 0.0.0.0:9464').optional(),
  // Sources and URLs (issue 7, core/security/source-url.ts)
  /**
   * Folders whose git repositories may be registered by local path (the API) and cloned by builders; unset
   * means the data folder only (where `npm start` keeps its demo repository). Anything else must be a network URL.
   */
  SUMMIT_REPOSITORY_ROOTS: absolutePaths.optional(),
  /**
   * The origins of the builders' artefact servers (core/security/artefact-origins.ts): vessel fetches and releases
   * artefacts, and the API reads live logs, only there. Unset: any http(s) origin.
   */
  SUMMIT_ARTEFACT_ORIGINS: z
    .string()
    .transform((v, ctx) => {
      try {
        return ArtefactOrigins.parse(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    })
    .default(ArtefactOrigins.ANY),
  // Processes and state: payload encryption (core/payload-codec.ts, workers/payload-keys.ts)
  /**
   * Keys of the Temporal payload codec, `id:base64(32 bytes)` separated by commas: the first encrypts, all decrypt
   * (rotation). A secret: no default; every role's entry point refuses to start without it or the key file.
   */
  SUMMIT_PAYLOAD_KEYS: z.string().optional(),
  /** A file (mode 0600) holding the payload keys in the same form, one per line; `npm start` generates one. */
  SUMMIT_PAYLOAD_KEY_FILE: z.string().min(1).optional(),

  // API and summit
  SUMMIT_API_PORT: port.default(3000),
  SUMMIT_API_HOST: z.string().default('127.0.0.1'),
  /**
   * Where builders and vessel reach the API (issue 10: builders enrol and read their standing there, vessel reads
   * the builder registry there); default http://SUMMIT_API_HOST:SUMMIT_API_PORT.
   */
  SUMMIT_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** A builder's one-time enrolment token (`summit builders enrol-token`): spent on its first start, when it has no credential yet. */
  SUMMIT_ENROL_TOKEN: z.string().min(1).optional(),
  /** The same, read from a file (a Docker secret). */
  SUMMIT_ENROL_TOKEN_FILE: z.string().min(1).optional(),
  /** API: files each holding one enrolment token made outside the API, accepted as trusted one-time tokens (docker-compose.yml). */
  SUMMIT_ENROL_TOKEN_FILES: z.string().min(1).transform((v) => v.split(',').map((p) => p.trim()).filter(Boolean)).optional(),
  /**
   * What the API shows without a token (core/auth/roles.ts): `all` (every read), `summary` (lists and states; a
   * task's log needs a viewer token), `none` (only /health; every other read needs a viewer token).
   */
  SUMMIT_API_PUBLIC_READS: z.enum(PUBLIC_READS).default('all'),
  /** postgres://… for production; unset means the embedded database (a SQLite file in the data folder). */
  SUMMIT_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  /** How often the fallback Schedule polls every registered repository. */
  SUMMIT_POLL_INTERVAL: duration.prefault('5m'),
  /**
   * Builds the hub queues per builder beyond its free slots. 0 (default): each freed slot's next build is chosen
   * when it frees, so the highest-priority ready build always runs next; more hides the hub's round trip between
   * two builds at the cost of that exactness.
   */
  SUMMIT_DISPATCH_PREFETCH: z.coerce.number().int().min(0).max(16).default(0),
  /**
   * For repositories with `cascade` on: rebuild the reverse dependencies of a recipe with a new release only when
   * what it provides changed (`provides`, default), or on every new release (`always`).
   */
  SUMMIT_CASCADE_POLICY: z.enum(['provides', 'always']).default('provides'),
  /**
   * How long a try-build's index lives (core/contracts/try.ts): its default lifetime and the longest one a request
   * may ask for; then its index is removed.
   */
  SUMMIT_TRY_TTL: longDuration.prefault('7d'),
  /**
   * Verification builds (README, Verification builds): a builder whose builds' last N verifications all found
   * differences is drained automatically (by `verification`); 0 never suspends.
   */
  SUMMIT_VERIFY_SUSPEND_AFTER: z.coerce.number().int().min(0).max(1000).default(3),
  /**
   * The farm's profile (core/profile.ts): its architectures and their ISA levels, as a JSON or YAML file's path or the
   * document inline (starting with `{`). Unset: x86_64 with the levels x86_64 and x86_64-v3x. Every role reads it.
   */
  SUMMIT_PROFILE: z.string().min(1).optional(),
  /** ISA levels of the profile built besides each architecture's baseline (comma-separated, e.g. x86_64-v3x; checked against the profile). */
  SUMMIT_VARIANTS: csv.prefault('').pipe(z.array(isaLevel)),
  /**
   * Base URL builders fetch published packages from (`<base>/<index>/<uri>`): vessel's public URL in a farm;
   * unset means vessel's folder in the data dir (file://, for a single host).
   */
  SUMMIT_PACKAGES_URL: z.string().regex(/^(file|https?):\/\//, 'a file://, http:// or https:// URL').optional(),
  /** Web UI port of the dev server `npm start` runs. */
  SUMMIT_TEMPORAL_UI_PORT: port.default(8233),
  // Intake (recipe limits, see core/formats/recipe-limits.ts)
  /** Largest stone.yaml or manifest intake reads (bytes); a bigger file is listed invalid from its size, unread. */
  SUMMIT_RECIPE_MAX_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Deadline for parsing one recipe in the parser thread. */
  SUMMIT_RECIPE_PARSE_TIMEOUT: duration.prefault('10s'),
  /** Heap limit of the recipe parser thread (MiB). */
  SUMMIT_RECIPE_PARSE_MEMORY: z.coerce.number().int().min(32).max(4096).default(256),
  // Processes and state: the codec endpoint (api/routes/codec.ts)
  /** Origin of the Temporal UI allowed (CORS) to call POST /codec/decode and /codec/encode, e.g. http://127.0.0.1:8233. */
  SUMMIT_CODEC_UI_ORIGIN: z.string().regex(/^https?:\/\/[^/]+$/, 'an origin such as http://host:8233 (no path)').optional(),
  /** The Temporal UI's base URL the dashboard links build workflows to (api/dashboard/options.ts); default SUMMIT_CODEC_UI_ORIGIN. */
  SUMMIT_TEMPORAL_UI_URL: z.string().regex(/^https?:\/\/[^\s]+$/, 'an http(s):// URL such as http://temporal-ui:8080').optional(),

  // Vessel
  /** When set, serve the published repositories over HTTP on this port (0 picks a free one). */
  SUMMIT_VESSEL_PORT: port.optional(),
  SUMMIT_VESSEL_HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * Vessel publishing (group commit, activities/vessel/publisher.ts): at most one write of an index starts per this
   * long. 0ms (default): a build is written as soon as no write of its index runs, and builds arriving during a
   * write share the next one. A longer window only holds back builds arriving within it after a write started.
   */
  SUMMIT_PUBLISH_WINDOW: duration.prefault('0ms'),

  // Avalanche
  SUMMIT_BUILDER_ID: z.string().max(MAX_NAME_LENGTH).regex(SAFE_NAME_PATTERN, `${SAFE_NAME_CHARACTERS} only`).optional(),
  SUMMIT_BUILDER_SLOTS: z.coerce.number().int().min(1).max(64).optional(),
  SUMMIT_BUILDER_BACKLOG: z.coerce.number().int().min(0).max(16).default(0),
  /** ISA levels this builder serves (default: all its CPU can build); levels of the profile's architecture it builds for. */
  SUMMIT_BUILDER_ISA: csv.pipe(z.array(isaLevel).min(1)).optional(),
  /**
   * The architecture this builder builds for (default: the machine's, `uname -m`). Set it only where the host runs
   * that architecture's code (e.g. qemu-user through binfmt) or in tests; it must be an architecture of the profile.
   */
  SUMMIT_BUILDER_ARCH: isaLevel.optional(),
  SUMMIT_BUILDER_HEARTBEAT: duration.optional(),
  /**
   * Whether a trusted builder also polls the shared (try and verification) queues (issue 10): `always`, `auto`
   * (when it has more slots than ISA levels), `never` (default: each polled queue holds a slot while it waits, so an
   * idle shared poll would cost an official build's slot). Community builders poll only the shared queues.
   */
  SUMMIT_BUILDER_SHARED_QUEUES: z.enum(['auto', 'always', 'never']).default('never'),
  // Avalanche: admission (core/builder/health.ts): a builder past one of these takes no new build until it recovers
  /** Highest 1-minute load average per CPU at which the builder starts a new build (unset: load is not checked). */
  SUMMIT_BUILDER_MAX_LOAD: z.coerce.number().positive().max(1000).optional(),
  /** Least available memory (MemAvailable) with which the builder starts a new build. */
  SUMMIT_BUILDER_MIN_FREE_MEMORY: size.prefault('1G'),
  /** Least free disk in the builder's data folder with which it starts a new build. */
  SUMMIT_BUILDER_MIN_FREE_DISK: size.prefault('2G'),
  /** The builder's share of a host shared with other builders: CPU weight of all its builds together (1–10000). */
  SUMMIT_BUILDER_CPU_WEIGHT: z.coerce.number().int().min(1).max(10_000).optional(),
  /** The builder's share of a host shared with other builders: memory of all its builds together. */
  SUMMIT_BUILDER_MEMORY: size.optional(),
  SUMMIT_BUILD_JOBS: z.coerce.number().int().min(1).max(1024).optional(),
  /** A rootfs directory to build in instead of the host's /usr (checked to exist when avalanche starts). */
  SUMMIT_BUILD_ROOT: z.string().min(1).optional(),
  SUMMIT_AVALANCHE_PORT: port.optional(),
  SUMMIT_AVALANCHE_HOST: z.string().min(1).default('0.0.0.0'),
  SUMMIT_AVALANCHE_PUBLIC_URL: z.string().regex(/^https?:\/\/[^/]+/, 'an http(s):// URL').optional(),
  SUMMIT_ARTEFACT_TOKEN_TTL: duration.optional(),
  /** Test-only fault switch: damage every .stone after hashing it, so vessel's refusal can be shown. */
  SUMMIT_TEST_CORRUPT_ARTEFACTS: z.enum(['0', '1']).optional(),
  // Sources and URLs (issue 7, core/security/source-url.ts)
  /** Folders recipes may take upstreams from by local path or file:// (a local mirror); unset means none. */
  SUMMIT_LOCAL_SOURCES: absolutePaths.optional(),
  /** Largest upstream download, enforced while streaming. */
  SUMMIT_MAX_UPSTREAM_SIZE: byteSize.prefault('2G'),
  /** An upstream download that does not connect, or then sends nothing, for this long is abandoned. */
  SUMMIT_UPSTREAM_TIMEOUT: duration.prefault('60s'),
  // Avalanche: the build sandbox's limits, per build (core/build/limits.ts has the defaults; issue 7, sandbox)
  /** Memory of a build's processes together (tmpfs /tmp included, no swap). */
  SUMMIT_BUILD_MEMORY: size.optional(),
  /** Processes and threads of a build alive at once. */
  SUMMIT_BUILD_TASKS: z.coerce.number().int().min(16).max(4_194_304).optional(),
  /** CPU share of a build against the others of the host (1–10000, 100 = even). */
  SUMMIT_BUILD_CPU_WEIGHT: z.coerce.number().int().min(1).max(10_000).optional(),
  /** Wall-clock time of a build's steps together. */
  SUMMIT_BUILD_TIME: duration.optional(),
  /** Disk a build may write (%(workdir) and %(installroot)). */
  SUMMIT_BUILD_DISK: size.optional(),
  /** Size of a build's log. */
  SUMMIT_BUILD_LOG: size.optional(),
  /** 1 lets recipes that say `networking: true` have the network where their repository allows it too; otherwise they fail. */
  SUMMIT_BUILD_NETWORK: z.enum(['0', '1']).optional(),
  /** First host uid/gid of the build containers' user namespace (65536 ids from there; a multiple of 65536). */
  SUMMIT_BUILD_UID_BASE: z.coerce.number().int().min(65536).max(0xfffe0000 - 65536).multipleOf(65536).optional(),
});

export type Config = z.infer<typeof configSchema>;

/** Where local repository paths may lie: SUMMIT_REPOSITORY_ROOTS, or the data folder when it is unset. */
export function repositoryRoots(config: Pick<Config, 'SUMMIT_REPOSITORY_ROOTS' | 'SUMMIT_DATA_DIR'>): string[] {
  return config.SUMMIT_REPOSITORY_ROOTS ?? [config.SUMMIT_DATA_DIR];
}

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
  checkProfileSettings(result.data, env);
  return result.data;
}

/**
 * The levels and architecture named in the settings must be the profile's. Checked here when the profile needs no
 * disk (the default, or inline); a profile file is read, and the same checks made, by workers/profile.ts.
 */
function checkProfileSettings(config: Config, env: Record<string, string | undefined>): void {
  const setting = config.SUMMIT_PROFILE;
  if (setting !== undefined && !isInlineProfile(setting)) return;
  let profile: FarmProfile;
  try {
    profile = setting === undefined ? DEFAULT_PROFILE : parseProfile(setting);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  SUMMIT_PROFILE: ${err instanceof Error ? err.message : String(err)}`);
  }
  const problems = profileSettingProblems(profile, config);
  if (problems.length) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p.field}: ${p.message} (got ${JSON.stringify(env[p.field])})`).join('\n')}`);
}

/** The API's base URL as builders and vessel reach it: SUMMIT_API_URL, else http://SUMMIT_API_HOST:SUMMIT_API_PORT. */
export function apiUrlOf(c: Pick<Config, 'SUMMIT_API_URL' | 'SUMMIT_API_HOST' | 'SUMMIT_API_PORT'>): string {
  const host = c.SUMMIT_API_HOST === '0.0.0.0' ? '127.0.0.1' : c.SUMMIT_API_HOST;
  return (c.SUMMIT_API_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${c.SUMMIT_API_PORT}`).replace(/\/+$/, '');
}
