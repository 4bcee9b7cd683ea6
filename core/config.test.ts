import { ConfigError, parseConfig, repositoryRoots } from './config';

describe('configuration from the environment', () => {
  it('fills every default for an empty environment', () => {
    expect(parseConfig({})).toMatchObject({
      SUMMIT_DATA_DIR: '.summit', SUMMIT_API_PORT: 3000, SUMMIT_TEMPORAL_ADDRESS: '127.0.0.1:7233',
      SUMMIT_POLL_INTERVAL: 300_000, SUMMIT_VARIANTS: [],
    });
  });

  it('parses durations, ports and variants', () => {
    const c = parseConfig({ SUMMIT_POLL_INTERVAL: '30s', SUMMIT_API_PORT: '8080', SUMMIT_VARIANTS: 'x86_64-v3x' });
    expect(c).toMatchObject({ SUMMIT_POLL_INTERVAL: 30_000, SUMMIT_API_PORT: 8080, SUMMIT_VARIANTS: ['x86_64-v3x'] });
  });

  it('takes an empty variable as unset, as compose files pass them', () => {
    const c = parseConfig({ SUMMIT_API_PORT: '', SUMMIT_VESSEL_PORT: '', SUMMIT_BUILDER_ISA: '' });
    expect(c.SUMMIT_API_PORT).toBe(3000);
    expect(c.SUMMIT_VESSEL_PORT).toBeUndefined();
    expect(c.SUMMIT_BUILDER_ISA).toBeUndefined();
  });

  it('holds every role\'s settings in the one schema', () => {
    expect(parseConfig({ SUMMIT_BUILDER_ISA: 'x86_64, x86_64-v3x', SUMMIT_ARTEFACT_TOKEN_TTL: '30m', SUMMIT_VESSEL_PORT: '8091' })).toMatchObject({
      SUMMIT_BUILDER_ISA: ['x86_64', 'x86_64-v3x'], SUMMIT_ARTEFACT_TOKEN_TTL: 1_800_000, SUMMIT_VESSEL_PORT: 8091,
    });
  });

  it('reads the source settings: folders, a size with its unit, a timeout; the data folder is the default root', () => {
    expect(parseConfig({})).toMatchObject({ SUMMIT_MAX_UPSTREAM_SIZE: 2 * 1024 ** 3, SUMMIT_UPSTREAM_TIMEOUT: 60_000 });
    expect(repositoryRoots(parseConfig({ SUMMIT_DATA_DIR: '/var/lib/summit' }))).toEqual(['/var/lib/summit']);
    const c = parseConfig({ SUMMIT_LOCAL_SOURCES: '/srv/mirror, /other', SUMMIT_REPOSITORY_ROOTS: '/srv/git', SUMMIT_MAX_UPSTREAM_SIZE: '500M', SUMMIT_UPSTREAM_TIMEOUT: '5s' });
    expect(c).toMatchObject({ SUMMIT_LOCAL_SOURCES: ['/srv/mirror', '/other'], SUMMIT_MAX_UPSTREAM_SIZE: 500 * 1024 ** 2, SUMMIT_UPSTREAM_TIMEOUT: 5000 });
    expect(repositoryRoots(c)).toEqual(['/srv/git']);
    expect(parseConfig({ SUMMIT_MAX_UPSTREAM_SIZE: '1000' }).SUMMIT_MAX_UPSTREAM_SIZE).toBe(1000);
  });

  it.each([
    [{ SUMMIT_LOCAL_SOURCES: 'relative/mirror' }, /SUMMIT_LOCAL_SOURCES.*an absolute path/],
    [{ SUMMIT_REPOSITORY_ROOTS: '/srv,git' }, /SUMMIT_REPOSITORY_ROOTS.*an absolute path/],
    [{ SUMMIT_MAX_UPSTREAM_SIZE: '2 GB' }, /SUMMIT_MAX_UPSTREAM_SIZE: a size in bytes such as 500M or 2G/],
    [{ SUMMIT_BUILDER_ISA: 'x86_64-v9' }, /SUMMIT_BUILDER_ISA/],
    [{ SUMMIT_API_PORT: 'http' }, /SUMMIT_API_PORT/],
    [{ SUMMIT_POLL_INTERVAL: 'soon' }, /SUMMIT_POLL_INTERVAL: a duration such as 30s/],
    [{ SUMMIT_DATABASE_URL: 'mysql://x' }, /SUMMIT_DATABASE_URL: a postgres:\/\/ URL/],
    [{ SUMMIT_VARIANTS: 'x86_64-v9' }, /SUMMIT_VARIANTS/],
  ])('names the variable and the problem for %j', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });
});
