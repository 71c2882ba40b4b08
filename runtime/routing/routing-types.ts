/**
 * The router's inputs and outputs: plain data, so a decision can be logged, recorded as a
 * metric or returned from an activity as it is.
 */

/** Load of one task queue (activity side, where agent steps run). */
export interface QueueLoad {
  /** Tasks waiting for a worker (Temporal's approximate backlog count). */
  readonly backlog: number;
  /** Workers polling the queue recently. */
  readonly pollers: number;
}

/** Outcomes of an agent's recent steps. */
export interface AgentHistory {
  /** Succeeded / finished, 0–1. */
  readonly successRate: number;
  /** Median step latency in milliseconds. */
  readonly p50LatencyMs: number;
  /** Finished steps behind the numbers; few samples count less (see scoring). */
  readonly samples?: number;
}

/**
 * What the router knows about the platform right now. Every map is optional and every entry
 * may be missing: the router then scores that part neutrally instead of guessing.
 */
export interface RoutingSnapshot {
  /** By task queue name; a missing queue means its load is unknown. */
  readonly queues?: ReadonlyMap<string, QueueLoad>;
  /** Agent steps running now, by agent name (compared with the agent's maxConcurrency). */
  readonly inFlight?: ReadonlyMap<string, number>;
  /** By agent name. */
  readonly history?: ReadonlyMap<string, AgentHistory>;
}

/** What one step needs. At least one of `agent` and `capabilities`. */
export interface RouteRequest {
  /** The agent the plan names; it is used unless unknown or disabled (then no route). */
  readonly agent?: string;
  /** Capabilities the agent must all have; with `agent`, checked against that agent. */
  readonly capabilities?: readonly string[];
}

/** Score of one candidate agent: the weighted total and its parts, each 0–1. */
export interface ScoreBreakdown {
  readonly total: number;
  readonly capability: number;
  readonly load: number;
  readonly success: number;
  readonly latency: number;
}

export interface RouteAlternative {
  readonly agent: string;
  readonly taskQueue: string;
  readonly score: number;
}

export interface RouteDecision {
  readonly ok: true;
  readonly agent: string;
  readonly agentVersion: number;
  readonly taskQueue: string;
  readonly score: ScoreBreakdown;
  /** One line for logs and the plan's explanation. */
  readonly reasoning: string;
  /** Other agents that could take the step, best first. */
  readonly alternatives: readonly RouteAlternative[];
}

export type RouteRejectionReason =
  'unknown-agent' | 'disabled-agent' | 'missing-capability' | 'no-capable-agent' | 'empty-request';

/** No agent may take the step. `alternatives` lists enabled agents that could, if any. */
export interface RouteRejection {
  readonly ok: false;
  readonly reason: RouteRejectionReason;
  readonly reasoning: string;
  readonly alternatives: readonly RouteAlternative[];
}

export type RouteResult = RouteDecision | RouteRejection;
