/**
 * Past build times of a wave's sources, for its time estimate, read once a minute per wave rather than at every
 * build's end. With 100,000 finished tasks the read costs ~80 ms (it walks the completed builds newest first until
 * it has a few of each source), and a wave of 1,000 builds asked for it 1,000 times: most of the planning
 * process's CPU with a long history (measured with `npm run bench:wave -- --existing-tasks 100000`). An estimate
 * may lag a minute behind the newest builds; the wave's own counts are read fresh each time.
 */
export class PastBuildTimes {
  private readonly byWave = new Map<string, { at: number; asked: Set<string>; seconds: Map<string, number[]> }>();

  constructor(
    private readonly load: (sources: readonly string[]) => Promise<Map<string, number[]>>,
    private readonly maxAgeMs = 60_000,
    /** Waves remembered at most (the oldest read is forgotten first): a few run at once. */
    private readonly maxWaves = 64,
    private readonly now: () => number = Date.now,
  ) {}

  /** The past build times of `sources` (each source's newest few), as of at most `maxAgeMs` ago. */
  async of(waveId: string, sources: readonly string[]): Promise<Map<string, number[]>> {
    const kept = this.byWave.get(waveId);
    // The open sources of a wave only shrink; a source not seen before (a wave given more tasks) reads again.
    // Sources with no past build are remembered as asked, so they do not force a read each time.
    if (kept && this.now() - kept.at < this.maxAgeMs && sources.every((s) => kept.asked.has(s))) return kept.seconds;
    const seconds = await this.load(sources);
    this.byWave.delete(waveId);
    this.byWave.set(waveId, { at: this.now(), asked: new Set(sources), seconds });
    while (this.byWave.size > this.maxWaves) this.byWave.delete(this.byWave.keys().next().value!);
    return seconds;
  }
}
