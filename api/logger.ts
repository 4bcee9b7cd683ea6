/**
 * The API's structured logger: one JSON object per line, always carrying the request id when there is one, so
 * a line in the log can be matched to the `requestId` a client saw in an error body.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** JSON lines on stdout (warn and error on stderr), dropping anything below `level`. */
export function jsonLogger(level: LogLevel = 'info', component = 'api'): Logger {
  const write = (at: LogLevel) => (message: string, fields: LogFields = {}) => {
    if (ORDER[at] < ORDER[level]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level: at, component, message, ...fields });
    (ORDER[at] >= ORDER.warn ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** For tests and embedders that log elsewhere. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
