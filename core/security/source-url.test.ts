import { checkLocalPath, gitAllowProtocol, isInside, parseSourceUrl, redactUrl, SourceUrlError, type SourceKind } from './source-url';

const LOCAL = { roots: ['/srv/mirror', '/other/'], setting: 'SUMMIT_LOCAL_SOURCES' };

describe('the source location rule', () => {
  it.each<[string, SourceKind, object]>([
    ['https://example.org/x-1.0.tar.xz', 'archive', { kind: 'network', scheme: 'https' }],
    ['HTTP://example.org/x.tar', 'archive', { kind: 'network', scheme: 'http' }],
    ['https://github.com/o/r.git', 'git', { kind: 'network', scheme: 'https' }],
    ['ssh://git@example.org:2222/o/r.git', 'git', { kind: 'network', scheme: 'ssh' }],
    ['git://example.org/r.git', 'git', { kind: 'network', scheme: 'git' }],
    ['git@github.com:o/r.git', 'git', { kind: 'network', scheme: 'ssh', url: 'git@github.com:o/r.git' }],
    ['example.org:r.git', 'git', { kind: 'network', scheme: 'ssh' }],
    ['file:///srv/mirror/x%20y.tgz', 'archive', { kind: 'local', path: '/srv/mirror/x y.tgz' }],
    ['file://localhost/srv/mirror/r.git', 'git', { kind: 'local', path: '/srv/mirror/r.git' }],
    ['/srv/mirror/../mirror/r.git', 'git', { kind: 'local', path: '/srv/mirror/r.git' }],
  ])('takes %s as a %s location', (url, kind, expected) => {
    expect(parseSourceUrl(url, kind, 'here')).toMatchObject(expected);
  });

  it.each<[string, SourceKind, RegExp]>([
    ['', 'git', /empty location/],
    ['--upload-pack=touch /tmp/pwned', 'git', /starts with "-"/],
    ['-oProxyCommand=x', 'archive', /starts with "-"/],
    ['ext::sh -c touch% /tmp/pwned', 'git', /remote helpers \("ext::"\)/],
    ['fd::17', 'git', /remote helpers \("fd::"\)/],
    ['foo::https://example.org/r', 'git', /remote helpers/],
    ['ftp://example.org/x.tar', 'archive', /scheme "ftp:" is not allowed; use https:\/\/, http:\/\//],
    ['ssh://example.org/r.git', 'archive', /scheme "ssh:" is not allowed/],
    ['git+ssh://example.org/r.git', 'git', /scheme "git\+ssh:" is not allowed/],
    ['ssh://-oProxyCommand=touch%20x/r', 'git', /host starts with "-"/],
    ['ssh://-u@example.org/r', 'git', /user starts with "-"/],
    ['-u@host:path', 'git', /starts with "-"/],
    ['git@-oProxyCommand=x:r', 'git', /host or user starts with "-"/],
    ['https://user:tok@example.org/r.git', 'git', /credentials in the URL are not allowed .* SSH key or a git credential helper/],
    ['https://ghp_token@github.com/o/r.git', 'git', /credentials in the URL/],
    ['ssh://git:pw@example.org/r.git', 'git', /credentials in the URL/],
    ['user:pw@example.org:r.git', 'git', /credentials in the URL/],
    ['https://example.org/a\nb', 'archive', /control characters/],
    ['file://evil.example/etc/passwd', 'archive', /must not name a host/],
    ['/etc/passwd', 'archive', /a plain path is not a URL/],
    ['relative/repo.git', 'git', /not an absolute URL or path/],
    ['http://', 'git', /not a valid URL/],
  ])('refuses %j as a %s location', (url, kind, message) => {
    expect(() => parseSourceUrl(url, kind, 'upstream X')).toThrow(SourceUrlError);
    expect(() => parseSourceUrl(url, kind, 'upstream X')).toThrow(message);
    expect(() => parseSourceUrl(url, kind, 'upstream X')).toThrow(/^upstream X: /);
  });

  it.each([
    ['/srv/mirror/x.tgz', true], ['/srv/mirror', true], ['/other/r.git', true],
    ['/srv/mirror2/x', false], ['/srv/x', false], ['/etc/passwd', false],
  ])('a local path %s is inside the configured folders: %p', (path, inside) => {
    if (inside) expect(() => checkLocalPath(path, LOCAL, 'upstream')).not.toThrow();
    else expect(() => checkLocalPath(path, LOCAL, 'upstream')).toThrow(/outside the folders configured in SUMMIT_LOCAL_SOURCES/);
  });

  it('refuses every local path when no folder is configured, naming the setting', () => {
    expect(() => checkLocalPath('/srv/mirror/x', { roots: [], setting: 'SUMMIT_REPOSITORY_ROOTS' }, 'url'))
      .toThrow('url: local paths are not allowed here (no folder is configured in SUMMIT_REPOSITORY_ROOTS); use a network URL');
  });

  it('compares whole path components', () => {
    expect(isInside('/srv/a', '/srv/a/')).toBe(true);
    expect(isInside('/srv/ab', '/srv/a')).toBe(false);
    expect(isInside('/x', '/')).toBe(true);
  });

  it.each([
    ['https://user:tok@example.org/r.git', 'https://***@example.org/r.git'],
    ['https://tok@example.org', 'https://***@example.org'],
    ['ssh://git@example.org/r.git?x=a@b', 'ssh://git@example.org/r.git?x=a@b'],
    ['ssh://git:pw@example.org/r.git', 'ssh://***@example.org/r.git'],
    ['http://u:p@example.org/x?y=a@b', 'http://***@example.org/x?y=a@b'],
    ['https://example.org/r.git', 'https://example.org/r.git'],
    ['/srv/git/r.git', '/srv/git/r.git'],
  ])('shows %s as %s', (url, shown) => expect(redactUrl(url)).toBe(shown));

  it('allows git the file transport only for a checked local path', () => {
    expect(gitAllowProtocol(false)).toBe('https:http:ssh:git');
    expect(gitAllowProtocol(true)).toBe('https:http:ssh:git:file');
  });
});
