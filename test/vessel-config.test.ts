import { join, resolve } from 'node:path';
import { ArtefactOrigins } from '../core/security/artefact-origins';
import { loadVesselConfig } from '../workers/vessel';

describe('the vessel worker configuration', () => {
  it('defaults to a local Temporal, the default namespace, .summit/vessel, and no repository server', () => {
    expect(loadVesselConfig({})).toEqual({
      temporalAddress: '127.0.0.1:7233', namespace: 'default', vesselDir: join(resolve('.summit'), 'vessel'), httpPort: undefined, httpHost: '0.0.0.0',
      publishWindowMs: 0, apiUrl: 'http://127.0.0.1:3000', artefactOrigins: ArtefactOrigins.ANY,
    });
  });

  it('reads every setting from the environment', () => {
    expect(loadVesselConfig({ SUMMIT_TEMPORAL_ADDRESS: 'temporal:7233', SUMMIT_TEMPORAL_NAMESPACE: 'summit', SUMMIT_DATA_DIR: '/data', SUMMIT_VESSEL_PORT: '8091', SUMMIT_VESSEL_HOST: '127.0.0.1', SUMMIT_PUBLISH_WINDOW: '250ms', SUMMIT_API_URL: 'http://api:3000/', SUMMIT_ARTEFACT_ORIGINS: 'http://avalanche-1:8090' }))
      .toEqual({
        temporalAddress: 'temporal:7233', namespace: 'summit', vesselDir: '/data/vessel', httpPort: 8091, httpHost: '127.0.0.1', publishWindowMs: 250, apiUrl: 'http://api:3000',
        artefactOrigins: ArtefactOrigins.parse('http://avalanche-1:8090'),
      });
  });

  it('takes an empty SUMMIT_VESSEL_PORT as unset', () => {
    expect(loadVesselConfig({ SUMMIT_VESSEL_PORT: '' }).httpPort).toBeUndefined();
  });

  it.each([['SUMMIT_VESSEL_PORT', 'abc'], ['SUMMIT_VESSEL_PORT', '70000'], ['SUMMIT_VESSEL_PORT', '-1'], ['SUMMIT_PUBLISH_WINDOW', '2'], ['SUMMIT_PUBLISH_WINDOW', '-1s'], ['SUMMIT_ARTEFACT_ORIGINS', 'avalanche-1:8090']])('refuses %s=%j, naming the variable', (name, value) => {
    expect(() => loadVesselConfig({ [name]: value })).toThrow(new RegExp(`invalid configuration:\\n  ${name}:`));
  });
});
