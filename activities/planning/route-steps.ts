/**
 * Routing after planning (seed 1.3.1–1.3.2): each step's agent is checked by the router against
 * the registry, current load (task-queue backlog and pollers, in-flight steps) and recent
 * outcomes, and the step goes to its agent's pool (task queue) when the agent has one. The
 * decision time, outcome and utilisation are exported as Prometheus metrics.
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import type { Plan } from '../../core/plan';
import type { StepRecorder } from '../../runtime/metrics';
import { createRouter, type QueueLoad } from '../../runtime/routing';

export interface StepRouting {
  recorder: StepRecorder;
  /** The session queue: agents without their own pool run there. */
  defaultTaskQueue: string;
  /** Live queue load (cached); routing goes on without it when absent or failing. */
  queueLoads?: (queues: readonly string[]) => Promise<ReadonlyMap<string, QueueLoad>>;
}

/**
 * Returns the plan with each step's pool queue set (steps that name their own queue keep it).
 * Never throws for load problems: the plan was validated, so every agent is known and enabled.
 */
export async function routePlanSteps(
  plan: Plan,
  specs: readonly AgentSpec[],
  routing: StepRouting,
): Promise<Plan> {
  const router = createRouter(specs, { defaultTaskQueue: routing.defaultTaskQueue });
  const queues = [...new Set(specs.map((spec) => spec.taskQueue ?? routing.defaultTaskQueue))];
  const loads = await routing.queueLoads?.(queues).catch(() => undefined);
  const snapshot = routing.recorder.snapshot(loads ? new Map(loads) : undefined);
  const steps = plan.steps.map((step) => {
    const result = routing.recorder.route(router, { agent: step.agent }, snapshot);
    if (!result.ok || step.taskQueue || result.taskQueue === routing.defaultTaskQueue) return step;
    return { ...step, taskQueue: result.taskQueue };
  });
  return { ...plan, steps };
}
