/**
 * Profiling aid for the orchestration cost (issue 17): starts the bench environment, runs a
 * load of 1-step sessions (20 in flight) and of sequential N-step sessions, then prints the
 * history of one session of each length by event type, and the activations it took (one per
 * workflow task, plus one per local-activity result resolved inside a task). With
 * `BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` the worker writes a CPU profile
 * when it stops; `bench/tools/profile-summary.ts DIR/*.cpuprofile` summarises it.
 *   node --import tsx bench/tools/session-profile.ts [--raw]
 */
import { parseArgs } from 'node:util';
import { runClosedLoop } from '../core/schedule';
import { startBenchEnvironment } from '../env/bench-env';
import { runRaw, runSession } from '../workloads/workloads';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      raw: { type: 'boolean', default: false },
      sessions: { type: 'string', default: '300' },
      long: { type: 'string', default: '25' },
    },
  });
  const run = values.raw ? runRaw : runSession;
  const environment = await startBenchEnvironment({ log: (message) => console.log(message) });
  const { context } = environment;
  try {
    await runClosedLoop(40, 20, async () => void (await run(context, 1)));
    const started = performance.now();
    await runClosedLoop(Number(values.sessions), 20, async () => void (await run(context, 1)));
    const elapsed = performance.now() - started;
    console.log(`${values.sessions} 1-step workflows: ${(elapsed / 1000).toFixed(1)} s`);
    for (let index = 0; index < 20; index += 1) await run(context, Number(values.long));
    for (const steps of [1, 5]) {
      const workflowId = await run(context, steps);
      const counts = new Map<string, number>();
      let localActivities = 0;
      const history = await context.client.workflow.getHandle(workflowId).fetchHistory();
      for (const event of history.events ?? []) {
        const type = Object.keys(event).find(
          (key) => key.endsWith('EventAttributes') && (event as Record<string, unknown>)[key],
        );
        const name = type?.replace(/EventAttributes$/, '') ?? 'unknown';
        counts.set(name, (counts.get(name) ?? 0) + 1);
        if (name === 'markerRecorded') {
          const marker = event.markerRecordedEventAttributes?.markerName;
          if (marker === 'core_local_activity') localActivities += 1;
        }
      }
      const tasks = counts.get('workflowTaskCompleted') ?? 0;
      console.log(
        `${steps}-step ${values.raw ? 'raw' : 'session'}: ${JSON.stringify(Object.fromEntries(counts))}`,
      );
      console.log(
        `  events ${[...counts.values()].reduce((a, b) => a + b, 0)}, workflow tasks ${tasks}, local activities ${localActivities}, activations ≈ ${tasks + localActivities}`,
      );
    }
  } finally {
    await environment.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
