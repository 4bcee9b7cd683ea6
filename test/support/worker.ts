/**
 * Worker-side settings shared by test files that run a Temporal Worker in the jest process.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

/**
 * Installs the SDK runtime with a logger that prints only warnings and errors (SUMMIT_TEST_WORKER_LOG_LEVEL
 * overrides), so that a passing run is not buried under worker state changes and webpack's bundle report.
 * Call it in beforeAll before creating the first Worker or NativeConnection; the runtime is per process, so a
 * second call in the same jest worker process keeps the first one's settings.
 */
export function installQuietWorkerRuntime(): void {
  const level = (process.env.SUMMIT_TEST_WORKER_LOG_LEVEL ?? 'WARN') as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed or instantiated in this process: its logger stays.
  }
}
