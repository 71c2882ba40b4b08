/**
 * The routing and load metrics (seed 1.3.4). Series and what to ask Prometheus:
 *
 * - `tdev_routing_decision_seconds{outcome}`: router decision time (histogram, µs buckets).
 * - `tdev_routing_decisions_total{agent,outcome}`: decisions per chosen agent (`rejected`
 *   decisions carry `agent="none"`).
 * - `tdev_task_queue_backlog{task_queue,task_type}`, `tdev_task_queue_pollers{...}`,
 *   `tdev_task_queue_up{task_queue}`: Temporal's view of each queue, read on scrape.
 * - `tdev_agent_utilisation_ratio{agent}`: in-flight steps / maxConcurrency in this process.
 * - `tdev_agent_step_outcomes_total{agent,outcome}`: finished steps. Error rate:
 *   `sum by (agent) (rate(tdev_agent_step_outcomes_total{outcome="failed"}[5m]))
 *    / sum by (agent) (rate(tdev_agent_step_outcomes_total[5m]))`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TaskQueueLoadReader } from '../temporal/task-queue-load';

export const DECISION_SECONDS_BUCKETS = [
  1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2,
] as const;

export type StepOutcome = 'succeeded' | 'failed' | 'cancelled';

export interface QueueLoadCollection {
  reader: TaskQueueLoadReader;
  /** The queues to report: the session queue and every agent pool queue. */
  taskQueues: () => readonly string[] | Promise<readonly string[]>;
  /** A scrape waits at most this long for Temporal; 1.5 s unless set. */
  timeoutMs?: number;
}

export interface RoutingMetricsOptions {
  /** Read queue gauges from Temporal on every scrape; without it they are set by the caller. */
  queueLoads?: QueueLoadCollection;
}

export function createRoutingMetrics(registry: Registry, options: RoutingMetricsOptions = {}) {
  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    const collection = options.queueLoads;
    if (!collection) return Promise.resolve();
    refreshing ??= collectQueueLoads(collection).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };
  const collect = options.queueLoads ? { collect: refresh } : {};

  const metrics = {
    decisionSeconds: new Histogram({
      name: 'tdev_routing_decision_seconds',
      help: 'Time the router took to choose agent, models and task queue for a step.',
      labelNames: ['outcome'] as const,
      buckets: [...DECISION_SECONDS_BUCKETS],
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'tdev_routing_decisions_total',
      help: 'Routing decisions by chosen agent and outcome (routed or the rejection reason).',
      labelNames: ['agent', 'outcome'] as const,
      registers: [registry],
    }),
    queueBacklog: new Gauge({
      name: 'tdev_task_queue_backlog',
      help: 'Approximate tasks waiting on a Temporal task queue.',
      labelNames: ['task_queue', 'task_type'] as const,
      registers: [registry],
      ...collect,
    }),
    queuePollers: new Gauge({
      name: 'tdev_task_queue_pollers',
      help: 'Workers recently polling a Temporal task queue.',
      labelNames: ['task_queue', 'task_type'] as const,
      registers: [registry],
      ...collect,
    }),
    queueUp: new Gauge({
      name: 'tdev_task_queue_up',
      help: '1 when the last read of the task queue from Temporal succeeded, else 0.',
      labelNames: ['task_queue'] as const,
      registers: [registry],
      ...collect,
    }),
    agentUtilisation: new Gauge({
      name: 'tdev_agent_utilisation_ratio',
      help: 'In-flight steps of an agent divided by its maxConcurrency (this process).',
      labelNames: ['agent'] as const,
      registers: [registry],
    }),
    stepOutcomes: new Counter({
      name: 'tdev_agent_step_outcomes_total',
      help: 'Finished agent steps by agent and outcome.',
      labelNames: ['agent', 'outcome'] as const,
      registers: [registry],
    }),
  };

  async function collectQueueLoads(collection: QueueLoadCollection): Promise<void> {
    const timeoutMs = collection.timeoutMs ?? 1_500;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      const loads = await Promise.race([
        Promise.resolve(collection.taskQueues()).then((queues) =>
          collection.reader.readMany(queues),
        ),
        timedOut,
      ]);
      if (!loads) return;
      metrics.queueBacklog.reset();
      metrics.queuePollers.reset();
      metrics.queueUp.reset();
      for (const load of loads) {
        metrics.queueUp.set({ task_queue: load.taskQueue }, load.status === 'known' ? 1 : 0);
        if (load.status !== 'known') continue;
        for (const [taskType, side] of [
          ['workflow', load.workflow],
          ['activity', load.activity],
        ] as const) {
          const labels = { task_queue: load.taskQueue, task_type: taskType };
          metrics.queueBacklog.set(labels, side.backlog);
          metrics.queuePollers.set(labels, side.pollers);
        }
      }
    } catch {
      // The queue list could not be read: keep the last values rather than fail the scrape.
    } finally {
      clearTimeout(timer);
    }
  }

  return metrics;
}

export type RoutingMetrics = ReturnType<typeof createRoutingMetrics>;
