import { StoneReader } from '../core/formats/stone/reader';
import { openFileSource } from './file-source';

/** Open a .stone on disk, run `use` with its reader, and always close the file. */
export async function withStoneFile<T>(path: string, use: (reader: StoneReader) => Promise<T>): Promise<T> {
  const source = await openFileSource(path);
  try {
    return await use(await StoneReader.open(source, path));
  } finally {
    await source.close();
  }
}
