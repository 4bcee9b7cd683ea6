import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Recipe } from '../../core/formats/recipe';

/**
 * Recipes are parsed off the event loop that serves workflows, activities and the API: in a worker thread with
 * its own heap limit, one file at a time, each under a deadline. A file that exhausts the heap or the deadline
 * costs only that thread: it is terminated, the file is reported invalid with the reason, and the next file
 * gets a fresh thread.
 */
export interface ParseRequest {
  id: number;
  file: string;
  recipe: Uint8Array;
  manifest?: { file: string; bytes: Uint8Array };
}

export type ManifestPackages = Array<{ name: string; provides: string[]; depends: string[]; buildDepends: string[] }>;

export type ParseReply =
  | { id: number; ok: true; recipe: Recipe; manifestPackages?: ManifestPackages }
  | { id: number; ok: false; errors: string[] };

export type ParseOutcome = { ok: true; recipe: Recipe; manifestPackages?: ManifestPackages } | { ok: false; errors: string[] };

export interface RecipeParserLimits {
  /** Deadline for one recipe with its manifest (ms). Real recipes take milliseconds. */
  timeoutMs: number;
  /** Heap of the parsing thread (MiB): a hostile file hits it instead of the farm's own memory. */
  memoryMb: number;
}

/**
 * The compiled thread body. Under ts-jest this module runs from source while worker threads need JavaScript,
 * so the copy `npm run build` put in dist/ is used (npm test builds dist/ first).
 */
function workerScript(): string {
  const beside = join(__dirname, 'recipe-parse-worker.js');
  if (existsSync(beside)) return beside;
  const compiled = resolve(__dirname, '..', '..', 'dist', 'activities', 'summit', 'recipe-parse-worker.js');
  if (!existsSync(compiled)) throw new Error(`the recipe parser thread ${compiled} is missing: run npm run build`);
  return compiled;
}

export class RecipeParser {
  private worker: Worker | undefined;
  private nextId = 1;

  constructor(private readonly limits: RecipeParserLimits) {}

  /** Parse one recipe (and its manifest); every problem with the file is an outcome, never a rejection. */
  async parse(file: string, recipe: Uint8Array, manifest?: { file: string; bytes: Uint8Array }): Promise<ParseOutcome> {
    const worker = this.thread();
    const id = this.nextId++;
    return new Promise<ParseOutcome>((resolvePromise) => {
      const settle = (outcome: ParseOutcome, dropThread: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (dropThread) this.drop(worker);
        resolvePromise(outcome);
      };
      const onMessage = (reply: ParseReply) => {
        if (reply.id !== id) return;
        settle(reply.ok ? { ok: true, recipe: reply.recipe, manifestPackages: reply.manifestPackages } : { ok: false, errors: reply.errors }, false);
      };
      const onError = (err: Error & { code?: string }) => {
        const reason = err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `parsing needed more than the ${this.limits.memoryMb} MiB memory limit: refused`
          : `parsing failed: ${err.message}`;
        settle({ ok: false, errors: [`${file}: ${reason}`] }, true);
      };
      const onExit = (code: number) => settle({ ok: false, errors: [`${file}: the parsing thread stopped (exit ${code})`] }, true);
      const timer = setTimeout(
        () => settle({ ok: false, errors: [`${file}: parsing took longer than ${this.limits.timeoutMs} ms: refused`] }, true),
        this.limits.timeoutMs,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      // Copies, not transfers: the caller may still hold the buffers (they can be slices of one git read).
      worker.postMessage({ id, file, recipe, manifest } satisfies ParseRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    if (!this.worker) {
      const worker = new Worker(workerScript(), {
        resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      });
      // Errors during a parse are taken by its own listener; one arriving after a parse was settled (a thread
      // already being terminated for its deadline) must not become an uncaught exception of the farm.
      worker.on('error', () => undefined);
      // An idle thread must not keep the process alive after the activity worker stopped.
      worker.unref();
      this.worker = worker;
    }
    return this.worker;
  }

  private drop(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    void worker.terminate();
  }
}
