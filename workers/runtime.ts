import { Runtime, type Logger as SdkLogger, type LogLevel as SdkLogLevel, type LogMetadata } from '@temporalio/worker';
import type pino from 'pino';
import { loggerOf, rolePino, type LogLevel, type Logger } from '../api/logger';
import { configSchema } from '../core/config';
import { VESSEL_QUEUE, SUMMIT_QUEUE } from '../core/contracts/queues';

/**
 * The Temporal SDK's runtime of a worker process, installed once before any worker or native connection:
 * - its logger (the workflow and activity context loggers, the worker's own lines and, forwarded, the native
 *   core's) goes into the role loggers of api/logger.ts: a line about a task queue goes to the role that serves
 *   that queue (`npm start` runs summit, vessel and avalanche in one process), anything else to `fallbackRole`;
 * - its own metrics (workflow and activity task latencies, slots, polls, sticky cache...) are served in
 *   Prometheus format at SUMMIT_TEMPORAL_METRICS_ADDRESS when set, prefixed `temporal_`, with a `role` label.
 */
export interface RuntimeSetup {
  level: LogLevel;
  /** SUMMIT_LOG_DIR: one file per role there; stdout when absent. */
  dir?: string;
  /** The role of lines about no known task queue (the process's main role). */
  fallbackRole: string;
  /** `host:port` of the SDK's Prometheus exporter (SUMMIT_TEMPORAL_METRICS_ADDRESS); none when absent. */
  metricsAddress?: string;
}

/** The role that serves a task queue. */
export function roleOfQueue(queue: unknown): string | undefined {
  if (typeof queue !== 'string') return undefined;
  if (queue === SUMMIT_QUEUE) return 'summit';
  if (queue === VESSEL_QUEUE) return 'vessel';
  // avalanche-<isa> and avalanche-builder-<id> (core/contracts/queues.ts)
  if (queue.startsWith('avalanche-')) return 'avalanche';
  return undefined;
}

/** Meta never written: the activity's task token completes the activity for whoever holds it. */
const DROPPED = new Set(['taskToken']);

const LEVELS: Record<SdkLogLevel, pino.Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** The SDK's Logger over the role loggers. */
export class RoleRoutedLogger implements SdkLogger {
  private readonly roles = new Map<string, pino.Logger>();

  constructor(private readonly setup: Pick<RuntimeSetup, 'level' | 'dir' | 'fallbackRole'>, private readonly make = rolePino) {}

  /** The pino instance of a role (made on first use, so a process writes only the files of its roles). */
  role(role: string): pino.Logger {
    let p = this.roles.get(role);
    if (!p) this.roles.set(role, (p = this.make({ role, level: this.setup.level, dir: this.setup.dir })));
    return p;
  }

  log(level: SdkLogLevel, message: string, meta: LogMetadata = {}): void {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(meta)) {
      if (DROPPED.has(k)) continue;
      fields[k] = v instanceof Error ? { type: v.name, message: v.message, stack: v.stack } : v;
    }
    const role = roleOfQueue(meta.taskQueue) ?? this.setup.fallbackRole;
    this.role(role)[LEVELS[level]](fields, message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** Installs the runtime (once per process; call it before any Worker or NativeConnection). */
export function installRuntime(setup: RuntimeSetup): RoleRoutedLogger {
  const logger = new RoleRoutedLogger(setup);
  const core: SdkLogLevel = setup.level === 'debug' ? 'DEBUG' : setup.level === 'info' ? 'INFO' : setup.level === 'warn' ? 'WARN' : 'ERROR';
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { filter: { core, other: 'WARN' }, forward: {} },
      ...(setup.metricsAddress ? {
        metrics: {
          prometheus: { bindAddress: setup.metricsAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
          globalTags: { role: setup.fallbackRole },
        },
      } : {}),
    },
  });
  return logger;
}

/** The logging and SDK metrics settings of a role's process, from the environment (core/config.ts). */
export function runtimeSetupFrom(env: NodeJS.ProcessEnv, role: string): RuntimeSetup {
  const c = configSchema.pick({ SUMMIT_LOG_LEVEL: true, SUMMIT_LOG_DIR: true, SUMMIT_TEMPORAL_METRICS_ADDRESS: true }).parse(env);
  return { level: c.SUMMIT_LOG_LEVEL, dir: c.SUMMIT_LOG_DIR, fallbackRole: role, metricsAddress: c.SUMMIT_TEMPORAL_METRICS_ADDRESS };
}

/** A role's entry point: the runtime installed, and the role's own logger (the same file as its SDK lines). */
export function startRoleLogging(env: NodeJS.ProcessEnv, role: string): Logger {
  return loggerOf(installRuntime(runtimeSetupFrom(env, role)).role(role));
}
