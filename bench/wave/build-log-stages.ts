/**
 * Stage times of one build from its log (pure). The builder writes `==> summit: <text> [<ISO time>]` markers
 * (activities/avalanche/build.ts): the build's first line, `dependency …`, `dependencies ready`, `recipe read`,
 * `upstream …`, `step <s>`, `step <s> done in …`, `packaging`, `build succeeded in …`. The benchmark's recipes add `wavebench: steps began|ended <epoch>`
 * from inside the container, which splits a step's wall time into container start, the script, and container stop.
 */
export interface LogStages {
  /** The build's first marker: when it started on the builder. */
  startedAt: number;
  /** First marker → `recipe read` (clone + checkout + recipe parse); in older logs → the first dependency, upstream or step marker. */
  checkoutMs: number;
  /** First dependency marker → `dependencies ready` (older logs: → first step marker): fetch, verify, extract; 0 without any. */
  dependenciesMs: number;
  /** Σ over steps of `step s` → the script's first line (nspawn setting the container up). */
  containerStartMs?: number;
  /** Σ over steps of the script's first → last line. */
  scriptMs?: number;
  /** Σ over steps of the script's last line → `step s done` (container tear-down). */
  containerStopMs?: number;
  /** Σ over steps of `step s` → `step s done`: all the time inside containers. */
  stepsMs: number;
  /** `packaging` → `build succeeded` (scan the install root, analyse, write the .stone files). */
  packingMs: number;
  /** `build succeeded` marker time. */
  succeededAt: number;
}

const MARKER = /^==> summit: (.*) \[(\d{4}-\d\d-\d\dT[\d:.]+Z)\]$/;
const IN_CONTAINER = /^wavebench: steps (began|ended) (\d+(?:\.\d+)?)$/;

/** The stages of a successful build's log, or undefined when the log lacks its first or last marker. */
export function logStages(text: string): LogStages | undefined {
  const markers: Array<{ text: string; at: number }> = [];
  const inside: Array<{ what: 'began' | 'ended'; at: number; after: number }> = [];
  for (const line of text.split('\n')) {
    const m = MARKER.exec(line);
    if (m) {
      markers.push({ text: m[1], at: Date.parse(m[2]) });
      continue;
    }
    const c = IN_CONTAINER.exec(line.trim());
    if (c) inside.push({ what: c[1] as 'began' | 'ended', at: Math.round(Number(c[2]) * 1000), after: markers.length - 1 });
  }
  const first = markers[0];
  const succeeded = markers.find((m) => m.text.startsWith('build succeeded'));
  if (!first || !first.text.startsWith('build ') || !succeeded) return undefined;

  const at = (pred: (t: string) => boolean) => markers.find((m) => pred(m.text))?.at;
  const firstStep = at((t) => /^step \S+$/.test(t));
  const firstDep = at((t) => t.startsWith('dependency '));
  // Builders since issue 11 fetch dependencies while the checkout runs and mark where each ends (`recipe read`,
  // `dependencies ready`); older logs are read by the order of their markers.
  const recipeRead = at((t) => t === 'recipe read');
  const depsReady = at((t) => t === 'dependencies ready');
  const firstAfterCheckout = [firstDep, at((t) => t.startsWith('upstream ') || t.startsWith('git upstream ')), firstStep].filter((v): v is number => v !== undefined);
  const checkoutEnd = recipeRead ?? (firstAfterCheckout.length ? Math.min(...firstAfterCheckout) : succeeded.at);

  let stepsMs = 0;
  let containerStartMs = 0;
  let scriptMs = 0;
  let containerStopMs = 0;
  let split = true;
  markers.forEach((m, i) => {
    const step = /^step (\S+)$/.exec(m.text);
    if (!step) return;
    const done = markers.slice(i + 1).find((d) => d.text.startsWith(`step ${step[1]} done`));
    if (!done) return;
    stepsMs += done.at - m.at;
    const began = inside.find((x) => x.after === i && x.what === 'began');
    const ended = inside.find((x) => x.after === i && x.what === 'ended');
    if (!began || !ended) {
      split = false;
      return;
    }
    containerStartMs += began.at - m.at;
    scriptMs += ended.at - began.at;
    containerStopMs += done.at - ended.at;
  });
  const packaging = at((t) => t === 'packaging');
  return {
    startedAt: first.at,
    checkoutMs: checkoutEnd - first.at,
    dependenciesMs: firstDep === undefined ? 0 : depsReady !== undefined ? depsReady - firstDep : firstStep !== undefined ? firstStep - firstDep : 0,
    ...(split ? { containerStartMs, scriptMs, containerStopMs } : {}),
    stepsMs,
    packingMs: packaging !== undefined ? succeeded.at - packaging : 0,
    succeededAt: succeeded.at,
  };
}
