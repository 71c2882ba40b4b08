/**
 * The activity-side helper: times routing decisions, counts step outcomes, keeps the agents'
 * in-flight steps (utilisation gauge) and a short outcome history per agent, and hands the
 * last two to the router as a RoutingSnapshot. In memory, per worker process; nothing here
 * does I/O.
 */
import type { Router } from '../routing/router';
import type {
  AgentHistory,
  QueueLoad,
  RouteRequest,
  RouteResult,
  RoutingSnapshot,
} from '../routing/routing-types';
import type { RoutingMetrics, StepOutcome } from './routing-metrics';

export interface StepRecorderOptions {
  metrics: RoutingMetrics;
  /** Finished steps remembered per agent for success rate and p50; 100 unless set. */
  historySize?: number;
  /** Milliseconds clock for step durations; `performance.now` unless set. */
  now?: () => number;
}

export interface StepRecorder {
  /** Routes with `router`, records the decision time and outcome, and returns the result. */
  route(router: Router, request: RouteRequest, snapshot?: RoutingSnapshot): RouteResult;
  /** Records a decision made elsewhere; `seconds` is how long it took. */
  recordDecision(result: RouteResult, seconds: number): void;
  /**
   * Counts a step of `agent` as in flight; call the returned function exactly once when it
   * ends. Later calls of it are ignored.
   */
  stepStarted(agent: string, maxConcurrency: number): (outcome: StepOutcome) => void;
  /** In-flight steps and history of this process, plus `queues` when given, for the router. */
  snapshot(queues?: ReadonlyMap<string, QueueLoad>): RoutingSnapshot;
}

interface Outcomes {
  succeeded: boolean[];
  durationsMs: number[];
  next: number;
}

export function createStepRecorder(options: StepRecorderOptions): StepRecorder {
  const { metrics } = options;
  const historySize = options.historySize ?? 100;
  const now = options.now ?? (() => performance.now());
  const inFlight = new Map<string, number>();
  const outcomes = new Map<string, Outcomes>();
  let history: Map<string, AgentHistory> | undefined;

  const recordDecision = (result: RouteResult, seconds: number): void => {
    const outcome = result.ok ? 'routed' : result.reason;
    metrics.decisionSeconds.observe({ outcome: result.ok ? 'routed' : 'rejected' }, seconds);
    metrics.decisions.inc({ agent: result.ok ? result.agent : 'none', outcome });
  };

  const remember = (agent: string, succeeded: boolean, durationMs: number): void => {
    let entry = outcomes.get(agent);
    if (!entry) {
      entry = { succeeded: [], durationsMs: [], next: 0 };
      outcomes.set(agent, entry);
    }
    entry.succeeded[entry.next] = succeeded;
    entry.durationsMs[entry.next] = durationMs;
    entry.next = (entry.next + 1) % historySize;
    history = undefined;
  };

  const currentHistory = (): Map<string, AgentHistory> => {
    if (history) return history;
    history = new Map();
    for (const [agent, entry] of outcomes) {
      const durations = [...entry.durationsMs].sort((left, right) => left - right);
      history.set(agent, {
        successRate: entry.succeeded.filter(Boolean).length / entry.succeeded.length,
        p50LatencyMs: durations[Math.floor((durations.length - 1) / 2)] ?? 0,
        samples: entry.succeeded.length,
      });
    }
    return history;
  };

  return {
    route(router, request, snapshot) {
      const started = process.hrtime.bigint();
      const result = router.route(request, snapshot);
      recordDecision(result, Number(process.hrtime.bigint() - started) / 1e9);
      return result;
    },
    recordDecision,
    stepStarted(agent, maxConcurrency) {
      const started = now();
      const running = (inFlight.get(agent) ?? 0) + 1;
      inFlight.set(agent, running);
      metrics.agentUtilisation.set({ agent }, running / Math.max(1, maxConcurrency));
      let finished = false;
      return (outcome) => {
        if (finished) return;
        finished = true;
        const left = Math.max(0, (inFlight.get(agent) ?? 1) - 1);
        if (left === 0) inFlight.delete(agent);
        else inFlight.set(agent, left);
        metrics.agentUtilisation.set({ agent }, left / Math.max(1, maxConcurrency));
        metrics.stepOutcomes.inc({ agent, outcome });
        if (outcome !== 'cancelled') remember(agent, outcome === 'succeeded', now() - started);
      };
    },
    snapshot(queues) {
      return { inFlight, history: currentHistory(), ...(queues ? { queues } : {}) };
    },
  };
}
