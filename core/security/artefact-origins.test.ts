import { ArtefactOrigins, ArtefactOriginsError } from './artefact-origins';

describe('SUMMIT_ARTEFACT_ORIGINS', () => {
  const listed = ArtefactOrigins.parse('http://avalanche-1:8090, https://builders.example.org, http://10.0.0.7:*');

  it('allows exactly the listed origins, with their ports', () => {
    expect(listed.restricted).toBe(true);
    expect(listed.problem('http://avalanche-1:8090')).toBeUndefined();
    expect(listed.problem('http://AVALANCHE-1:8090/')).toBeUndefined();
    expect(listed.problem('https://builders.example.org/avalanche-2')).toBeUndefined();
    expect(listed.problem('https://builders.example.org:443')).toBeUndefined();
    expect(listed.problem('http://10.0.0.7:41234')).toBeUndefined();
    expect(listed.problem('http://10.0.0.7')).toBeUndefined();
  });

  it('refuses every other host, port or scheme, naming the server and the list', () => {
    expect(listed.problem('http://avalanche-1:8091')).toBe(
      'artefact server http://avalanche-1:8091 is not in SUMMIT_ARTEFACT_ORIGINS (http://avalanche-1:8090, https://builders.example.org, http://10.0.0.7:*)',
    );
    expect(listed.problem('http://169.254.169.254/latest')).toMatch(/^artefact server http:\/\/169\.254\.169\.254 is not in SUMMIT_ARTEFACT_ORIGINS/);
    expect(listed.problem('https://avalanche-1:8090')).toMatch(/is not in SUMMIT_ARTEFACT_ORIGINS/);
    expect(listed.problem('http://builders.example.org')).toMatch(/is not in SUMMIT_ARTEFACT_ORIGINS/);
    expect(listed.problem('http://10.0.0.70:8090')).toMatch(/is not in SUMMIT_ARTEFACT_ORIGINS/);
  });

  it('checks the shape of every address, listed or not', () => {
    for (const origins of [ArtefactOrigins.ANY, listed]) {
      expect(origins.problem('not a url')).toBe('artefact server "not a url" is not a URL');
      expect(origins.problem('file:///etc/passwd')).toMatch(/file: is not http or https/);
      expect(origins.problem('http://user:secret@avalanche-1:8090')).toBe('artefact server avalanche-1:8090: credentials are not allowed in its URL');
      expect(origins.problem('http://avalanche-1:8090/?x=1')).toMatch(/a query or fragment is not allowed/);
      expect(origins.problem('http://avalanche-1:8090/#x')).toMatch(/a query or fragment is not allowed/);
    }
    expect(ArtefactOrigins.ANY.problem('http://anything.example:1234/base')).toBeUndefined();
  });

  it('is unrestricted when unset or blank', () => {
    expect(ArtefactOrigins.parse(undefined)).toBe(ArtefactOrigins.ANY);
    expect(ArtefactOrigins.parse(' , ')).toBe(ArtefactOrigins.ANY);
    expect(ArtefactOrigins.ANY.restricted).toBe(false);
    expect(ArtefactOrigins.ANY.describe()).toBe('any http(s) origin');
  });

  it.each([
    ['avalanche-1:8090', /is not an http\(s\) origin such as/],
    ['ftp://avalanche-1', /is not an http\(s\) origin such as/],
    ['http://avalanche-1:8090/path', /give scheme:\/\/host\[:port\] only/],
    ['http://u:p@avalanche-1:8090', /give scheme:\/\/host\[:port\] only/],
    ['http://avalanche-1:8090:*', /has two ports/],
    ['http://avalanche-1:99999', /is not an http\(s\) origin such as/],
  ])('refuses the entry %s, naming it', (entry, message) => {
    expect(() => ArtefactOrigins.parse(`http://ok:1, ${entry}`)).toThrow(ArtefactOriginsError);
    expect(() => ArtefactOrigins.parse(`http://ok:1, ${entry}`)).toThrow(message);
    expect(() => ArtefactOrigins.parse(entry)).toThrow(`SUMMIT_ARTEFACT_ORIGINS: "${entry}"`);
  });
});
