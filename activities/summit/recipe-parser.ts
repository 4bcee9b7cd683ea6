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

/**
 * Requests posted ahead to the thread: it works through them in order while this side is busy elsewhere, so
 * a loaded machine does not pay a thread wake-up per recipe (835 real recipes: 9 s one at a time, see README).
 */
const WINDOW = 16;

interface Job {
  req: ParseRequest;
  resolve: (outcome: ParseOutcome) => void;
}

export class RecipeParser {
  private worker: Worker | undefined;
  private nextId = 1;
  /** Not yet posted. */
  private readonly waiting: Job[] = [];
  /** Posted, in the order the thread answers them (it handles one at a time): the first is being parsed. */
  private inFlight: Job[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly limits: RecipeParserLimits) {}

  /** Parse one recipe (and its manifest); every problem with the file is an outcome, never a rejection. */
  parse(file: string, recipe: Uint8Array, manifest?: { file: string; bytes: Uint8Array }): Promise<ParseOutcome> {
    return new Promise<ParseOutcome>((resolve) => {
      this.waiting.push({ req: { id: this.nextId++, file, recipe, manifest }, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.stopTimer();
    const worker = this.worker;
    this.worker = undefined;
    for (const job of [...this.inFlight, ...this.waiting]) job.resolve({ ok: false, errors: [`${job.req.file}: intake stopped before it was parsed`] });
    this.inFlight = [];
    this.waiting.length = 0;
    if (worker) await worker.terminate();
  }

  private pump(): void {
    while (this.inFlight.length < WINDOW && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.inFlight.push(job);
      // A view is cloned with its whole backing buffer (for a slice of one git read: every file of the read),
      // so each file is first copied into a buffer of its own, and that copy is transferred, not cloned again.
      const recipe = new Uint8Array(job.req.recipe);
      const manifest = job.req.manifest && { file: job.req.manifest.file, bytes: new Uint8Array(job.req.manifest.bytes) };
      this.thread().postMessage({ ...job.req, recipe, manifest }, manifest ? [recipe.buffer, manifest.bytes.buffer] : [recipe.buffer]);
    }
    if (this.inFlight.length > 0 && !this.timer) this.startTimer();
  }

  /** The deadline runs for the request at the head: from its post, or from the answer before it. */
  private startTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fail(`parsing took longer than ${this.limits.timeoutMs} ms: refused`);
    }, this.limits.timeoutMs);
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private answered(reply: ParseReply): void {
    const head = this.inFlight[0];
    if (!head || head.req.id !== reply.id) return; // an answer from a thread already replaced
    this.inFlight.shift();
    this.stopTimer();
    head.resolve(reply.ok ? { ok: true, recipe: reply.recipe, manifestPackages: reply.manifestPackages } : { ok: false, errors: reply.errors });
    this.pump();
  }

  /**
   * The head request cost the thread its life (deadline, heap, crash): it is refused with the reason, the
   * thread replaced, and the requests queued behind it, innocent, go to the new thread.
   */
  private fail(reason: string): void {
    this.stopTimer();
    const head = this.inFlight.shift();
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
    this.waiting.unshift(...this.inFlight);
    this.inFlight = [];
    head?.resolve({ ok: false, errors: [`${head.req.file}: ${reason}`] });
    this.pump();
  }

  private thread(): Worker {
    if (!this.worker) {
      const worker = new Worker(workerScript(), {
        resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb, stackSizeMb: 4 },
      });
      // Events of a thread already replaced are ignored: its requests were re-posted or answered.
      worker.on('message', (reply: ParseReply) => {
        if (this.worker === worker) this.answered(reply);
      });
      worker.on('error', (err: Error & { code?: string }) => {
        if (this.worker !== worker) return;
        this.fail(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `parsing needed more than the ${this.limits.memoryMb} MiB memory limit: refused` : `parsing failed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.fail(`the parsing thread stopped (exit ${code})`);
      });
      // An idle thread must not keep the process alive after the activity worker stopped.
      worker.unref();
      this.worker = worker;
    }
    return this.worker;
  }
}
