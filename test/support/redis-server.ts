/**
 * A private Redis server for one test file (Debian's redis-server, installed by
 * infra/scripts/system-packages.sh): its own port, no persistence, stopped by `close()`.
 * Tests never touch the machine's shared Redis.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startProcess, stopPid, tcpOpen, waitFor } from '../../infra/stack/processes';

export interface TestRedis {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `port` restarts a stopped server on the port its clients still reconnect to. */
export async function startTestRedis(logDir?: string, onPort?: number): Promise<TestRedis> {
  const port = onPort ?? (await freePort());
  const server = startProcess({
    name: `redis-${port}`,
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    logDir: logDir ?? mkdtempSync(path.join(os.tmpdir(), 'tdev-redis-')),
  });
  await waitFor(`redis-server on ${port}`, () => tcpOpen('127.0.0.1', port), {
    timeoutMs: 15_000,
    process: server,
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    close: () => stopPid(server.pid, 5000),
  };
}
