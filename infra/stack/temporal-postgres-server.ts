/**
 * The standalone Temporal server (infra/temporal/install.sh --with-server) on PostgreSQL, for
 * tests and drills that need the production-like persistence: fresh databases per run
 * (created, schema applied, dropped again), every server port chosen free, the namespace and
 * the platform's search attributes registered. The same steps as
 * infra/temporal/postgres/start-server.sh, as functions a test can call (and restart).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection, type TLSConfig } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../core/names';
import { REPO_ROOT, toolPath } from './paths';
import { startProcess, waitFor, type ServiceProcess } from './processes';
import { temporalReady } from './temporal-dev-server';

const run = promisify(execFile);

/** Where PostgreSQL is: the same environment variables start-server.sh reads. */
export interface PostgresEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function postgresEndpoint(env: NodeJS.ProcessEnv = process.env): PostgresEndpoint {
  return {
    host: env.TEMPORAL_DB_HOST ?? '127.0.0.1',
    port: Number(env.TEMPORAL_DB_PORT ?? 5432),
    user: env.TEMPORAL_DB_USER ?? 'postgres',
    password: env.TEMPORAL_DB_PASSWORD ?? '',
  };
}

/** The two databases one server uses. */
export interface TemporalDatabases {
  main: string;
  visibility: string;
}

/** Environment for the PostgreSQL command-line tools (psql, pg_dump, createdb, dropdb). */
export function postgresToolEnv(endpoint: PostgresEndpoint): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: endpoint.host,
    PGPORT: String(endpoint.port),
    PGUSER: endpoint.user,
    ...(endpoint.password ? { PGPASSWORD: endpoint.password } : {}),
  };
}

async function sqlTool(endpoint: PostgresEndpoint, args: string[]): Promise<void> {
  const base = ['--plugin', 'postgres12', '--ep', endpoint.host, '-p', String(endpoint.port)];
  base.push('-u', endpoint.user, '--pw', endpoint.password);
  try {
    await run(toolPath('temporal-sql-tool'), [...base, ...args], { maxBuffer: 16 << 20 });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string };
    throw new Error(
      `temporal-sql-tool ${args.join(' ')} failed:\n${output.stderr ?? ''}${output.stdout ?? ''}`,
      { cause: error },
    );
  }
}

/** The schema files of the pinned server module (downloaded by the server's build). */
async function schemaDirectory(): Promise<string> {
  const { stdout } = await run(
    'bash',
    [
      '-c',
      'source infra/temporal/versions.env && go mod download -json "go.temporal.io/server@$TEMPORAL_SERVER_VERSION"',
    ],
    { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
  );
  const { Dir } = JSON.parse(stdout) as { Dir?: string };
  const schemas = path.join(Dir ?? '', 'schema', 'postgresql', 'v12');
  if (!Dir || !existsSync(schemas))
    throw new Error(`schema files of the pinned Temporal server not found (module dir '${Dir}')`);
  return schemas;
}

/**
 * Creates the databases `<name>` and `<name>_visibility` and applies the pinned server's newest
 * schema to each. Fails if a database of that name already exists (a run never reuses one).
 */
export async function createTemporalDatabases(
  name: string,
  endpoint: PostgresEndpoint = postgresEndpoint(),
): Promise<TemporalDatabases> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`database name '${name}' must match [a-z_][a-z0-9_]*`);
  const databases = { main: name, visibility: `${name}_visibility` };
  const schemas = await schemaDirectory();
  const env = postgresToolEnv(endpoint);
  for (const [database, schema] of [
    [databases.main, 'temporal'],
    [databases.visibility, 'visibility'],
  ] as const) {
    await run('createdb', [database], { env });
    await sqlTool(endpoint, ['--db', database, 'setup-schema', '-v', '0.0']);
    await sqlTool(endpoint, [
      '--db',
      database,
      'update-schema',
      '-d',
      path.join(schemas, schema, 'versioned'),
    ]);
  }
  return databases;
}

/** `pg_dump --format=custom` of one database into `file` (consistent snapshot; online). */
export async function dumpDatabase(
  database: string,
  file: string,
  endpoint: PostgresEndpoint = postgresEndpoint(),
): Promise<void> {
  await run('pg_dump', ['--format=custom', '--file', file, database], {
    env: postgresToolEnv(endpoint),
  });
}

/**
 * Restores a `pg_dump --format=custom` file of a Temporal database into a new database `name`.
 * The server checks its schema version in a row keyed by the database name (`schema_version`),
 * so under another name than the dumped one that row is renamed too; without it the server
 * exits with "unable to read DB schema version".
 */
export async function restoreTemporalDatabase(
  file: string,
  name: string,
  endpoint: PostgresEndpoint = postgresEndpoint(),
): Promise<void> {
  const env = postgresToolEnv(endpoint);
  await run('createdb', [name], { env });
  await run('pg_restore', ['--no-owner', '--exit-on-error', '--dbname', name, file], { env });
  await run(
    'psql',
    [
      '-v',
      'ON_ERROR_STOP=1',
      '-q',
      '-d',
      name,
      '-c',
      'UPDATE schema_version SET db_name = current_database()',
    ],
    { env },
  );
}

/** Drops the databases (force: a killed server may leave connections behind). */
export async function dropDatabases(
  names: string[],
  endpoint: PostgresEndpoint = postgresEndpoint(),
): Promise<void> {
  const env = postgresToolEnv(endpoint);
  for (const name of names) await run('dropdb', ['--if-exists', '--force', name], { env });
}

/** The ports one server listens on; keep them to restart the server on the same address. */
export interface TemporalPostgresPorts {
  frontend: number;
  http: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  metrics: number;
}

/**
 * Ten free ports for one server. All below 32768: the server stores its membership ports in a
 * PostgreSQL smallint column (cluster_membership.rpc_port), so the OS's ephemeral ports
 * (32768 and up) make it exit at start.
 */
export async function freeTemporalPorts(): Promise<TemporalPostgresPorts> {
  const ports: number[] = [];
  while (ports.length < 10) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!ports.includes(port) && (await canListen(port))) ports.push(port);
  }
  const [frontend, http, history, matching, worker, ...rest] = ports as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [frontendMembership, historyMembership, matchingMembership, workerMembership, metrics] =
    rest;
  return {
    frontend,
    http,
    history,
    matching,
    worker,
    frontendMembership,
    historyMembership,
    matchingMembership,
    workerMembership,
    metrics,
  };
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface TemporalPostgresServerOptions {
  databases: TemporalDatabases;
  ports: TemporalPostgresPorts;
  namespace: string;
  logDir: string;
  name?: string;
  endpoint?: PostgresEndpoint;
  /** Extra environment for the server (e.g. TLS settings of a config file). */
  env?: NodeJS.ProcessEnv;
  /** Another server config file (default infra/temporal/postgres/temporal-server.yaml). */
  configFile?: string;
  /**
   * How this module's readiness checks and registrations reach a frontend that requires
   * (m)TLS: the client's TLS options and the same files for the `temporal` CLI.
   */
  tls?: {
    connection: TLSConfig;
    caFile: string;
    certFile: string;
    keyFile: string;
    serverName: string;
  };
}

export interface TemporalPostgresServer extends ServiceProcess {
  address: string;
}

/**
 * Starts temporal-server on the databases and resolves once the namespace exists, the platform's
 * search attributes are registered and a visibility query using them answers. Safe to call again
 * on the same databases after a crash (the namespace is then already there).
 */
export async function startTemporalPostgresServer(
  options: TemporalPostgresServerOptions,
): Promise<TemporalPostgresServer> {
  const endpoint = options.endpoint ?? postgresEndpoint();
  const { ports } = options;
  const here = path.join(REPO_ROOT, 'infra', 'temporal', 'postgres');
  const server = startProcess({
    name: options.name ?? `temporal-pg-${ports.frontend}`,
    command: toolPath('temporal-server'),
    args: [
      '--config-file',
      options.configFile ?? path.join(here, 'temporal-server.yaml'),
      '--allow-no-auth',
      'start',
    ],
    cwd: REPO_ROOT,
    env: {
      TEMPORAL_PG_LOG_LEVEL: 'warn',
      TEMPORAL_PG_PORT: String(ports.frontend),
      TEMPORAL_PG_HTTP_PORT: String(ports.http),
      TEMPORAL_PG_HISTORY_PORT: String(ports.history),
      TEMPORAL_PG_MATCHING_PORT: String(ports.matching),
      TEMPORAL_PG_WORKER_PORT: String(ports.worker),
      TEMPORAL_PG_FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
      TEMPORAL_PG_HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
      TEMPORAL_PG_MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
      TEMPORAL_PG_WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
      TEMPORAL_PG_METRICS_PORT: String(ports.metrics),
      TEMPORAL_PG_DYNAMIC_CONFIG: path.join(here, 'dynamicconfig.yaml'),
      TEMPORAL_DB_HOST: endpoint.host,
      TEMPORAL_DB_PORT: String(endpoint.port),
      TEMPORAL_DB_USER: endpoint.user,
      TEMPORAL_DB_PASSWORD: endpoint.password,
      TEMPORAL_DB_NAME: options.databases.main,
      TEMPORAL_VISIBILITY_DB_NAME: options.databases.visibility,
      ...options.env,
    },
    logDir: options.logDir,
  });
  const address = `127.0.0.1:${ports.frontend}`;
  const { tls } = options;
  const tlsArgs = tls
    ? [
        '--tls-ca-path',
        tls.caFile,
        '--tls-cert-path',
        tls.certFile,
        '--tls-key-path',
        tls.keyFile,
        '--tls-server-name',
        tls.serverName,
      ]
    : [];
  const cli = (args: string[]) =>
    run(toolPath('temporal'), [...args, '--address', address, ...tlsArgs], {
      maxBuffer: 16 << 20,
    });
  const { namespace } = options;
  await waitFor(
    `temporal-server at ${address}`,
    async () => {
      await cli(['operator', 'cluster', 'health']);
      return true;
    },
    { timeoutMs: 120_000, process: server },
  );
  await waitFor(
    `namespace ${namespace}`,
    async () => {
      const exists = await cli([
        'operator',
        'namespace',
        'describe',
        '--namespace',
        namespace,
      ]).then(
        () => true,
        () => false,
      );
      if (!exists)
        await cli([
          'operator',
          'namespace',
          'create',
          '--namespace',
          namespace,
          '--retention',
          '72h',
        ]);
      return exists;
    },
    { timeoutMs: 60_000, process: server },
  );
  const attributeFlags = SEARCH_ATTRIBUTE_REGISTRATIONS.flatMap((registration) => {
    const [name = '', type = ''] = registration.split('=');
    return ['--name', name, '--type', type];
  });
  await waitFor(
    'search attributes',
    async () => {
      if (!(await temporalReady(address, namespace, tls?.connection)))
        await cli([
          'operator',
          'search-attribute',
          'create',
          '--namespace',
          namespace,
          ...attributeFlags,
        ]);
      return temporalReady(address, namespace, tls?.connection);
    },
    { timeoutMs: 60_000, process: server },
  );
  // The frontend learns new attributes when its namespace cache refreshes (about 10 s).
  const probe = SEARCH_ATTRIBUTE_REGISTRATIONS.map(
    (registration) => `${registration.split('=')[0]} = '__probe__'`,
  ).join(' AND ');
  await waitFor(
    'search attributes to become queryable',
    async () => {
      const connection = await Connection.connect({
        address,
        connectTimeout: 1000,
        ...(tls ? { tls: tls.connection } : {}),
      });
      try {
        await connection.workflowService.listWorkflowExecutions({
          namespace,
          query: probe,
          pageSize: 1,
        });
        return true;
      } finally {
        await connection.close();
      }
    },
    { timeoutMs: 60_000, process: server },
  );
  return { ...server, address };
}
