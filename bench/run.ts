/**
 * `npm run bench`: runs every benchmark module in turn and prints its figures. Benchmarks measure; they never
 * assert timings (targets are printed beside the figures for the reader).
 */
const SUITES: Array<{ name: string; load: () => Promise<{ run: () => Promise<void> }> }> = [
  { name: 'formats', load: () => import('./formats.bench') },
  { name: 'graph', load: () => import('./graph.bench') },
  { name: 'publish', load: () => import('./publish.bench') },
];

async function main(): Promise<void> {
  const only = process.argv[2];
  for (const suite of SUITES) {
    if (only && suite.name !== only) continue;
    console.log(`\n== ${suite.name} ==`);
    await (await suite.load()).run();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
