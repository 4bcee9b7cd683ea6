/**
 * Build signals a workflow has heard, by task, build workflow run and status (patch `notify-from-records`): a
 * record activity retried may send its signal twice, and the hub and the wave ignore the repeat. Deterministic (no
 * I/O, insertion order), so it lives in workflow code. `kept` bounds it: the oldest is forgotten first.
 */
export class HeardSignals {
  private readonly heard = new Set<string>();

  constructor(private readonly kept = Number.POSITIVE_INFINITY) {}

  /** Records the signal; false when it was heard already (a repeat to ignore). */
  first(taskId: string, run: string, status: string): boolean {
    const key = HeardSignals.key(taskId, run, status);
    if (this.heard.has(key)) return false;
    this.heard.add(key);
    if (this.heard.size > this.kept) this.heard.delete(this.heard.values().next().value!);
    return true;
  }

  /** Whether one of these statuses of the run was heard. */
  any(taskId: string, run: string, statuses: readonly string[]): boolean {
    return statuses.some((s) => this.heard.has(HeardSignals.key(taskId, run, s)));
  }

  private static key(taskId: string, run: string, status: string): string {
    return `${taskId}\n${run}\n${status}`;
  }
}
