/**
 * The stack's own Redis (Debian's redis-server, installed by infra/scripts/system-packages.sh)
 * for what workers share: circuit breakers, rate limits, model performance history, the
 * response cache and the token streams. Append-only persistence under .data/redis.
 */
import { startProcess, tcpOpen, waitFor, type ServiceProcess } from './processes';

export interface RedisServerOptions {
  port: number;
  dataDir: string;
  logDir: string;
  pidDir?: string;
  detached?: boolean;
}

export async function startRedisServer(options: RedisServerOptions): Promise<ServiceProcess> {
  const server = startProcess({
    name: 'redis',
    command: 'redis-server',
    args: [
      ...['--port', String(options.port), '--bind', '127.0.0.1'],
      ...['--dir', options.dataDir, '--appendonly', 'yes', '--save', ''],
    ],
    logDir: options.logDir,
    ...(options.pidDir ? { pidDir: options.pidDir } : {}),
    ...(options.detached !== undefined ? { detached: options.detached } : {}),
  });
  await waitFor(`redis-server on ${options.port}`, () => tcpOpen('127.0.0.1', options.port), {
    timeoutMs: 15_000,
    process: server,
  });
  return server;
}
