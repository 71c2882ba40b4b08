/**
 * `npm run bench`: starts its own Temporal dev server, dynalite, the bench worker process and
 * the API; runs every registered metric (ours against raw Temporal, side by side); prints a
 * table and writes bench/results/latest.json.
 *
 *   tsx bench/run.ts [--only per-step,throughput,http] [--out FILE] [--history FILE] [--keep]
 *                    [--stock-server]
 *
 * A full run (no `--only`) also appends its records to bench/results/history.jsonl (committed).
 *
 * `--keep` leaves the temporary directory (logs, Temporal SQLite file) for inspection;
 * `--stock-server` runs the dev server without the bench's dynamic config (see env/servers.ts).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { MetricResult } from './core/metric';
import { gitState, machineFacts } from './core/metadata';
import type { BenchRecord } from './core/records';
import { appendHistory, formatTable, writeResults, type BenchResults } from './core/report';
import { WORKER_SLOTS, startBenchEnvironment } from './env/bench-env';
import { SQLITE_PRAGMAS } from './env/servers';
import { temporalCliVersion, temporalSdkVersion } from './env/temporal-cli';
import { METRICS } from './metrics';

const DEFAULT_OUTPUT = path.join(__dirname, 'results', 'latest.json');
/** Committed: one JSON line per full run (see appendHistory). */
const DEFAULT_HISTORY = path.join(__dirname, 'results', 'history.jsonl');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      out: { type: 'string', default: DEFAULT_OUTPUT },
      keep: { type: 'boolean', default: false },
      'stock-server': { type: 'boolean', default: false },
      history: { type: 'string', default: DEFAULT_HISTORY },
    },
  });
  const wanted = values.only?.split(',').map((name) => name.trim());
  const unknown = wanted?.filter((name) => !METRICS.some((metric) => metric.name === name));
  if (unknown?.length) {
    throw new Error(
      `unknown metric(s): ${unknown.join(', ')}; known: ${METRICS.map((metric) => metric.name).join(', ')}`,
    );
  }
  const metrics = METRICS.filter((metric) => !wanted || wanted.includes(metric.name));

  const startedAt = new Date();
  const clock = performance.now();
  const log = (message: string): void =>
    console.log(
      `[bench ${((performance.now() - clock) / 1000).toFixed(1).padStart(5)} s] ${message}`,
    );
  const environment = await startBenchEnvironment({
    log,
    keepDir: values.keep,
    stockServer: values['stock-server'],
  });
  const records: BenchRecord[] = [];
  const parameters: Record<string, MetricResult['parameters']> = {};
  try {
    for (const metric of metrics) {
      log(`${metric.name}: ${metric.description}`);
      const result = await metric.run(environment.context);
      records.push(...result.records);
      parameters[metric.name] = result.parameters;
    }
  } finally {
    log('stopping servers ...');
    await environment.close();
    if (values.keep) log(`kept ${environment.dir}`);
  }

  const results: BenchResults = {
    metadata: {
      date: startedAt.toISOString(),
      durationSeconds: Math.round((performance.now() - clock) / 1000),
      ...machineFacts(),
      temporalCli: temporalCliVersion(),
      temporalSdk: temporalSdkVersion(),
      git: gitState(),
      server: {
        kind: 'temporal server start-dev (headless)',
        sqlitePragmas: SQLITE_PRAGMAS,
        dynamicConfig: environment.dynamicConfig,
        persistence: 'SQLite file in a temporary directory',
      },
      workerSlots: { ...WORKER_SLOTS },
      metrics: parameters,
    },
    records,
  };
  writeResults(values.out, results);
  // A full run (every metric) joins the committed history; a subset does not.
  if (!wanted) appendHistory(values.history, results);
  console.log(`\n${formatTable(records)}\n`);
  const misses = records.filter((record) => record.pass === false).length;
  console.log(
    `${records.filter((record) => record.pass === true).length} met, ${misses} missed; ` +
      `results in ${path.relative(process.cwd(), values.out)}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
