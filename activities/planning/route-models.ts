/**
 * Chooses each planned step's model order with the model router, when the worker has more
 * than one model. Models of one family — the same model in its region and its cross-region
 * inference profiles — stay together in their configured order, so a throttled model is
 * first tried elsewhere before another provider; families are ordered by their best score.
 * Models that cannot take the step (window too small, language) leave its order; if none
 * is left, the step keeps the full chain and the pre-call context check says why.
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import type { Plan } from '../../core/plan';
import type {
  ModelHopInfo,
  ModelRoutingRecord,
  PlanRequestResult,
  RequestAnalysis,
} from '../../core/session';
import {
  rankModels,
  type ModelPerformance,
  type ModelRegistry,
  type ModelRouteDecision,
} from '../../models/registry';
import { modelRef } from '../../core/models/model-ref';

/** Output budget assumed at plan time, when the prompt is not known yet. */
const PLAN_TIME_OUTPUT_TOKENS = 4_096;
/** Rough characters per token for the plan-time estimate; the activity counts exactly. */
const CHARS_PER_TOKEN = 4;
const GEO_PREFIX = /^(?:us|eu|apac|global|jp|au|ca|us-gov)\./;

export interface ModelRoutingDependencies {
  registry: ModelRegistry;
  /** The worker's chain, `provider:model`, primary first. */
  chain: readonly string[];
  /** Shared performance history; a slow or failing read counts as no history. */
  performance?: (refs: readonly string[]) => Promise<ReadonlyMap<string, ModelPerformance>>;
  /** Bound on the performance read. Default 250 ms. */
  performanceTimeoutMs?: number;
}

/** Provider and model with any inference-profile geography removed. */
export function modelFamily(ref: string): string {
  const separator = ref.indexOf(':');
  return modelRef({
    name: ref.slice(0, separator),
    model: ref.slice(separator + 1).replace(GEO_PREFIX, ''),
  });
}

/** Orders `decision.order` by family: families by best score, members in chain order. */
export function groupByFamily(decision: ModelRouteDecision, chain: readonly string[]): string[] {
  const families: string[] = [];
  for (const ref of decision.order) {
    const family = modelFamily(ref);
    if (!families.includes(family)) families.push(family);
  }
  const allowed = new Set(decision.order);
  return families.flatMap((family) =>
    chain.filter((ref) => allowed.has(ref) && modelFamily(ref) === family),
  );
}

export async function routeStepModels(
  plan: Plan,
  request: string,
  analysis: RequestAnalysis,
  agents: readonly AgentSpec[],
  dependencies: ModelRoutingDependencies,
): Promise<Required<Pick<PlanRequestResult, 'stepModels' | 'modelCatalog' | 'modelRouting'>>> {
  const { registry, chain } = dependencies;
  const cards = chain.map((ref) => registry.card(ref));
  const performance = await readPerformance(dependencies);
  const byName = new Map(agents.map((agent) => [agent.name, agent]));
  const stepModels: Record<string, string[]> = {};
  const modelRouting: ModelRoutingRecord[] = [];
  for (const step of plan.steps) {
    const promptChars = request.length + step.instruction.length + 4_000 * step.dependsOn.length;
    const decision = rankModels(
      cards,
      {
        specialties: byName.get(step.agent)?.capabilities ?? [],
        requiredContext: Math.ceil(promptChars / CHARS_PER_TOKEN) + PLAN_TIME_OUTPUT_TOKENS,
        ...(analysis.language && analysis.language !== 'und'
          ? { language: analysis.language }
          : {}),
      },
      performance,
    );
    stepModels[step.id] = decision.order.length ? groupByFamily(decision, chain) : [...chain];
    modelRouting.push({ stepId: step.id, ...decision });
  }
  const modelCatalog: Record<string, ModelHopInfo> = {};
  for (const card of cards) {
    modelCatalog[card.ref] = {
      contextWindow: card.contextWindow,
      ...(card.contentPolicyAlternative
        ? { contentPolicyAlternative: card.contentPolicyAlternative }
        : {}),
    };
  }
  return { stepModels, modelCatalog, modelRouting };
}

async function readPerformance(
  dependencies: ModelRoutingDependencies,
): Promise<ReadonlyMap<string, ModelPerformance>> {
  if (!dependencies.performance) return new Map();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      dependencies.performance(dependencies.chain),
      new Promise<ReadonlyMap<string, ModelPerformance>>((resolve) => {
        timer = setTimeout(() => resolve(new Map()), dependencies.performanceTimeoutMs ?? 250);
      }),
    ]);
  } catch {
    return new Map();
  } finally {
    clearTimeout(timer);
  }
}
