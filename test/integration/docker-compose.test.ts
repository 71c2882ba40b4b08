/**
 * docker-compose.temporal.yml as Debian's docker-compose (v1.29) resolves it: the file must
 * validate, and the resolved config must give users what the file promises — Temporal on
 * PostgreSQL with the platform's search attributes (core/names.ts), the Web UI and admin tools
 * pointing at it, Redis, a DynamoDB-compatible store, and a worker and an API whose environment
 * passes the real config loaders (runtime/config.ts). No Docker engine is needed: only `config`.
 *
 * docker-compose v1 prints YAML; it is a Python program that depends on PyYAML, so its own
 * interpreter turns that YAML into JSON here and the test needs no YAML package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_NAMESPACE, SEARCH_ATTRIBUTE_REGISTRATIONS, TASK_QUEUES } from '../../core/names';
import { devKeyFiles } from '../../runtime/auth/dev-keys';
import { loadApiConfig, loadWorkerConfig } from '../../runtime/config';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.temporal.yml');
const COMPOSE_TEXT = readFileSync(COMPOSE_FILE, 'utf8');

type Environment = Record<string, string | null>;
type PortEntry = string | { published: number | string; target: number; host_ip?: string };

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Environment;
  ports?: PortEntry[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  secrets?: (string | { source: string; target?: string })[];
  volumes?: string[];
}

interface ComposeConfig {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
}

interface PublishedPort {
  hostIp: string | undefined;
  published: number;
  target: number;
}

/** Variables the compose file interpolates; removed from the environment unless a test sets them. */
const COMPOSE_VARIABLES = [...new Set([...COMPOSE_TEXT.matchAll(/\$\{(\w+)/g)].map((m) => m[1]!))];

function composeEnvironment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [...COMPOSE_VARIABLES, 'COMPOSE_FILE', 'COMPOSE_PROJECT_NAME']) {
    delete env[name];
  }
  return { ...env, ...overrides };
}

function dockerCompose(args: string[], overrides: Record<string, string> = {}) {
  return spawnSync('docker-compose', ['-f', COMPOSE_FILE, ...args], {
    cwd: REPO_ROOT,
    env: composeEnvironment(overrides),
    encoding: 'utf8',
  });
}

/** The interpreter of Debian's docker-compose script, which has PyYAML by dependency. */
function composePython(): string {
  const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  const script = which.stdout.trim();
  const shebang = script ? (readFileSync(script, 'utf8').split('\n')[0] ?? '') : '';
  const match = /^#!\s*(\S*python\S*)/.exec(shebang);
  return match?.[1] ?? 'python3';
}

/** `docker-compose config`, parsed; throws with docker-compose's own message when it fails. */
function resolvedConfig(overrides: Record<string, string> = {}): ComposeConfig {
  const result = dockerCompose(['config'], overrides);
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`docker-compose config exited ${result.status}:\n${result.stderr}`);
  }
  const json = spawnSync(
    composePython(),
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: result.stdout, encoding: 'utf8' },
  );
  if (json.status !== 0) throw new Error(`cannot parse docker-compose config:\n${json.stderr}`);
  return JSON.parse(json.stdout) as ComposeConfig;
}

function service(config: ComposeConfig, name: string): ComposeService {
  const found = config.services[name];
  if (!found) throw new Error(`service ${name} is missing`);
  return found;
}

/** A service's environment as the process sees it: pass-through variables unset on the host are absent. */
function environmentOf(entry: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(entry.environment ?? {}).filter(
      (pair): pair is [string, string] => pair[1] !== null,
    ),
  );
}

function publishedPorts(entry: ComposeService): PublishedPort[] {
  return (entry.ports ?? []).map((port) => {
    if (typeof port !== 'string') {
      return { hostIp: port.host_ip, published: Number(port.published), target: port.target };
    }
    const match = /^(?:([\d.]+):)?(\d+):(\d+)(?:\/\w+)?$/.exec(port);
    if (!match) throw new Error(`unexpected port entry ${port}`);
    return { hostIp: match[1], published: Number(match[2]), target: Number(match[3]) };
  });
}

function commandText(entry: ComposeService): string {
  return Array.isArray(entry.command) ? entry.command.join(' ') : (entry.command ?? '');
}

/** `host:port` of a URL or address, for "does it point at that service" checks. */
function hostAndPort(address: string): [string, number] {
  const url = new URL(address.includes('://') ? address : `grpc://${address}`);
  return [url.hostname, Number(url.port)];
}

const versionsEnv = readFileSync(path.join(REPO_ROOT, 'infra/temporal/versions.env'), 'utf8');
const PINNED_SERVER_VERSION = /^TEMPORAL_SERVER_VERSION=v(\S+)$/m.exec(versionsEnv)?.[1];

const REQUIRED_SERVICES = [
  'postgresql',
  'temporal-schema',
  'temporal',
  'temporal-setup',
  'temporal-admin-tools',
  'temporal-ui',
  'redis',
  'dynamodb',
  'dynamodb-tables',
  'worker',
  'api',
];

let config: ComposeConfig;

beforeAll(() => {
  const version = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    throw new Error(
      'docker-compose is not installed: run `bash infra/scripts/system-packages.sh` (Debian docker-compose)',
    );
  }
  config = resolvedConfig();
});

describe('docker-compose.temporal.yml', () => {
  test('validates with docker-compose config', () => {
    const result = dockerCompose(['config', '--quiet']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  test('has every service of the production-like stack', () => {
    expect(Object.keys(config.services).sort()).toEqual([...REQUIRED_SERVICES].sort());
  });

  test('pins every pulled image to an exact version, never latest', () => {
    for (const [name, entry] of Object.entries(config.services)) {
      if (entry.build) continue;
      expect({ name, image: entry.image }).toEqual({
        name,
        image: expect.stringMatching(/^[a-z0-9][a-z0-9./-]*:\d+\.\d+(\.\d+)?$/),
      });
    }
  });

  test('runs the Temporal server and tools of the release infra/temporal pins', () => {
    expect(PINNED_SERVER_VERSION).toBeDefined();
    expect(service(config, 'temporal').image).toBe(`temporalio/server:${PINNED_SERVER_VERSION}`);
    for (const name of ['temporal-schema', 'temporal-setup', 'temporal-admin-tools']) {
      expect(service(config, name).image).toBe(`temporalio/admin-tools:${PINNED_SERVER_VERSION}`);
    }
    expect(service(config, 'temporal-ui').image).toMatch(/^temporalio\/ui:/);
  });

  test('stores Temporal in the postgresql service, after its schemas are migrated', () => {
    const temporal = service(config, 'temporal');
    const database = environmentOf(service(config, 'postgresql'));
    const env = environmentOf(temporal);
    expect(env).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
      DB_PORT: '5432',
      POSTGRES_USER: database.POSTGRES_USER,
      POSTGRES_PWD: database.POSTGRES_PASSWORD,
    });
    expect(temporal.depends_on).toEqual({
      postgresql: { condition: 'service_healthy' },
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    const schemaJob = service(config, 'temporal-schema');
    expect(environmentOf(schemaJob)).toMatchObject({
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: 'postgresql',
      SQL_USER: database.POSTGRES_USER,
      SQL_PASSWORD: database.POSTGRES_PASSWORD,
    });
    const schema = commandText(schemaJob);
    for (const [databaseName, schemaDir] of [
      [env.DBNAME, 'temporal'],
      [env.VISIBILITY_DBNAME, 'visibility'],
    ]) {
      expect(schema).toContain(`--db ${databaseName} create-database`);
      expect(schema).toContain(`--db ${databaseName} setup-schema -v 0.0`);
      expect(schema).toMatch(
        new RegExp(`--db ${databaseName} update-schema -d "\\$+schema/${schemaDir}/versioned"`),
      );
    }
  });

  test('mounts a dynamic config file that exists in the repository', () => {
    const temporal = service(config, 'temporal');
    const target = environmentOf(temporal).DYNAMIC_CONFIG_FILE_PATH;
    const mount = (temporal.volumes ?? []).find((volume) => volume.split(':')[1] === target);
    expect(mount).toBeDefined();
    expect(existsSync(mount!.split(':')[0]!)).toBe(true);
  });

  test('registers the namespace and exactly the search attributes of core/names.ts', () => {
    const setup = service(config, 'temporal-setup');
    const script = commandText(setup);
    const registered = [...script.matchAll(/--name (\w+) --type (\w+)/g)].map(
      ([, name, type]) => `${name}=${type}`,
    );
    expect(registered.sort()).toEqual([...SEARCH_ATTRIBUTE_REGISTRATIONS].sort());
    expect(environmentOf(setup).TEMPORAL_NAMESPACE).toBe(DEFAULT_NAMESPACE);
    expect(script).toMatch(/temporal operator namespace create -n "\$+TEMPORAL_NAMESPACE"/);
    expect(setup.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
  });

  test('points the Web UI and the admin tools at the temporal service', () => {
    for (const name of ['temporal-ui', 'temporal-admin-tools']) {
      expect(environmentOf(service(config, name)).TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
    expect(publishedPorts(service(config, 'temporal'))).toContainEqual(
      expect.objectContaining({ target: 7233 }),
    );
  });

  test('publishes the documented ports on 127.0.0.1 only, and nothing of the data stores', () => {
    const ui = service(config, 'temporal-ui');
    expect(publishedPorts(service(config, 'temporal'))).toEqual([
      { hostIp: '127.0.0.1', published: 7233, target: 7233 },
    ]);
    expect(publishedPorts(ui)).toEqual([
      { hostIp: '127.0.0.1', published: 8233, target: Number(environmentOf(ui).TEMPORAL_UI_PORT) },
    ]);
    expect(publishedPorts(service(config, 'api'))).toEqual([
      { hostIp: '127.0.0.1', published: 8080, target: 8080 },
    ]);
    for (const name of ['postgresql', 'redis', 'dynamodb']) {
      expect({ name, ports: service(config, name).ports }).toEqual({ name, ports: undefined });
    }
  });

  test('moves the published ports and the Web UI links with TEMPORAL_PORT, TEMPORAL_UI_PORT, API_PORT', () => {
    const moved = resolvedConfig({
      TEMPORAL_PORT: '17233',
      TEMPORAL_UI_PORT: '18233',
      API_PORT: '18080',
    });
    expect(publishedPorts(service(moved, 'temporal'))[0]?.published).toBe(17233);
    expect(publishedPorts(service(moved, 'temporal-ui'))[0]?.published).toBe(18233);
    expect(publishedPorts(service(moved, 'api'))[0]).toEqual({
      hostIp: '127.0.0.1',
      published: 18080,
      target: 8080,
    });
    expect(environmentOf(service(moved, 'api')).TEMPORAL_UI_URL).toBe('http://localhost:18233');
    expect(environmentOf(service(moved, 'api')).API_PORT).toBe('8080');
  });

  test('gives the worker an environment that runtime/config.ts accepts, pointing at the stack', () => {
    const worker = service(config, 'worker');
    const loaded = loadWorkerConfig(environmentOf(worker));
    expect(hostAndPort(loaded.temporal.TEMPORAL_ADDRESS)).toEqual(['temporal', 7233]);
    expect(loaded.temporal.TEMPORAL_TASK_QUEUE).toBe(TASK_QUEUES.session);
    expect(loaded.temporal.TEMPORAL_NAMESPACE).toBe(DEFAULT_NAMESPACE);
    expect(hostAndPort(loaded.dynamo.DYNAMODB_ENDPOINT!)).toEqual(['dynamodb', 8000]);
    expect(loaded.worker.WORKFLOW_BUNDLE_PATH).toBe('/app/dist/workflow-bundle.js');
    expect(loaded.temporal.TEMPORAL_UI_URL).toBe('http://localhost:8233');
    // Breakers, limits, slots and change notices are shared through the stack's Redis.
    expect(hostAndPort(loaded.model.REDIS_URL!)).toEqual(['redis', 6379]);
    expect(commandText(worker)).toBe('node dist/workers/main.js');
    // Bedrock credentials pass through from the host; unset there, the offline provider runs.
    expect(worker.environment).toMatchObject({ AWS_ACCESS_KEY_ID: null });
  });

  test('gives the API an environment that runtime/config.ts accepts, with its key as a secret', () => {
    const api = service(config, 'api');
    const loaded = loadApiConfig(environmentOf(api));
    expect(hostAndPort(loaded.temporal.TEMPORAL_ADDRESS)).toEqual(['temporal', 7233]);
    expect(hostAndPort(loaded.dynamo.DYNAMODB_ENDPOINT!)).toEqual(['dynamodb', 8000]);
    expect(loaded.api.API_HOST).toBe('0.0.0.0');
    // Quotas, the deny list and change notices need the same Redis as the worker.
    expect(loaded.api.REDIS_URL).toBe(environmentOf(service(config, 'worker')).REDIS_URL);
    expect(publishedPorts(api)[0]?.target).toBe(loaded.api.API_PORT);
    expect(loaded.temporal.TEMPORAL_UI_URL).toBe(
      `http://localhost:${publishedPorts(service(config, 'temporal-ui'))[0]?.published}`,
    );
    expect(commandText(api)).toBe('node dist/api/main.js');

    const secretName = path.basename(loaded.auth.AUTH_PUBLIC_KEY_FILE ?? '');
    expect(loaded.auth.AUTH_PUBLIC_KEY_FILE).toBe(`/run/secrets/${secretName}`);
    expect(api.secrets).toContainEqual({ source: secretName });
    // By default the secret is the dev key that `npm start` creates (infra/stack).
    expect(config.secrets?.[secretName]?.file).toBe(
      devKeyFiles(path.join(REPO_ROOT, '.data', 'keys')).publicKeyFile,
    );
  });

  test('builds the worker, the API and the table job from the repository Dockerfile', () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    for (const name of ['worker', 'api', 'dynamodb-tables']) {
      const entry = service(config, name);
      expect(entry.build).toEqual({ context: REPO_ROOT, dockerfile: 'Dockerfile' });
      expect(entry.image).toBe(service(config, 'worker').image);
    }
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js/);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-[a-z]+-slim$/m);
    const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.data', 'node_modules', 'dist', '.tools']));
  });

  test('creates the DynamoDB tables before the worker and the API start', () => {
    const tables = service(config, 'dynamodb-tables');
    expect(commandText(tables)).toContain('ensureTables(client, config.DYNAMODB_TABLE_PREFIX)');
    expect(tables.depends_on).toEqual({ dynamodb: { condition: 'service_healthy' } });
    expect(environmentOf(tables).DYNAMODB_ENDPOINT).toBe(
      environmentOf(service(config, 'worker')).DYNAMODB_ENDPOINT,
    );
    for (const name of ['worker', 'api']) {
      expect(service(config, name).depends_on).toEqual({
        'temporal-setup': { condition: 'service_completed_successfully' },
        'dynamodb-tables': { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  test('waits only on services that define a healthcheck', () => {
    for (const [name, entry] of Object.entries(config.services)) {
      for (const [dependency, { condition }] of Object.entries(entry.depends_on ?? {})) {
        expect(config.services).toHaveProperty([dependency]);
        if (condition === 'service_healthy') {
          expect({
            name,
            dependency,
            healthcheck: Boolean(service(config, dependency).healthcheck),
          }).toEqual({ name, dependency, healthcheck: true });
        }
      }
    }
    for (const name of ['postgresql', 'temporal', 'redis', 'dynamodb', 'api']) {
      expect(service(config, name).healthcheck).toBeDefined();
    }
  });
});
