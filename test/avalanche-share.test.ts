/**
 * Builders sharing a host (workers/avalanche/share.ts), on the real cgroup file system: each builder's builds go
 * into a cgroup of its own with the builder's CPU weight and memory limit, which binds its builds together.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { createBuildCgroup, prepareCgroupHost, type CgroupHost } from '../activities/avalanche/cgroup';
import { DEFAULT_LIMITS } from '../core/build/limits';
import { applyBuilderShare, shareGroupName } from '../workers/avalanche/share';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';

const MiB = 1024 * 1024;
const made: CgroupHost[] = [];

const file = (host: CgroupHost, controller: string, name: string) =>
  readFileSync(join(host.parents[host.version === 2 ? '' : controller], name), 'utf8').trim();

describeWhenAvailable(nspawnUnavailableReason(), "a builder's share of a shared host", () => {
  afterAll(() => {
    for (const host of made) for (const dir of Object.values(host.parents)) rmdirSync(dir);
  });

  it('gives each builder a cgroup of its own with its CPU weight and memory limit, and puts its builds in it', async () => {
    const host = await prepareCgroupHost();
    const big = await applyBuilderShare(host, `share-big-${process.pid}`, { cpuWeight: 300, memoryBytes: 2048 * MiB });
    const small = await applyBuilderShare(host, `share-small-${process.pid}`, { cpuWeight: 100, memoryBytes: 512 * MiB });
    made.push(big, small);
    for (const [share, parent] of Object.entries(big.parents)) expect(parent).toBe(join(host.parents[share], shareGroupName(`share-big-${process.pid}`)));
    if (host.version === 2) {
      expect([file(big, 'cpu', 'cpu.weight'), file(small, 'cpu', 'cpu.weight')]).toEqual(['300', '100']);
      expect([file(big, 'memory', 'memory.max'), file(small, 'memory', 'memory.max')]).toEqual([String(2048 * MiB), String(512 * MiB)]);
    } else {
      expect([file(big, 'cpu', 'cpu.shares'), file(small, 'cpu', 'cpu.shares')]).toEqual(['3072', '1024']);
      expect([file(big, 'memory', 'memory.limit_in_bytes'), file(small, 'memory', 'memory.limit_in_bytes')]).toEqual([String(2048 * MiB), String(512 * MiB)]);
    }
    const build = await createBuildCgroup(big, `summit-share-test-${process.pid}`, DEFAULT_LIMITS);
    try {
      for (const f of build.procsFiles) expect(Object.values(big.parents).some((p) => f.startsWith(`${p}/`))).toBe(true);
    } finally {
      await build.remove();
    }
    // Without a share the builds stay where they were.
    expect(await applyBuilderShare(host, 'no-share', {})).toBe(host);
  });

  it("bounds the builder's builds together by its memory, whatever each build's own limit", async () => {
    const host = await applyBuilderShare(await prepareCgroupHost(), `share-tight-${process.pid}`, { memoryBytes: 32 * MiB });
    made.push(host);
    const build = await createBuildCgroup(host, `summit-share-oom-${process.pid}`, { ...DEFAULT_LIMITS, memoryBytes: 1024 * MiB });
    try {
      // tail keeps what it reads until it finds a line end: 128 MiB of zeros without one, in memory.
      const child = spawn('/bin/sh', ['-c', 'for f; do echo $$ > "$f"; done; head -c 134217728 /dev/zero | tail -c 134217728 > /dev/null', 'sh', ...build.procsFiles], { stdio: 'ignore' });
      const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.once('exit', (c, s) => done([c, s])));
      // The pipeline fails: tail was killed by the share's limit (the build's own 1 GiB would have let it finish).
      expect(code).not.toBe(0);
    } finally {
      await build.remove();
    }
  });
});
