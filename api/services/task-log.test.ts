import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOfLastLines } from './task-log';

describe('finding where the last lines of a log begin', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'summit-tail-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function tail(content: string, lines: number): Promise<string> {
    const path = join(dir, 'log');
    writeFileSync(path, content);
    const file = await open(path, 'r');
    try {
      const start = await startOfLastLines(file, lines);
      return content.slice(start);
    } finally {
      await file.close();
    }
  }

  // Lines of ~1 KiB so that 200 of them cross the 64 KiB read chunks several times.
  const long = Array.from({ length: 200 }, (_, i) => `${i}:${'x'.repeat(1000)}`);

  it.each([
    ['an empty file', '', 3, ''],
    ['fewer lines than asked', 'a\nb\n', 5, 'a\nb\n'],
    ['a final newline, which starts no line', 'a\nb\nc\n', 2, 'b\nc\n'],
    ['no final newline', 'a\nb\nc', 2, 'b\nc'],
    ['blank lines, which count', 'a\n\n\nb\n', 3, '\n\nb\n'],
    ['lines across read chunks', `${long.join('\n')}\n`, 70, `${long.slice(-70).join('\n')}\n`],
  ])('%s', async (_what, content, lines, expected) => {
    expect(await tail(content, lines)).toBe(expected);
  });
});
