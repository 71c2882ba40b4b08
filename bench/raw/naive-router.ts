/**
 * The baseline of the routing benchmark: the same selection and the same scores as
 * runtime/routing/router.ts, done the obvious way on every call — scan every agent, check
 * capabilities with `includes`, score and sort all candidates. No index, nothing
 * precomputed.
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import {
  capabilityScore,
  latencyScore,
  loadScore,
  successScore,
  weightedScore,
} from '../../runtime/routing/scoring';
import type { RouteRequest, RoutingSnapshot } from '../../runtime/routing';

export interface NaiveDecision {
  agent: string;
  taskQueue: string;
  score: number;
  alternatives: { agent: string; score: number }[];
}

export function naiveRoute(
  agents: readonly AgentSpec[],
  defaultTaskQueue: string,
  request: RouteRequest,
  snapshot: RoutingSnapshot,
): NaiveDecision | undefined {
  const needed = request.capabilities ?? [];
  const scored = agents
    .filter((agent) => agent.enabled)
    .filter((agent) => (request.agent ? agent.name === request.agent : true))
    .filter((agent) => needed.every((capability) => agent.capabilities.includes(capability)))
    .map((agent) => {
      const taskQueue = agent.taskQueue ?? defaultTaskQueue;
      const history = snapshot.history?.get(agent.name);
      return {
        agent,
        taskQueue,
        score: weightedScore(
          capabilityScore(request.agent ? 0 : needed.length, agent.capabilities.length),
          loadScore(
            snapshot.queues?.get(taskQueue),
            snapshot.inFlight?.get(agent.name),
            agent.maxConcurrency,
          ),
          successScore(history),
          latencyScore(history),
        ),
      };
    })
    .sort((left, right) => right.score - left.score);
  const chosen = scored[0];
  if (!chosen) return undefined;
  return {
    agent: chosen.agent.name,
    taskQueue: chosen.taskQueue,
    score: chosen.score,
    alternatives: scored.slice(1, 4).map((entry) => ({
      agent: entry.agent.name,
      score: entry.score,
    })),
  };
}
