/** Starts the bench worker process (bench/worker/bench-worker.ts) and waits until it polls. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/stack/paths';
import { startProcess, waitFor, type ServiceProcess } from '../../infra/stack/processes';
import {
  BENCH_WORKER_CONFIG_ENV,
  BENCH_WORKER_READY,
  type BenchWorkerConfig,
} from '../worker/bench-worker-config';

/** Resolves once the process printed its ready line; fails with its log tail if it exits. */
export async function startWorkerProcess(
  config: BenchWorkerConfig,
  logDir: string,
): Promise<ServiceProcess> {
  const worker = startProcess({
    name: 'bench-worker',
    command: process.execPath,
    args: [
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` (bench/tools/session-profile.ts).
      ...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'bench', 'worker', 'bench-worker.ts'),
    ],
    cwd: REPO_ROOT,
    env: { [BENCH_WORKER_CONFIG_ENV]: JSON.stringify(config) },
    logDir,
  });
  await waitFor(
    'bench worker',
    async () => readFileSync(worker.logFile, 'utf8').includes(BENCH_WORKER_READY),
    { timeoutMs: 60_000, process: worker },
  );
  return worker;
}
