/**
 * docker-compose.yml is valid and has the production shape, checked offline with `docker compose config` (or the
 * standalone `docker-compose config`), which parses, interpolates and validates it. The stack itself runs for real
 * in `npm run test:compose` (test/compose/stack.compose.ts).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describeWhenAvailable } from './support/ci';
import { BUILD_SEARCH_ATTRIBUTES } from '../core/contracts/search-attributes';
import { ArtefactOrigins } from '../core/security/artefact-origins';

const execFileAsync = promisify(execFile);
const composeFile = path.join(__dirname, '..', 'docker-compose.yml');

/** The compose command line available here: Compose v2 as a docker plugin, else the standalone v1 binary. */
function composeCommand(): string[] | undefined {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(candidate[0], [...candidate.slice(1), 'version'], { stdio: 'ignore' });
    if (!probe.error && probe.status === 0) return candidate;
  }
  return undefined;
}

const compose = composeCommand();

async function config(env: NodeJS.ProcessEnv): Promise<string> {
  const [command, ...prefix] = compose!;
  const { stdout } = await execFileAsync(command, [...prefix, '-f', composeFile, 'config'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 60_000,
  });
  return stdout;
}

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  privileged?: boolean;
  cap_add?: string[];
  secrets?: Array<string | { source: string }>;
  environment?: Record<string, string>;
  volumes?: Array<string | { source: string; target: string; read_only?: boolean }>;
}

/** Secret files as an operator makes them (docker-compose.yml reads them from SUMMIT_SECRETS_DIR). */
function secretsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'summit-compose-secrets-'));
  for (const name of ['db-password', 'temporal-db-password', 'payload-keys', 'grafana-admin-password', 'enrol-avalanche-1', 'enrol-avalanche-2']) {
    writeFileSync(join(dir, name), 'test-only\n', { mode: 0o600 });
  }
  return dir;
}

const mounts = (s: ComposeService) => (s.volumes ?? []).map((v) => typeof v === 'string' ? v : `${v.source}:${v.target}${v.read_only ? ':ro' : ''}`);

describeWhenAvailable(
  compose ? undefined : 'neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)',
  'docker-compose.yml',
  () => {
    it('validates, with the database, Temporal, the four Summit roles, two builders and Prometheus as services', async () => {
      const dir = secretsDir();
      const rendered = parse(await config({ SUMMIT_SECRETS_DIR: dir })) as { services: Record<string, ComposeService> };
      rmSync(dir, { recursive: true, force: true });
      const services = rendered.services;
      expect(Object.keys(services)).toEqual(expect.arrayContaining(
        ['postgresql', 'temporal', 'temporal-ui', 'api', 'summit', 'vessel', 'avalanche-1', 'avalanche-2', 'prometheus']));

      // Every image is one scripts/images.sh builds here: nothing is pulled from a registry.
      for (const [name, service] of Object.entries(services)) {
        if (name === 'grafana') continue;
        expect(service.image).toMatch(/^summit(-[a-z]+)*:/);
      }
      expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
      for (const role of ['api', 'summit', 'vessel', 'avalanche-1', 'avalanche-2']) {
        expect(services[role].image).toBe('summit:local');
        expect(services[role].environment?.SUMMIT_TEMPORAL_ADDRESS).toBe('temporal:7233');
        expect(services[role].environment?.SUMMIT_PAYLOAD_KEY_FILE).toBe('/run/secrets/payload-keys');
      }
      expect(services.api.command).toEqual(['api']);
      // Builders: the capabilities nspawn needs, not privileged; each its own volume, readable by the API (logs).
      for (const builder of ['avalanche-1', 'avalanche-2']) {
        expect(services[builder].privileged).toBeFalsy();
        expect([...(services[builder].cap_add ?? [])].sort()).toEqual(['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE']);
        expect(services[builder].environment?.SUMMIT_DATA_DIR).toBe(`/srv/${builder}`);
        expect(mounts(services.api).some((m) => m.endsWith(`:/srv/${builder}:ro`))).toBe(true);
        // Vessel, summit and the API reach each builder's server only because the list names it.
        const publicUrl = services[builder].environment?.SUMMIT_AVALANCHE_PUBLIC_URL ?? '';
        for (const role of ['api', 'summit', 'vessel']) {
          expect(ArtefactOrigins.parse(services[role].environment?.SUMMIT_ARTEFACT_ORIGINS).problem(publicUrl)).toBeUndefined();
        }
      }
      expect(ArtefactOrigins.parse(services.vessel.environment?.SUMMIT_ARTEFACT_ORIGINS).restricted).toBe(true);
    });

    it('has no secret in it: passwords and keys come from files', async () => {
      const text = readFileSync(composeFile, 'utf8');
      expect(text).not.toMatch(/PASSWORD:\s*\S/);
      expect(text).not.toMatch(/SUMMIT_PAYLOAD_KEYS:/);
      const dir = secretsDir();
      const rendered = parse(await config({ SUMMIT_SECRETS_DIR: dir })) as { secrets: Record<string, { file: string }> };
      rmSync(dir, { recursive: true, force: true });
      for (const name of ['db-password', 'temporal-db-password', 'payload-keys']) expect(rendered.secrets[name].file).toBe(join(dir, name));
    });
  },
);

// The production Temporal registers the build search attributes itself at start (docker/temporal/entrypoint.sh):
// the list there must be the contract's, or a build with an attribute it lacks fails to start in the stack only.
it('the Temporal image registers every build search attribute of the contract', () => {
  const entrypoint = readFileSync(path.join(__dirname, '..', 'docker', 'temporal', 'entrypoint.sh'), 'utf8');
  const list = /SEARCH_ATTRIBUTES=\$\{TEMPORAL_SEARCH_ATTRIBUTES:-([^}]*)\}/.exec(entrypoint)?.[1];
  expect(list).toBeDefined();
  const registered = Object.fromEntries(list!.trim().split(/\s+/).map((pair) => pair.split('=')));
  expect(registered).toEqual({ ...BUILD_SEARCH_ATTRIBUTES });
});
