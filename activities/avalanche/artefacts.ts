import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILD_LOG_NAME } from '../../core/build/artefact-names';
import type { Artefact, ArtefactKind } from '../../core/contracts/build';

/** The files of a finished build as BuildResult lists them: name, kind, size, sha256; stones first. */
export async function listArtefacts(dir: string): Promise<Artefact[]> {
  const names = (await readdir(dir)).sort();
  const out: Artefact[] = [];
  for (const name of names) {
    const kind = kindOf(name);
    if (!kind) continue;
    const path = join(dir, name);
    out.push({ name, kind, size: (await stat(path)).size, sha256: await sha256File(path) });
  }
  const order: ArtefactKind[] = ['stone', 'manifest-bin', 'manifest-jsonc', 'log'];
  return out.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name));
}

function kindOf(name: string): ArtefactKind | undefined {
  if (name.endsWith('.stone')) return 'stone';
  if (/^manifest\..+\.bin$/.test(name)) return 'manifest-bin';
  if (/^manifest\..+\.jsonc$/.test(name)) return 'manifest-jsonc';
  if (name === BUILD_LOG_NAME) return 'log';
  return undefined;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The test-only fault: flip the last byte of every .stone after its sha256 was recorded, so the result
 * promises files the server then does not deliver, as a disk or network fault would.
 */
export async function corruptStones(dir: string, artefacts: readonly Artefact[]): Promise<void> {
  for (const a of artefacts) {
    if (a.kind !== 'stone' || a.size === 0) continue;
    const fh = await open(join(dir, a.name), 'r+');
    try {
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, a.size - 1);
      byte[0] ^= 0xff;
      await fh.write(byte, 0, 1, a.size - 1);
    } finally {
      await fh.close();
    }
  }
}
