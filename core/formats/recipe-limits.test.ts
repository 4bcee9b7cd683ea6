import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRecipe, readRecipeFile, RecipeError } from './recipe';
import { decodeRecipeText, firstInvalidUtf8, nestingTooDeep } from './recipe-limits';

const HEAD = 'name: demo\nversion: "1.0"\nrelease: 1\nhomepage: https://example.org\nlicense: MIT\n';

function issuesOf(text: string): RecipeError['issues'] {
  try {
    parseRecipe(text, 'demo/stone.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RecipeError);
    return (err as RecipeError).issues;
  }
  throw new Error('expected the recipe to be refused');
}

describe('UTF-8', () => {
  test.each([
    ['plain ASCII', [0x61, 0x62], -1],
    ['two-, three- and four-byte characters', [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1],
    ['a Latin-1 é', [0x61, 0xe9, 0x0a], 1],
    ['a truncated sequence at the end', [0x61, 0x62, 0xe2, 0x82], 2],
    ['an overlong slash', [0xc0, 0xaf], 0],
    ['an overlong three-byte form', [0xe0, 0x80, 0xaf], 0],
    ['a UTF-16 surrogate', [0x61, 0xed, 0xa0, 0x80], 1],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a lone continuation byte', [0x80], 0],
  ])('%s: first bad byte %#', (_what, bytes, at) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(at);
  });

  test('a binary recipe is refused naming the byte and its line', () => {
    const bytes = Buffer.concat([Buffer.from('name: x\nversion: 1\n'), Buffer.from([0x00, 0xff, 0xfe])]);
    try {
      decodeRecipeText(bytes, 'bin/stone.yaml');
      throw new Error('expected a RecipeError');
    } catch (err) {
      expect((err as RecipeError).issues).toEqual([{ file: 'bin/stone.yaml', path: '', line: 3, message: 'not UTF-8 at byte 20 (0xff): a recipe must be UTF-8 text' }]);
    }
  });
});

describe('nesting', () => {
  test('1 MiB of nested flow lists is refused at its line without reaching the YAML composer', () => {
    const text = `${HEAD}builddeps: ${'['.repeat(512 * 1024)}${']'.repeat(512 * 1024)}\n`;
    expect(issuesOf(text)).toEqual([{ file: 'demo/stone.yaml', path: '', line: 6, column: 1, message: 'values are nested more than 64 levels deep' }]);
  });

  test('deeply indented block mappings are refused at the line that goes too deep', () => {
    let text = `${HEAD}packages:\n`;
    for (let i = 0; i < 200; i++) text += `${'  '.repeat(i + 1)}- k${i}:\n`;
    const [issue] = issuesOf(text);
    expect(issue.message).toBe('values are nested more than 64 levels deep');
    expect(issue.line).toBeGreaterThan(6);
    expect(issue.line).toBeLessThan(80);
  });

  test('a compact `- - - …` list counts every item', () => {
    expect(nestingTooDeep(`x: ${'- '.repeat(70)}a\n`)).toBe(1);
    expect(nestingTooDeep(`x:\n  ${'- '.repeat(10)}a\n`)).toBeUndefined();
  });

  // Files are first measured by a cheap bound and lexed only when it could pass the limit: at the limit exactly,
  // by each way of nesting, the answer must be the lexer's.
  test.each([
    ['indented mappings', (depth: number) => Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' x\n'],
    ['compact list items', (depth: number) => `x: ${'- '.repeat(depth - 1)}a\n`],
    ['flow lists', (depth: number) => `x: ${'['.repeat(depth - 1)}a${']'.repeat(depth - 1)}\n`],
    ['all three', (depth: number) => `a:\n b:\n  - - {c: [${'['.repeat(depth - 7)}d${']'.repeat(depth - 7)}]}\n`],
  ])('%s: 64 levels pass, 65 are refused', (_, nested) => {
    expect(nestingTooDeep(nested(64))).toBeUndefined();
    expect(nestingTooDeep(nested(65))).toBeGreaterThanOrEqual(1);
  });

  test("a script's own indentation and braces inside a block scalar do not count", () => {
    const script = Array.from({ length: 100 }, (_, i) => `${' '.repeat(4 + i)}if [ -d x ]; then { [[ a ]]; }`).join('\n');
    expect(nestingTooDeep(`${HEAD}install: |\n${script}\n`)).toBeUndefined();
  });
});

describe('aliases', () => {
  test('a billion-laughs alias bomb is refused by the node budget', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    const [issue] = issuesOf(`${HEAD}${levels.join('\n')}\n`);
    expect(issue.message).toBe('the document expands to more than 100000 nodes');
  });
});

describe('size', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recipe-limits-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a file over the cap is refused from its size', async () => {
    const path = join(dir, 'big.yaml');
    writeFileSync(path, `${HEAD}description: ${'x'.repeat(2048)}\n`);
    await expect(readRecipeFile(path, { maxBytes: 1024 })).rejects.toMatchObject({
      issues: [{ message: expect.stringMatching(/^the file is \d+ bytes, more than the 1024-byte limit for a recipe: not read$/) }],
    });
    await expect(readRecipeFile(path)).resolves.toMatchObject({ recipe: { source: { name: 'demo' } } });
  });
});
