/**
 * `npm run bench`: runs every benchmark module in turn and prints its figures. Benchmarks measure; they never
 * assert timings (targets are printed beside the figures for the reader).
 */
const SUITES: Array<{ name: string; load: () => Promise<{ run: () => Promise<void> }> }> = [
  { name: 'formats', load: () => import('./formats.bench') },
  { name: 'graph', load: () => import('./graph.bench') },
  { name: 'publish', load: () => import('./publish.bench') },
  { name: 'cycles', load: () => import('./cycles.bench') },
];

async function main(): Promise<void> {
  // `node dist/bench/run.js graph cycles`: only the suites named; none named: all of them.
  const only = process.argv.slice(2);
  for (const suite of SUITES) {
    if (only.length > 0 && !only.includes(suite.name)) continue;
    console.log(`\n== ${suite.name} ==`);
    await (await suite.load()).run();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
