import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';

/**
 * The one structured logger of every role (api, summit, vessel, avalanche): pino, one JSON object per line with
 * `time`, `level` (a name), `role`, `msg` and the fields given, which carry ids (requestId, taskId, buildId,
 * builderId, workflowId). The Temporal SDK's own logs (workflow and activity loggers, the worker, the native
 * core) are routed into the same loggers (workers/runtime.ts).
 *
 * Where it goes: stdout when no folder is given (a container's log), else `<folder>/<role>.log` (`npm start`
 * puts them in `<data>/logs` so its terminal shows only the progress lines). Level from SUMMIT_LOG_LEVEL.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface RoleLogOptions {
  role: string;
  level: LogLevel;
  /** A folder for `<role>.log`; stdout when absent. */
  dir?: string;
  /** Tests: where the lines go instead. */
  stream?: pino.DestinationStream;
}

/** A role's pino instance: for the SDK adapter and for anything that wants pino itself. */
export function rolePino(opts: RoleLogOptions): pino.Logger {
  let destination = opts.stream;
  if (!destination && opts.dir) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    // Not sync: a build's burst of logs never waits for the disk; flushed on exit by pino's own handler.
    destination = pino.destination({ dest: join(opts.dir, `${opts.role}.log`), mkdir: true, sync: false });
  }
  return pino({
    level: opts.level,
    base: { role: opts.role, pid: process.pid },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, destination ?? pino.destination({ dest: 1, sync: false }));
}

/** Our Logger interface over a pino instance (message first, fields second, as the rest of the code calls it). */
export function loggerOf(p: pino.Logger): Logger {
  return {
    debug: (message, fields) => p.debug(fields ?? {}, message),
    info: (message, fields) => p.info(fields ?? {}, message),
    warn: (message, fields) => p.warn(fields ?? {}, message),
    error: (message, fields) => p.error(fields ?? {}, message),
  };
}

export function roleLogger(opts: RoleLogOptions): Logger {
  return loggerOf(rolePino(opts));
}

/** The API's logger on stdout (kept for callers that name it so). */
export function jsonLogger(level: LogLevel = 'info', component = 'api', dir?: string): Logger {
  return roleLogger({ role: component, level, dir });
}

/** For tests and embedders that log elsewhere. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
