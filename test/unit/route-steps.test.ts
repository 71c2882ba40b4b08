import { routePlanSteps } from '../../activities/planning/route-steps';
import { BUILTIN_AGENTS } from '../../core/agents/builtin-agents';
import { PLAN_SCHEMA_VERSION, type Plan } from '../../core/plan';
import {
  createMetricsRegistry,
  createRoutingMetrics,
  createStepRecorder,
  renderMetrics,
} from '../../runtime/metrics';

const specs = BUILTIN_AGENTS.map((spec) =>
  spec.name === 'security' ? { ...spec, taskQueue: 'security-pool' } : spec,
);
const plan: Plan = {
  schemaVersion: PLAN_SCHEMA_VERSION,
  steps: [
    { id: 'code', agent: 'code', title: 'c', instruction: 'c', dependsOn: [] },
    { id: 'sec', agent: 'security', title: 's', instruction: 's', dependsOn: ['code'] },
    {
      id: 'own',
      agent: 'security',
      title: 'o',
      instruction: 'o',
      dependsOn: [],
      taskQueue: 'chosen-by-user',
    },
  ],
};

test('steps go to their agent pool; decisions and queue loads feed the metrics', async () => {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const recorder = createStepRecorder({ metrics: createRoutingMetrics(registry) });
  const asked: string[][] = [];
  const routed = await routePlanSteps(plan, specs, {
    recorder,
    defaultTaskQueue: 'sessions',
    queueLoads: async (queues) => {
      asked.push([...queues]);
      return new Map([['security-pool', { backlog: 3, pollers: 1 }]]);
    },
  });
  expect(routed.steps.map((step) => step.taskQueue)).toEqual([
    undefined,
    'security-pool',
    'chosen-by-user',
  ]);
  expect(asked[0]).toEqual(expect.arrayContaining(['sessions', 'security-pool']));
  const { body } = await renderMetrics(registry);
  expect(body).toContain('tdev_routing_decisions_total{agent="security",outcome="routed"} 2');
  expect(body).toContain('tdev_routing_decision_seconds_count{outcome="routed"} 3');
});

test('a failing load reader does not stop routing', async () => {
  const recorder = createStepRecorder({
    metrics: createRoutingMetrics(createMetricsRegistry({ defaultMetrics: false })),
  });
  const routed = await routePlanSteps(plan, specs, {
    recorder,
    defaultTaskQueue: 'sessions',
    queueLoads: () => Promise.reject(new Error('temporal down')),
  });
  expect(routed.steps[1]?.taskQueue).toBe('security-pool');
});
