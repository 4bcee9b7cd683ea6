import type { BuildId } from '../../core/contracts/ids';
import { isFormatError } from '../../core/formats/errors';
import { describePackage } from '../../core/formats/stone/package';
import { StoneReader } from '../../core/formats/stone/reader';
import { bufferSource } from '../../core/formats/stone/source';
import { fileNameMatches, stoneFileName } from '../../core/repo/pool';
import type { Candidate } from '../../core/repo/release-rules';
import { withStoneFile } from '../../packaging/open-stone';
import type { StagedArtefact } from './fetch';
import { importRefused } from './refusal';

/**
 * What vessel checks of a fetched package beyond its sha256 (which only proves it is the file the builder
 * declared, not that the builder declared a good one): it opens as a binary stone with our reader (header, every
 * record payload's checksum, the fields moss requires), its content payload's XXH3 checksum verifies, and its meta
 * names the same package as its file name (an ISA-level suffix allowed, see fileNameMatches) — the name the pool
 * will give it. Any failure is a refusal naming the file: a broken package never reaches the pool. The same checks
 * run on the bytes in memory (small files, as fetched) or on the staged file.
 */
export async function verifyStagedStone(buildId: BuildId, staged: StagedArtefact): Promise<Candidate> {
  const file = staged.artefact.name;
  const refuse = (reason: string) => importRefused({ buildId, file, reason: `${file}: ${reason}` });
  let meta;
  try {
    const check = async (reader: StoneReader) => {
      const pkg = describePackage(reader);
      await reader.verifyContent();
      return pkg.meta;
    };
    // A small file just fetched is checked from the bytes that were hashed and written (no second read of the file).
    meta = staged.bytes ? await check(await StoneReader.open(bufferSource(staged.bytes), staged.path)) : await withStoneFile(staged.path, check);
  } catch (err) {
    if (isFormatError(err)) throw refuse(`not a valid stone package: ${err.problem} (at ${err.where.replace(staged.path, file)})`);
    throw err;
  }
  if (!fileNameMatches(file, meta)) throw refuse(`file name does not match the package's meta, which names ${stoneFileName(meta)}`);
  return { file, meta, sha256: staged.sha256, size: staged.artefact.size };
}
