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

export interface RecipeParserOptions {
  /**
   * Stop the thread once it has had nothing to parse for this long (ms); the next file starts a new one. Unset:
   * the thread lives until close(). A thread costs ~200 ms of CPU to start (it loads the YAML parser and the
   * schemas) and parses its first few hundred files several times slower than a warm one (the JIT).
   */
  idleMs?: number;
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
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly limits: RecipeParserLimits, private readonly options: RecipeParserOptions = {}) {}

  /** The running thread's id (undefined while none runs): a new id means a new thread. */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  /** Requests not yet answered (posted or waiting). */
  get pending(): number {
    return this.inFlight.length + this.waiting.length;
  }

  /** Start the thread now, before the first file (it loads its modules while the caller does other work). */
  warm(): void {
    this.thread();
    this.idleAfterwards();
  }

  /** Parse one recipe (and its manifest); every problem with the file is an outcome, never a rejection. */
  parse(file: string, recipe: Uint8Array, manifest?: { file: string; bytes: Uint8Array }): Promise<ParseOutcome> {
    return new Promise<ParseOutcome>((resolve) => {
      this.waiting.push({ req: { id: this.nextId++, file, recipe, manifest }, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.stopTimer();
    this.stopIdleTimer();
    const worker = this.worker;
    this.worker = undefined;
    for (const job of [...this.inFlight, ...this.waiting]) job.resolve({ ok: false, errors: [`${job.req.file}: intake stopped before it was parsed`] });
    this.inFlight = [];
    this.waiting.length = 0;
    if (worker) await worker.terminate();
  }

  private pump(): void {
    this.stopIdleTimer();
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
    this.idleAfterwards();
  }

  /** With nothing left to parse, the thread is stopped after options.idleMs (if set). */
  private idleAfterwards(): void {
    if (this.options.idleMs === undefined || this.pending > 0 || !this.worker || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.pending > 0 || !this.worker) return;
      const worker = this.worker;
      this.worker = undefined;
      void worker.terminate();
    }, this.options.idleMs);
    // An idle thread's timer must not keep the process alive either.
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
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

/** How long a shared parser thread stays after its last file (ms): a push or poll a few minutes later finds it warm. */
export const SHARED_PARSER_IDLE_MS = 10 * 60_000;

/** Shared parsers, by their limits: kept between intakes instead of started and stopped by each. */
const shared = new Map<string, RecipeParser[]>();

/**
 * The first `count` parsers of the process for these limits, started on first use and kept between intakes (each
 * thread stops after SHARED_PARSER_IDLE_MS with nothing to parse, and starts again on the next file). Intakes of
 * several repositories at once share them: each parser answers its requests in order, and a file that costs a
 * thread its life is refused alone (the requests queued behind it, of any intake, go to the new thread).
 */
export function sharedParsers(limits: RecipeParserLimits, count: number): RecipeParser[] {
  const key = `${limits.timeoutMs}/${limits.memoryMb}`;
  let parsers = shared.get(key);
  if (!parsers) shared.set(key, (parsers = []));
  while (parsers.length < count) parsers.push(new RecipeParser(limits, { idleMs: SHARED_PARSER_IDLE_MS }));
  return parsers.slice(0, count);
}
