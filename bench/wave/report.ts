import type { WaveFigures } from './figures';
import type { Summary } from './statistics';

/** The wave's figures as text, one per line. */
export function printFigures(f: WaveFigures, out: (line: string) => void): void {
  const s = (ms: number | undefined) => (ms === undefined ? '–' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
  const pcts = (x: Summary) => `p50 ${s(x.p50)}, p95 ${s(x.p95)}, p99 ${s(x.p99)}, max ${s(x.max)} (n ${x.n})`;
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  out(`wave: ${f.packages} packages, ${f.slots} slot(s), ${f.existingTasks} finished tasks already in the database`);
  if (f.cpus) out(`CPUs: the builder on ${f.cpus.builder.join(',')}, the rest of the farm on ${f.cpus.farm.join(',')}`);
  out(`outcome: ${Object.entries(f.outcome).map(([k, v]) => `${k} ${v}`).join(', ')}; builds retried ${f.retriedBuilds}`);
  out(`push → all published      ${s(f.wallMs)}   (${f.packagesPerSecond.toFixed(2)} packages/s)`);
  out(`push → first task          ${s(f.pushToFirstTaskMs)};  push → first build started ${s(f.pushToFirstBuildMs)}`);
  out(`ready → build started      ${pcts(f.readyToBuildStartedMs)}`);
  out(`  … while a slot was free ${pcts(f.readyToBuildStartedWithFreeSlotMs)}`);
  out(`  … once a slot was free for it ${pcts(f.readyToBuildStartedOnceSlotFreeMs)}`);
  out(`  ready → dispatched       ${pcts(f.readyToDispatchedMs)}`);
  out(`  dispatched → started     ${pcts(f.dispatchedToBuildStartedMs)}`);
  out(`slot utilisation           ${pct(f.slotUtilisation)} in containers${f.scriptUtilisation !== undefined ? `, ${pct(f.scriptUtilisation)} in the steps' scripts` : ''}`);
  out(`slots held by builds      ${pct(f.slotHeldUtilisation)} (build activity started → closed)`);
  out(`slot idle between builds   ${pcts(f.slotIdleBetweenBuildsMs)}`);
  out(`slots as the hub books them ${pct(f.hubBookedUtilisation)} (dispatched → built)`);
  out(`orchestration overhead     ${s(f.overheadPerPackageMs)} per package`);
  if (f.cpuMsPerPackage) out(`CPU per package            ${Object.entries(f.cpuMsPerPackage).map(([k, v]) => `${k} ${Math.round(v)} ms`).join(', ')}`);
  if (f.load) out(`host load (1 min)          ${f.load.atPush.toFixed(2)} at the push, ${f.load.atEnd.toFixed(2)} at the end`);
  out('stages (p50, p95; sum over the wave):');
  for (const [name, x] of Object.entries(f.stages)) out(`  ${name.padEnd(50)} ${s(x.p50).padStart(8)} ${s(x.p95).padStart(8)}   Σ ${s(x.total)}`);
  out(f.publishedExactlyOnce ? 'every package published exactly once' : `NOT published exactly once:\n  ${f.publishProblems.join('\n  ')}`);
}
