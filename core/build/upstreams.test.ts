import type { Upstream } from '../formats/recipe-types';
import { buildDirName, isSafeArtefactName, manifestFileNames, stoneFileName } from './artefact-names';
import { logTail } from './log-tail';
import { planUpstreams, UpstreamError } from './upstreams';

const HASH = 'a'.repeat(64);
const LOCAL = { roots: ['/srv/src', '/srv/git'], setting: 'SUMMIT_LOCAL_SOURCES' };
const archive = (url: string, extra: Partial<Extract<Upstream, { kind: 'archive' }>> = {}): Upstream => ({ kind: 'archive', url, hash: HASH, unpack: true, ...extra });

describe('upstream plans', () => {
  it.each<[string, Upstream, object]>([
    ['an https tarball unpacked into the workdir, one folder stripped', archive('https://example.org/dl/liba-1.0.tar.xz'),
      { kind: 'archive', source: { type: 'http', url: 'https://example.org/dl/liba-1.0.tar.xz' }, fileName: 'liba-1.0.tar.xz', unpackInto: '', stripDirs: 1 }],
    ['a file:// tarball inside a configured folder, with unpackdir and stripdirs', archive('file:///srv/src/b%20c.tgz', { unpackDir: 'sub/dir', stripDirs: 0 }),
      { source: { type: 'file', path: '/srv/src/b c.tgz' }, fileName: 'b c.tgz', unpackInto: 'sub/dir', stripDirs: 0 }],
    ['a plain file kept in the sourcedir', archive('https://example.org/fix.patch'), { fileName: 'fix.patch', unpackInto: undefined }],
    ['a tarball with unpack off', archive('https://example.org/x.tar.gz', { unpack: false }), { unpackInto: undefined }],
    ['a renamed download', archive('https://example.org/download?id=3', { rename: 'x.tar.gz' }), { fileName: 'x.tar.gz', unpackInto: '' }],
    ['a git source in a configured folder', { kind: 'git', url: '/srv/git/liba.git', ref: 'v1.0', staging: true },
      { kind: 'git', url: '/srv/git/liba.git', localPath: '/srv/git/liba.git', ref: 'v1.0', cloneInto: '' }],
    ['a git source with clonedir', { kind: 'git', url: 'file:///srv/git/x', ref: 'abc', cloneDir: './x/', staging: true }, { cloneInto: 'x', localPath: '/srv/git/x' }],
    ['a git source over https', { kind: 'git', url: 'https://example.org/r.git', ref: 'v1', staging: true }, { url: 'https://example.org/r.git' }],
  ])('plans %s', (_what, upstream, expected) => {
    expect(planUpstreams([upstream], LOCAL)[0]).toMatchObject(expected);
  });

  it('marks only local git upstreams as local', () => {
    expect(planUpstreams([{ kind: 'git', url: 'https://example.org/r.git', ref: 'v1', staging: true }], LOCAL)[0]).not.toHaveProperty('localPath');
  });

  it.each<[string, Upstream, RegExp]>([
    ['a file:// URL to a host secret', archive('file:///etc/shadow'), /upstream file:\/\/\/etc\/shadow: \/etc\/shadow is outside the folders configured in SUMMIT_LOCAL_SOURCES/],
    ['a git upstream with a local path elsewhere', { kind: 'git', url: 'file:///root/private.git', ref: 'main', staging: true }, /outside the folders configured/],
    ['a git upstream through a remote helper', { kind: 'git', url: 'ext::sh -c touch% /tmp/x', ref: 'main', staging: true }, /remote helpers \("ext::"\) are not allowed/],
    ['an ssh host that is an option', { kind: 'git', url: 'ssh://-oProxyCommand=x/r', ref: 'main', staging: true }, /host starts with "-"/],
    ['a ref that is an option', { kind: 'git', url: 'https://example.org/r.git', ref: '--orphan=x', staging: true }, /ref "--orphan=x" starts with "-"/],
    ['credentials in an upstream', archive('https://u:secret@example.org/x.tar'), /^upstream https:\/\/\*\*\*@example.org\/x.tar: credentials/],
  ])('refuses %s as the recipe\'s fault, naming the upstream', (_what, upstream, message) => {
    expect(() => planUpstreams([upstream], LOCAL)).toThrow(UpstreamError);
    expect(() => planUpstreams([upstream], LOCAL)).toThrow(message);
  });

  it('refuses every local upstream when no folder is configured', () => {
    expect(() => planUpstreams([archive('file:///srv/src/x.tgz')])).toThrow(/no folder is configured in SUMMIT_LOCAL_SOURCES/);
  });

  it.each<[string, Upstream[], RegExp]>([
    ['an unsupported scheme', [archive('ftp://example.org/x.tar')], /the scheme "ftp:" is not allowed; use https:\/\/, http:\/\//],
    ['a hash that is not sha256', [archive('https://example.org/x.tar', { hash: 'abc' })], /not a sha256/],
    ['an unpackdir climbing out', [archive('https://example.org/x.tar', { unpackDir: '../x' })], /may not contain \.\./],
    ['an absolute clonedir', [{ kind: 'git', url: '/srv/git/g', ref: 'r', cloneDir: '/abs', staging: true }], /must be relative/],
    ['two files of one name', [archive('https://a.org/x.tar'), archive('https://b.org/x.tar')], /both named "x.tar"/],
  ])('refuses %s', (_what, upstreams, message) => {
    expect(() => planUpstreams(upstreams, LOCAL)).toThrow(UpstreamError);
    expect(() => planUpstreams(upstreams, LOCAL)).toThrow(message);
  });
});

describe('artefact names', () => {
  it('names stones after boulder with the ISA level in place of the architecture', () => {
    const pkg = { name: 'liba-devel', version: '1.0', release: 2, buildRelease: 1 };
    expect(stoneFileName(pkg, 'x86_64')).toBe('liba-devel-1.0-2-1-x86_64.stone');
    expect(stoneFileName(pkg, 'x86_64-v3x')).toBe('liba-devel-1.0-2-1-x86_64-v3x.stone');
    expect(manifestFileNames('x86_64')).toEqual({ bin: 'manifest.x86_64.bin', jsonc: 'manifest.x86_64.jsonc' });
  });

  it.each([['liba-1.0-1-1-x86_64.stone', true], ['manifest.x86_64.bin', true], ['../x', false], ['.hidden', false], ['a/b', false], ['', false]])(
    'accepts %p as an artefact name: %p', (name, ok) => expect(isSafeArtefactName(name)).toBe(ok),
  );

  it('maps build ids to distinct folder names without separators', () => {
    expect(buildDirName('build/p/r/liba-1.0-1/x86_64')).toBe('build%2Fp%2Fr%2Fliba-1.0-1%2Fx86_64');
    expect(() => buildDirName('..')).toThrow();
  });
});

describe('log tails', () => {
  it('keeps the last 64 lines', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const tail = logTail(text);
    expect(tail.split('\n')).toHaveLength(64);
    expect(tail.endsWith('line 99')).toBe(true);
  });

  it('keeps at most 8 KiB, cutting on a character boundary', () => {
    const tail = logTail(`${'é'.repeat(5000)}\nerror: the end`);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(8192);
    expect(tail.endsWith('error: the end')).toBe(true);
    expect(tail).not.toContain('\uFFFD');
  });
});
