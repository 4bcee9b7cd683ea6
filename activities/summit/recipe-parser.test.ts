import { RecipeParser } from './recipe-parser';

/**
 * The parser thread for real (it runs dist/activities/summit/recipe-parse-worker.js, which npm test builds):
 * what a recipe that exhausts the thread's heap does to the recipes queued behind it.
 */
const HEAD = 'name: demo\nversion: "1.0"\nrelease: 1\nhomepage: https://example.org\nlicense: MIT\n';

function bigList(): Buffer {
  const lines = [HEAD, 'builddeps:\n'];
  for (let n = 0; lines.length < 60_000; n++) lines.push(`  - dependency-${n}\n`);
  return Buffer.from(lines.join(''));
}

describe('recipe parser thread', () => {
  let parser: RecipeParser | undefined;
  afterEach(async () => {
    await parser?.close();
  });

  it('refuses a recipe that needs more than the heap limit, and parses the recipes queued behind it in a new thread', async () => {
    // 24 MiB: enough for a real recipe, too little for 60,000 list items (about 1 MiB of YAML).
    parser = new RecipeParser({ timeoutMs: 60_000, memoryMb: 24 });
    const good = Buffer.from(HEAD);
    const [big, first, second] = await Promise.all([parser.parse('big/stone.yaml', bigList()), parser.parse('a/stone.yaml', good), parser.parse('b/stone.yaml', good)]);
    expect(big).toEqual({ ok: false, errors: ['big/stone.yaml: parsing needed more than the 24 MiB memory limit: refused'] });
    expect(first).toMatchObject({ ok: true, recipe: { source: { name: 'demo' } } });
    expect(second).toMatchObject({ ok: true, recipe: { source: { name: 'demo' } } });
  });

  it('answers every problem of a file as an outcome, in the order asked', async () => {
    parser = new RecipeParser({ timeoutMs: 60_000, memoryMb: 256 });
    const outcomes = await Promise.all([
      parser.parse('bin/stone.yaml', Buffer.from([0x6e, 0xff])),
      parser.parse('ok/stone.yaml', Buffer.from(HEAD)),
      parser.parse('m/stone.yaml', Buffer.from(HEAD), { file: 'm/manifest.x86_64.bin', bytes: Buffer.from('not a stone') }),
    ]);
    expect(outcomes).toEqual([
      { ok: false, errors: ['bin/stone.yaml:1:1: not UTF-8 at byte 1 (0xff): a recipe must be UTF-8 text'] },
      expect.objectContaining({ ok: true }),
      { ok: false, errors: [expect.stringContaining('m/manifest.x86_64.bin')] },
    ]);
  });
});
