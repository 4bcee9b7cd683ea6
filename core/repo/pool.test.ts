import { fileNameMatches, historyIndexPath, indexUri, repositoryPathOfUri, isSafeSegment, poolPath, poolPathProblem, poolPrefix, stoneFileName } from './pool';

const meta = (name: string, sourceId: string, version = '1.0', release = 1, buildRelease = 1, architecture = 'x86_64') =>
  ({ name, sourceId, version, release, buildRelease, architecture });

describe('pool paths (as AerynOS vessel lays them out)', () => {
  it.each([
    ['nano', 'n'],
    ['less', 'l'],
    ['libzip', 'libz'],
    ['libz', 'l'], // "lib" + one letter is not longer than four characters
    ['lib', 'l'],
    ['libab', 'liba'],
    ['LibreOffice', 'libr'], // lower-cased first
    ['Xorg', 'x'],
    ['7zip', '7'],
  ])('source %s goes under pool/%s/', (sourceId, prefix) => {
    expect(poolPrefix(sourceId)).toBe(prefix);
  });

  it.each([
    [meta('nano', 'nano', '0.1.0'), 'pool/n/nano/nano-0.1.0-1-1-x86_64.stone'],
    [meta('less', 'less', '2.0'), 'pool/l/less/less-2.0-1-1-x86_64.stone'],
    [meta('libzip', 'libzip', 'abdefg.1-alpha', 99, 50, 'aarch64'), 'pool/libz/libzip/libzip-abdefg.1-alpha-99-50-aarch64.stone'],
    // Sub-packages live in their source's folder, under the source's prefix.
    [meta('nano-dbginfo', 'nano', '8.4', 35, 1), 'pool/n/nano/nano-dbginfo-8.4-35-1-x86_64.stone'],
    [meta('libzip-devel', 'libzip', '1.10', 3, 2), 'pool/libz/libzip/libzip-devel-1.10-3-2-x86_64.stone'],
    [meta('zlib-devel', 'ZLib', '1.3'), 'pool/z/zlib/zlib-devel-1.3-1-1-x86_64.stone'],
  ])('%o is stored at %s', (m, path) => {
    expect(poolPath(m)).toBe(path);
  });

  it.each([
    ['nano-8.4-35-1-x86_64.stone', true],
    ['nano-8.4-35-1-x86_64-v3x.stone', true], // avalanche's name for the x86_64-v3x variant
    ['nano-8.4-35-2-x86_64.stone', false],
    ['nano-8.4-35-1-aarch64.stone', false],
    ['nano-8.4-35-1-x86_64-.stone', false],
    ['nano-8.4-35-1-x86_64-v3/x.stone', false],
    ['nano-8.4-35-1-x86_64.tar', false],
  ])('the file name %s names nano 8.4-35-1 x86_64: %s', (file, matches) => {
    expect(fileNameMatches(file, meta('nano', 'nano', '8.4', 35, 1))).toBe(matches);
  });

  it('keeps an artefact\'s ISA-level file name in the pool', () => {
    expect(poolPath(meta('libzip', 'libzip', '1.10', 3, 1), 'libzip-1.10-3-1-x86_64-v3x.stone')).toBe('pool/libz/libzip/libzip-1.10-3-1-x86_64-v3x.stone');
  });

  it('names files <name>-<version>-<release>-<build release>-<arch>.stone', () => {
    expect(stoneFileName(meta('nano', 'nano', '8.4', 35, 1))).toBe('nano-8.4-35-1-x86_64.stone');
  });

  it('climbs from history/<id>/<arch>/ to the repository root in PackageURIs', () => {
    expect(historyIndexPath('12', 'x86_64')).toBe('history/12/x86_64/stone.index');
    expect(indexUri('pool/n/nano/nano-8.4-35-1-x86_64.stone')).toBe('../../../pool/n/nano/nano-8.4-35-1-x86_64.stone');
    expect(repositoryPathOfUri(indexUri('pool/n/nano/x.stone'))).toBe('pool/n/nano/x.stone');
    const resolved = new URL(indexUri('pool/n/nano/x.stone'), `http://repo/main/${historyIndexPath('3', 'x86_64')}`);
    expect(resolved.pathname).toBe('/main/pool/n/nano/x.stone');
  });

  it.each([
    ['nano', true], ['libstdc++', true], ['x86_64-v3x', true], ['1.2.3', true],
    ['', false], ['.', false], ['..', false], ['a/b', false], ['-x', false], ['a b', false], ['.hidden', false],
  ])('segment %j is safe: %s', (value, safe) => {
    expect(isSafeSegment(value)).toBe(safe);
  });

  it('refuses metadata that would escape its pool folder', () => {
    expect(poolPathProblem(meta('nano', '../etc'))).toMatch(/source id "..\/etc"/);
    expect(poolPathProblem(meta('a/b', 'nano'))).toMatch(/name "a\/b"/);
    expect(poolPathProblem(meta('nano', 'nano'))).toBeUndefined();
  });
});
