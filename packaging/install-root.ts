import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../core/formats/errors';

/**
 * A scan of an install root (the `/usr` boulder packs, or any folder standing for it): every entry below it,
 * sorted by path so that the same tree always gives the same package bytes.
 */
export interface RootEntry {
  /** Path relative to the root, '/'-separated, no leading slash. */
  relPath: string;
  type: 'regular' | 'symlink' | 'directory';
  /** Permission and special bits (no file-type bits). */
  mode: number;
  size: number;
  linkTarget?: string;
}

export async function scanInstallRoot(root: string): Promise<RootEntry[]> {
  const out: RootEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, relPath));
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) {
        out.push({ relPath, type: 'symlink', mode, size: 0, linkTarget: await readlink(join(root, relPath)) });
      } else if (st.isDirectory()) {
        out.push({ relPath, type: 'directory', mode, size: 0 });
        await walk(relPath);
      } else if (st.isFile()) {
        out.push({ relPath, type: 'regular', mode, size: st.size });
      } else {
        // moss does not support device nodes, fifos or sockets in packages ("not properly supported").
        throw new FormatError('stone', join(root, relPath), 'install root holds a device, fifo or socket; packages cannot carry it');
      }
    }
  };
  await walk('');
  return out;
}
