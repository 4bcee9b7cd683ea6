/**
 * docker-compose.yml is valid and has the production shape. No Docker engine runs here, so the file is checked
 * with `docker compose config` (or the standalone `docker-compose config`), which parses, interpolates and
 * validates it offline.
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describeWhenAvailable } from './support/ci';

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
  environment?: Record<string, string>;
}

describeWhenAvailable(
  compose ? undefined : 'neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)',
  'docker-compose.yml',
  () => {
    it('validates, with the database, Temporal, its UI and the four Summit roles as services', async () => {
      const rendered = parse(await config({ SUMMIT_DB_PASSWORD: 'test-only-password', SUMMIT_PAYLOAD_KEYS: 'k1:dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LTMyYg==' })) as {
        services: Record<string, ComposeService>;
      };
      const services = rendered.services;
      expect(Object.keys(services)).toEqual(expect.arrayContaining(
        ['postgresql', 'temporal', 'temporal-ui', 'api', 'summit', 'vessel', 'avalanche']));

      expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
      expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
      for (const role of ['api', 'summit', 'vessel', 'avalanche']) {
        expect(services[role].build).toBeDefined();
        expect(services[role].command?.[0]).toBe('node');
        expect(services[role].environment?.SUMMIT_TEMPORAL_ADDRESS).toBe('temporal:7233');
      }
      expect(services.avalanche.privileged).toBe(true);
    });

    it('refuses to render without the database password, which has no default', async () => {
      await expect(config({})).rejects.toThrow(/SUMMIT_DB_PASSWORD/);
    });

    it('refuses to render without the payload keys, which have no default', async () => {
      await expect(config({ SUMMIT_DB_PASSWORD: 'test-only-password' })).rejects.toThrow(/SUMMIT_PAYLOAD_KEYS/);
    });
  },
);
