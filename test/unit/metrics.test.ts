import { createRouter } from '../../runtime/routing';
import {
  createMetricsRegistry,
  createRoutingMetrics,
  createStepRecorder,
  renderMetrics,
} from '../../runtime/metrics';
import type { TaskQueueLoad, TaskQueueLoadReader } from '../../runtime/temporal/task-queue-load';
import { BUILTIN_AGENTS } from '../../core/agents/builtin-agents';
import { startWorkerMetricsServer } from '../../workers/metrics-server';

const side = (pollers: number, backlog: number) => ({
  pollers,
  backlog,
  backlogAgeSeconds: 0,
  addRate: 0,
  dispatchRate: 0,
});

/** A reader with fixed answers; `hang` never answers (a Temporal that does not respond). */
function fixedReader(loads: TaskQueueLoad[], hang = false): TaskQueueLoadReader {
  const readMany = (queues: readonly string[]) =>
    hang
      ? new Promise<TaskQueueLoad[]>(() => {})
      : Promise.resolve(loads.filter((load) => queues.includes(load.taskQueue)));
  return {
    read: async (queue) => (await readMany([queue]))[0]!,
    readMany,
    peek: () => undefined,
    snapshot: async () => new Map(),
  };
}

describe('Prometheus exposition', () => {
  test('routing decisions, step outcomes and utilisation in the text format', async () => {
    const registry = createMetricsRegistry({ defaultLabels: { process: 'test' } });
    const recorder = createStepRecorder({ metrics: createRoutingMetrics(registry) });
    const router = createRouter(BUILTIN_AGENTS, { defaultTaskQueue: 'tdev-session' });
    recorder.route(router, { agent: 'code' });
    recorder.route(router, { agent: 'ghost' });
    const finishFirst = recorder.stepStarted('code', 4);
    const finishSecond = recorder.stepStarted('code', 4);
    recorder.stepStarted('design', 10);
    finishFirst('failed');
    finishFirst('failed'); // a second call is ignored
    finishSecond('succeeded');

    const { body, contentType } = await renderMetrics(registry);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(body).toContain('# TYPE tdev_routing_decision_seconds histogram');
    expect(body).toContain(
      'tdev_routing_decision_seconds_bucket{le="0.000001",process="test",outcome="routed"}',
    );
    expect(body).toContain(
      'tdev_routing_decision_seconds_bucket{le="+Inf",process="test",outcome="routed"} 1',
    );
    expect(body).toContain(
      'tdev_routing_decision_seconds_count{process="test",outcome="rejected"} 1',
    );
    expect(body).toContain(
      'tdev_routing_decisions_total{agent="code",outcome="routed",process="test"} 1',
    );
    expect(body).toContain(
      'tdev_routing_decisions_total{agent="none",outcome="unknown-agent",process="test"} 1',
    );
    expect(body).toContain('# TYPE tdev_agent_step_outcomes_total counter');
    expect(body).toContain(
      'tdev_agent_step_outcomes_total{agent="code",outcome="failed",process="test"} 1',
    );
    expect(body).toContain(
      'tdev_agent_step_outcomes_total{agent="code",outcome="succeeded",process="test"} 1',
    );
    expect(body).toContain('tdev_agent_utilisation_ratio{agent="code",process="test"} 0');
    expect(body).toContain('tdev_agent_utilisation_ratio{agent="design",process="test"} 0.1');
    // Default process metrics.
    expect(body).toContain('# TYPE process_cpu_seconds_total counter');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });

  test('the recorder hands in-flight steps and history to the router', () => {
    let clock = 0;
    const recorder = createStepRecorder({
      metrics: createRoutingMetrics(createMetricsRegistry({ defaultMetrics: false })),
      now: () => clock,
    });
    for (const [duration, outcome] of [
      [100, 'succeeded'],
      [300, 'failed'],
      [200, 'succeeded'],
    ] as const) {
      const finish = recorder.stepStarted('code', 10);
      clock += duration;
      finish(outcome);
    }
    recorder.stepStarted('code', 10);
    const snapshot = recorder.snapshot(new Map([['q', { backlog: 1, pollers: 1 }]]));
    expect(snapshot.inFlight?.get('code')).toBe(1);
    expect(snapshot.history?.get('code')).toEqual({
      successRate: 2 / 3,
      p50LatencyMs: 200,
      samples: 3,
    });
    expect(snapshot.queues?.get('q')).toEqual({ backlog: 1, pollers: 1 });
  });

  test('queue gauges are read on scrape; unknown queues report up 0', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    createRoutingMetrics(registry, {
      queueLoads: {
        reader: fixedReader([
          {
            status: 'known',
            taskQueue: 'tdev-session',
            workflow: side(2, 0),
            activity: side(3, 7),
            readAt: 0,
          },
          { status: 'unknown', taskQueue: 'pool-code', error: 'deadline', readAt: 0 },
        ]),
        taskQueues: () => ['tdev-session', 'pool-code'],
      },
    });
    const body = await registry.metrics();
    expect(body).toContain(
      'tdev_task_queue_backlog{task_queue="tdev-session",task_type="activity"} 7',
    );
    expect(body).toContain(
      'tdev_task_queue_pollers{task_queue="tdev-session",task_type="workflow"} 2',
    );
    expect(body).toContain('tdev_task_queue_up{task_queue="tdev-session"} 1');
    expect(body).toContain('tdev_task_queue_up{task_queue="pool-code"} 0');
    expect(body).not.toContain('tdev_task_queue_backlog{task_queue="pool-code"');
  });

  test('a scrape does not wait on a hanging Temporal longer than the collect timeout', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    createRoutingMetrics(registry, {
      queueLoads: { reader: fixedReader([], true), taskQueues: () => ['q'], timeoutMs: 100 },
    });
    const started = performance.now();
    const body = await registry.metrics();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(body).toContain('# TYPE tdev_task_queue_backlog gauge');
  });
});

describe('startWorkerMetricsServer', () => {
  test('/health: 200 only while every Temporal worker runs, each state in the body', async () => {
    const states: Record<string, string> = { session: 'RUNNING', media: 'RUNNING' };
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const server = await startWorkerMetricsServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      workerStates: () => states,
      sdkMetrics: () => Promise.reject(new Error('connection refused')),
    });
    const health = `http://127.0.0.1:${server.port}/health`;
    try {
      const ok = await fetch(health);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'ok', workers: states });
      states.media = 'DRAINING';
      const draining = await fetch(health);
      expect(draining.status).toBe(503);
      expect(await draining.json()).toEqual({ status: 'unavailable', workers: states });
      // An SDK exporter that does not answer leaves ours intact, with a comment saying so.
      const metrics = await fetch(server.url);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain(
        '# Temporal SDK metrics unavailable: connection refused',
      );
    } finally {
      await server.close();
    }
  });

  test('serves /metrics (and /health)', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    createRoutingMetrics(registry).stepOutcomes.inc({ agent: 'code', outcome: 'succeeded' });
    const server = await startWorkerMetricsServer({ port: 0, host: '127.0.0.1', registry });
    try {
      const response = await fetch(server.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(registry.contentType);
      expect(await response.text()).toContain(
        'tdev_agent_step_outcomes_total{agent="code",outcome="succeeded"} 1',
      );
      // No Temporal worker registered: not healthy.
      expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(503);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
