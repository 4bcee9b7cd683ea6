/**
 * runHostPipe (activities/avalanche/host-command.ts): `first | second` joined by /bin/sh with every word passed as
 * an argument, the first failure's status, and a cancelled pipe stopped whole. Real processes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { HostCommandError, runHostPipe } from '../activities/avalanche/host-command';

describe('runHostPipe', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(os.tmpdir(), 'summit-pipe-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes every word as it is, never through the shell', async () => {
    const words = ['a b', "it's $HOME `id` $(id)", '--x', '', '*', '"q"'];
    const out = join(dir, 'out');
    await runHostPipe(['printf', ['%s\\n', ...words]], ['sh', ['-c', 'cat > "$1"', 'sh', out]]);
    expect(readFileSync(out, 'utf8')).toBe(words.map((w) => `${w}\n`).join(''));
  });

  it.each([
    ['the first fails', ['sh', ['-c', 'exit 5']], ['cat', []], 5],
    ['the second fails', ['true', []], ['sh', ['-c', 'cat; exit 3']], 3],
    ['both fail: the first is told', ['sh', ['-c', 'exit 5']], ['sh', ['-c', 'exit 3']], 5],
    ['the first does not exist', ['summit-no-such-command', []], ['cat', []], 127],
  ] as const)('fails when %s', async (_what, first, second, code) => {
    const err = await runHostPipe([first[0], [...first[1]]], [second[0], [...second[1]]]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HostCommandError);
    expect((err as HostCommandError).exitCode).toBe(code);
  });

  it('stops both commands when cancelled', async () => {
    const marker = `summit-pipe-test-${process.pid}`;
    const abort = new AbortController();
    const running = runHostPipe(['sh', ['-c', `sleep 30; : ${marker}`]], ['sh', ['-c', `cat; sleep 30; : ${marker}`]], { signal: abort.signal });
    const pids = () => {
      try {
        return execFileSync('pgrep', ['-f', '--', marker]).toString().trim().split('\n');
      } catch {
        return []; // pgrep exits 1 when nothing matches
      }
    };
    // Both commands up before the cancel.
    while (pids().length < 2) await new Promise((r) => setTimeout(r, 10));
    abort.abort(new Error('stopped by the test'));
    await expect(running).rejects.toThrow('stopped by the test');
    while (pids().length > 0) await new Promise((r) => setTimeout(r, 10));
    expect(pids()).toEqual([]);
  });
});
