import { RecipeParser, sharedParsers } from './recipe-parser';

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

  it('keeps its thread between files, and stops it after idleMs with nothing to parse; the next file starts a new one', async () => {
    parser = new RecipeParser({ timeoutMs: 60_000, memoryMb: 256 }, { idleMs: 100 });
    const p = parser;
    expect(p.threadId).toBeUndefined();
    const first = await Promise.all([p.parse('a/stone.yaml', Buffer.from(HEAD)), p.parse('b/stone.yaml', Buffer.from(HEAD))]);
    expect(first.map((o) => o.ok)).toEqual([true, true]);
    const thread = p.threadId;
    expect(thread).toBeDefined();
    // Asked again before the idle time ran out: the same thread answers.
    expect(await p.parse('c/stone.yaml', Buffer.from(HEAD))).toMatchObject({ ok: true });
    expect(p.threadId).toBe(thread);
    await until(() => p.threadId === undefined);
    expect(await p.parse('d/stone.yaml', Buffer.from(HEAD))).toMatchObject({ ok: true, recipe: { source: { name: 'demo' } } });
    expect(p.threadId).toBeDefined();
    expect(p.threadId).not.toBe(thread);
  });

  it('gives intakes the same parsers for the same limits (their threads stay warm between intakes), others for other limits', () => {
    const limits = { timeoutMs: 12_345, memoryMb: 64 };
    const two = sharedParsers(limits, 2);
    expect(two).toHaveLength(2);
    expect(sharedParsers(limits, 1)[0]).toBe(two[0]);
    expect(sharedParsers(limits, 3).slice(0, 2)).toEqual(two);
    expect(sharedParsers({ ...limits, memoryMb: 65 }, 1)[0]).not.toBe(two[0]);
  });
});

/** Wait for a condition (the thread's stop follows the idle timer and the thread's exit). */
async function until(check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !check(); ) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}
