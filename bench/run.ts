/**
 * `npm run bench`: runs every benchmark module in turn and prints its figures. Benchmarks measure; they never
 * assert timings (targets are printed beside the figures for the reader).
 */
const SUITES: Array<{ name: string; load: () => Promise<{ run: () => Promise<void> }>; onlyWhenNamed?: boolean }> = [
  { name: 'formats', load: () => import('./formats.bench') },
  { name: 'graph', load: () => import('./graph.bench') },
  { name: 'publish', load: () => import('./publish.bench') },
  { name: 'cycles', load: () => import('./cycles.bench') },
  { name: 'repo', load: () => import('./repo.bench') },
  // Inserts 100,000 tasks and runs the API: `npm run bench:api` only.
  { name: 'api', load: () => import('./api.bench'), onlyWhenNamed: true },
  // Fill a database / generate a 2,000-recipe git repository: `npm run bench:plan` / `npm run bench:intake` only.
  { name: 'plan', load: () => import('./plan.bench'), onlyWhenNamed: true },
  { name: 'intake', load: () => import('./intake.bench'), onlyWhenNamed: true },
];

async function main(): Promise<void> {
  // `node dist/bench/run.js graph cycles`: only the suites named; none named: all of them.
  // Options (`--tasks N`) and what follows them belong to the suites.
  const args = process.argv.slice(2);
  const cut = args.findIndex((a) => a.startsWith('--'));
  const only = cut < 0 ? args : args.slice(0, cut);
  for (const suite of SUITES) {
    if ((only.length > 0 || suite.onlyWhenNamed) && !only.includes(suite.name)) continue;
    console.log(`\n== ${suite.name} ==`);
    await (await suite.load()).run();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
