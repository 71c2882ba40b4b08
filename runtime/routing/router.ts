/**
 * The agent router: for one plan step, which agent runs it and on which task queue (the
 * order of its models is the model router's, models/registry/model-router.ts). Pure and
 * synchronous: the caller passes the load and history it has (see RoutingSnapshot); the
 * router never waits on Temporal or a store.
 *
 * `createRouter` indexes the agents once (capability → agents, each agent's peers), so
 * `route()` only looks things up and does arithmetic; rebuild the router when the agent
 * registry changes.
 *
 * Guarantees: an unknown or disabled agent is never chosen; a named agent is used as named
 * (the router does not swap it for a better-scoring one, it lists those as alternatives); for
 * a capability request only enabled agents with every capability are candidates.
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import type {
  RouteAlternative,
  RouteRejection,
  RouteRejectionReason,
  RouteRequest,
  RouteResult,
  RoutingSnapshot,
} from './routing-types';
import { capabilityScore, latencyScore, loadScore, successScore, weightedScore } from './scoring';

export interface RouterOptions {
  /** Queue of agents without their own pool (`taskQueue` unset): the session's queue. */
  defaultTaskQueue: string;
  /** Alternatives returned with a decision; 3 unless set. */
  maxAlternatives?: number;
}

export interface Router {
  route(request: RouteRequest, snapshot?: RoutingSnapshot): RouteResult;
}

interface AgentEntry {
  readonly name: string;
  readonly version: number;
  readonly enabled: boolean;
  readonly capabilities: ReadonlySet<string>;
  readonly maxConcurrency: number;
  readonly taskQueue: string;
  /** Enabled agents that could stand in: declared alternatives first, then capability peers. */
  peers: readonly AgentEntry[];
}

const EMPTY_SNAPSHOT: RoutingSnapshot = Object.freeze({});
const NO_ALTERNATIVES: readonly RouteAlternative[] = Object.freeze([]);

export function createRouter(agents: readonly AgentSpec[], options: RouterOptions): Router {
  const maxAlternatives = options.maxAlternatives ?? 3;
  const byName = new Map<string, AgentEntry>();
  for (const spec of agents) {
    byName.set(spec.name, {
      name: spec.name,
      version: spec.version,
      enabled: spec.enabled,
      capabilities: new Set(spec.capabilities),
      maxConcurrency: Math.max(1, spec.maxConcurrency),
      taskQueue: spec.taskQueue ?? options.defaultTaskQueue,
      peers: [],
    });
  }
  const byCapability = new Map<string, AgentEntry[]>();
  for (const entry of byName.values()) {
    if (!entry.enabled) continue;
    for (const capability of entry.capabilities) {
      const list = byCapability.get(capability) ?? [];
      list.push(entry);
      byCapability.set(capability, list);
    }
  }
  for (const spec of agents) {
    const entry = byName.get(spec.name)!;
    const peers: AgentEntry[] = [];
    for (const name of spec.alternatives) {
      const alternative = byName.get(name);
      if (alternative?.enabled && alternative !== entry && !peers.includes(alternative))
        peers.push(alternative);
    }
    for (const candidate of byName.values()) {
      if (candidate === entry || !candidate.enabled || peers.includes(candidate)) continue;
      if (coversAll(candidate, entry.capabilities)) peers.push(candidate);
    }
    entry.peers = Object.freeze(peers);
  }

  /** Weighted score of `entry` for a step that asked for `needed` capabilities. */
  const score = (entry: AgentEntry, needed: number, snapshot: RoutingSnapshot): number =>
    weightedScore(
      capabilityScore(needed, entry.capabilities.size),
      loadScore(
        snapshot.queues?.get(entry.taskQueue),
        snapshot.inFlight?.get(entry.name),
        entry.maxConcurrency,
      ),
      successScore(snapshot.history?.get(entry.name)),
      latencyScore(snapshot.history?.get(entry.name)),
    );

  /** The best `limit` of `candidates` that have every needed capability, best first. */
  const best = (
    candidates: readonly AgentEntry[],
    needed: readonly string[] | undefined,
    snapshot: RoutingSnapshot,
    limit: number,
  ): { entries: AgentEntry[]; scores: number[] } => {
    const entries: AgentEntry[] = [];
    const scores: number[] = [];
    for (const candidate of candidates) {
      if (needed && !hasAll(candidate, needed)) continue;
      const value = score(candidate, needed?.length ?? 0, snapshot);
      let position = entries.length;
      while (position > 0 && scores[position - 1]! < value) position -= 1;
      if (position >= limit) continue;
      entries.splice(position, 0, candidate);
      scores.splice(position, 0, value);
      if (entries.length > limit) {
        entries.pop();
        scores.pop();
      }
    }
    return { entries, scores };
  };

  const alternativesOf = (
    entries: readonly AgentEntry[],
    scores: readonly number[],
    from: number,
  ): readonly RouteAlternative[] => {
    if (entries.length <= from) return NO_ALTERNATIVES;
    const list: RouteAlternative[] = [];
    for (let index = from; index < entries.length; index += 1) {
      list.push({
        agent: entries[index]!.name,
        taskQueue: entries[index]!.taskQueue,
        score: round(scores[index]!),
      });
    }
    return list;
  };

  const capable = (needed: readonly string[]): readonly AgentEntry[] => {
    let smallest: readonly AgentEntry[] | undefined;
    for (const capability of needed) {
      const list = byCapability.get(capability);
      if (!list) return NO_ENTRIES;
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    return smallest ?? NO_ENTRIES;
  };

  const reject = (
    reason: RouteRejectionReason,
    reasoning: string,
    candidates: readonly AgentEntry[],
    needed: readonly string[] | undefined,
    snapshot: RoutingSnapshot,
  ): RouteRejection => {
    const top = best(candidates, needed, snapshot, maxAlternatives);
    return {
      ok: false,
      reason,
      reasoning,
      alternatives: alternativesOf(top.entries, top.scores, 0),
    };
  };

  const decide = (
    entry: AgentEntry,
    needed: number,
    how: string,
    snapshot: RoutingSnapshot,
    alternatives: readonly RouteAlternative[],
  ): RouteResult => {
    const history = snapshot.history?.get(entry.name);
    const queue = snapshot.queues?.get(entry.taskQueue);
    const capability = capabilityScore(needed, entry.capabilities.size);
    const load = loadScore(queue, snapshot.inFlight?.get(entry.name), entry.maxConcurrency);
    const success = successScore(history);
    const latency = latencyScore(history);
    const total = weightedScore(capability, load, success, latency);
    return {
      ok: true,
      agent: entry.name,
      agentVersion: entry.version,
      taskQueue: entry.taskQueue,
      score: {
        total: round(total),
        capability: round(capability),
        load: round(load),
        success: round(success),
        latency: round(latency),
      },
      reasoning:
        `${how}; score ${total.toFixed(2)} (capability ${capability.toFixed(2)}, load ` +
        `${load.toFixed(2)}, success ${success.toFixed(2)}, latency ${latency.toFixed(2)}); ` +
        `queue ${entry.taskQueue} ${queue ? `${queue.backlog} waiting/${queue.pollers} pollers` : 'load unknown'}`,
      alternatives,
    };
  };

  return {
    route(request, snapshot = EMPTY_SNAPSHOT) {
      const needed = request.capabilities?.length ? request.capabilities : undefined;
      if (request.agent !== undefined) {
        const entry = byName.get(request.agent);
        if (!entry) {
          return reject(
            'unknown-agent',
            `agent "${request.agent}" is not registered`,
            needed ? capable(needed) : NO_ENTRIES,
            needed,
            snapshot,
          );
        }
        if (!entry.enabled) {
          return reject(
            'disabled-agent',
            `agent "${entry.name}" is disabled`,
            entry.peers,
            needed,
            snapshot,
          );
        }
        if (needed && !hasAll(entry, needed)) {
          return reject(
            'missing-capability',
            `agent "${entry.name}" lacks ${needed.filter((capability) => !entry.capabilities.has(capability)).join(', ')}`,
            capable(needed),
            needed,
            snapshot,
          );
        }
        const top = best(entry.peers, needed, snapshot, maxAlternatives);
        return decide(
          entry,
          0,
          `agent "${entry.name}" as requested`,
          snapshot,
          alternativesOf(top.entries, top.scores, 0),
        );
      }
      if (!needed) {
        return reject(
          'empty-request',
          'the step names no agent and no capability',
          NO_ENTRIES,
          undefined,
          snapshot,
        );
      }
      const top = best(capable(needed), needed, snapshot, maxAlternatives + 1);
      const chosen = top.entries[0];
      if (!chosen) {
        return {
          ok: false,
          reason: 'no-capable-agent',
          reasoning: `no enabled agent has ${needed.join(', ')}`,
          alternatives: NO_ALTERNATIVES,
        };
      }
      return decide(
        chosen,
        needed.length,
        `agent "${chosen.name}" best of ${needed.join('+')}`,
        snapshot,
        alternativesOf(top.entries, top.scores, 1),
      );
    },
  };
}

const NO_ENTRIES: readonly AgentEntry[] = Object.freeze([]);

function hasAll(entry: AgentEntry, capabilities: readonly string[]): boolean {
  for (const capability of capabilities) if (!entry.capabilities.has(capability)) return false;
  return true;
}

function coversAll(entry: AgentEntry, capabilities: ReadonlySet<string>): boolean {
  for (const capability of capabilities) if (!entry.capabilities.has(capability)) return false;
  return true;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
