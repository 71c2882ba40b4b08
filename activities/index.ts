/**
 * The session activities, built from their dependencies: the worker wires real clients,
 * tests wire local servers. Nothing here opens a connection on import.
 */
import { Context, log } from '@temporalio/activity';
import type { AgentCatalog } from '../core/agents/agent-spec';
import { BUILTIN_AGENT_CATALOG } from '../core/agents/builtin-agents';
import type {
  AgentStepInput,
  AnalyzeAndPlanInput,
  AnalyzeAndPlanResult,
  AgentStepResult,
  PlanRequestInput,
  PlanRequestResult,
  RecalledMemory,
  RequestAnalysis,
  SessionIndexRecord,
  SummarizeTurnInput,
  TurnRecap,
} from '../core/session';
import type { SessionIndexStore } from '../runtime/stores/session-index-store';
import type { ModelProvider } from '../models/model-provider';
import type { AgentHistoryReader } from './planning/agent-history';
import type { PlannerMode } from './planning/decision-engine';
import { routeStepModels, type ModelRoutingDependencies } from './planning/route-models';
import { routePlanSteps, type StepRouting } from './planning/route-steps';
import type { ModelLayer } from '../models/model-call';
import type { AgentHistoryWriter } from './planning/history-recorder';
import { analyzeText } from './session/analyze-request';
import { planTurn } from './session/plan-request';
import { runAgentStepWith } from './session/run-agent-step';
import { recapStepId, summarizeTurnWith } from './session/summarize-turn';
import {
  extractTurnMemoriesWith,
  extractionStepId,
  type ExtractTurnMemoriesInput,
  type ExtractTurnMemoriesResult,
} from './memory/extract-turn-memories';
import type { MemoryService } from '../runtime/memory/memory-service';
import { modelRef } from '../core/models/model-ref';
import { providerInActivity } from './model-call-context';
import type { SessionEventSink } from './webhooks/session-event-sink';
import type { AgentConcurrency } from '../runtime/routing';

export interface ActivityDependencies {
  /** The primary model. */
  model: ModelProvider;
  /**
   * The fallback chain, primary first (defaults to `[model]`). A step moves down it one
   * activity per hop when a model is unavailable; see workflows/session/run-plan.ts.
   */
  models?: ModelProvider[];
  sessionIndex: Pick<SessionIndexStore, 'upsert'>;
  /** Where agents are looked up; the built-in agents when absent. */
  agents?: AgentCatalog;
  /**
   * Each agent's `maxConcurrency` across every worker (shared Redis slots, see
   * runtime/routing/agent-concurrency.ts); no limit when absent.
   */
  agentConcurrency?: Pick<AgentConcurrency, 'acquire'>;
  /**
   * Per (intent, agent) track records: read when planning, written after every agent step
   * attempt. Without it planning ignores history and steps record nothing.
   */
  agentHistory?: AgentHistoryReader & AgentHistoryWriter;
  /** How the planner uses the primary model (`PLANNER_MODE`); `hybrid` when absent. */
  plannerMode?: PlannerMode;
  /** Bound on the planner's LLM part; 60 s when absent (tests shorten it). */
  plannerTimeoutMs?: number;
  /** Routes planned steps to agent pools and records routing metrics; off when absent. */
  routing?: StepRouting;
  /**
   * What surrounds every model call (context check, cache, rate limits, streaming, ledger,
   * performance history); bare calls when absent.
   */
  modelLayer?: ModelLayer;
  /** Orders each step's models with the model router (needs more than one model). */
  modelRouting?: Omit<ModelRoutingDependencies, 'chain'>;
  /**
   * Hears every session-index write (activities/webhooks: starts webhook deliveries for the
   * session events tenants subscribed to); none when absent.
   */
  sessionEvents?: SessionEventSink;
  /**
   * Recalls the user's and project's memories for a step (runtime/memory `recallForStep`);
   * the step's prompt gets them in its memory slot and its context report lists them with
   * their scores. No recall when absent.
   */
  recall?: (request: {
    tenantId: string;
    userId: string;
    sessionId: string;
    projectId?: string;
    query: string;
  }) => Promise<{
    memories: (RecalledMemory & { text: string })[];
    ranking: { semantic: boolean };
  }>;
  /**
   * Where a finished turn's memories are written (`extractTurnMemories`, with the primary
   * model); without it the activity writes nothing and answers `method: 'none'`.
   */
  memory?: Pick<MemoryService, 'find' | 'remember'>;
}

/**
 * The memories for a step (none for cached steps, compensations, or without a user). A memory
 * store that is away does not fail the step: it runs without memories, and the log says so.
 */
async function recallWith(
  recall: NonNullable<ActivityDependencies['recall']>,
  input: AgentStepInput,
): Promise<{ lines: string[]; used: RecalledMemory[]; semantic: boolean } | undefined> {
  if (!input.userId || !input.tenantId || input.step.cache || input.compensation) return undefined;
  try {
    const found = await recall({
      tenantId: input.tenantId,
      userId: input.userId,
      sessionId: input.sessionId,
      ...(input.projectId ? { projectId: input.projectId } : {}),
      query: `${input.request}\n${input.step.instruction}`,
    });
    if (found.memories.length === 0) return undefined;
    return {
      lines: found.memories.map((memory) => `(${memory.kind}, ${memory.scope}) ${memory.text}`),
      used: found.memories.map(({ memoryId, kind, scope, score }) => ({
        memoryId,
        kind,
        scope,
        score,
      })),
      semantic: found.ranking.semantic,
    };
  } catch (error) {
    log.warn('memory recall failed; the step runs without memories', {
      sessionId: input.sessionId,
      stepId: input.step.id,
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

export function createActivities(dependencies: ActivityDependencies) {
  const recallFor = (input: AgentStepInput) =>
    dependencies.recall ? recallWith(dependencies.recall, input) : Promise.resolve(undefined);
  const agents = dependencies.agents ?? BUILTIN_AGENT_CATALOG;
  const models = dependencies.models?.length ? dependencies.models : [dependencies.model];
  const modelChain = models.map(modelRef);
  const byRef = new Map(models.map((model, index) => [modelChain[index] ?? '', model]));
  const layer = dependencies.modelLayer;
  // With a layer the planner calls the bare primary: the layer asks the shared breaker itself.
  const plannerBase = layer ? (dependencies.models?.[0] ?? dependencies.model) : dependencies.model;
  const activities = {
    /** Normalises the request and extracts language, keywords and intents. Pure. */
    async analyzeRequest(input: { text: string }): Promise<RequestAnalysis> {
      return analyzeText(input.text);
    },
    /**
     * `analyzeRequest` then `planRequest` in one activity, for a turn without attachments:
     * one local activity (one marker, one worker round trip) where two were.
     */
    async analyzeAndPlan(input: AnalyzeAndPlanInput): Promise<AnalyzeAndPlanResult> {
      const analysis = analyzeText(input.request.text);
      return { analysis, planned: await activities.planRequest({ ...input, analysis }) };
    },
    /**
     * Plans the turn with the decision engine (rules, the primary model, agent history), or
     * checks the supplied plan, and validates it against enabled agents. The LLM part is
     * bounded to 60 s; see activities/planning/decision-engine.ts for its failure modes.
     */
    async planRequest(input: PlanRequestInput): Promise<PlanRequestResult> {
      const signal = activitySignal();
      // The catalog the session's tenant sees (its own agents and overrides); sessions started
      // before the input named the tenant see the platform agents.
      const specs = await agents.list(input.tenantId);
      // Planner calls go through the model layer like agent steps: kept durable, under the
      // shared limits, in the usage ledger.
      const plannerModel = layer
        ? providerInActivity(layer, plannerBase, () => ({
            ...(input.tenantId ? { tenantId: input.tenantId } : {}),
            sessionId: input.sessionId,
            stepId: `plan-turn-${input.turn}`,
            agent: 'planner',
          }))
        : dependencies.model;
      const planned = await planTurn(input, {
        agents: specs,
        model: plannerModel,
        ...(dependencies.plannerMode ? { mode: dependencies.plannerMode } : {}),
        ...(dependencies.agentHistory ? { history: dependencies.agentHistory } : {}),
        ...(signal ? { signal } : {}),
        ...(dependencies.plannerTimeoutMs !== undefined
          ? { llmTimeoutMs: dependencies.plannerTimeoutMs }
          : {}),
      });
      const enabledAgents = specs.filter((spec) => spec.enabled).map((spec) => spec.name);
      const plan = dependencies.routing
        ? await routePlanSteps(planned.plan, specs, dependencies.routing)
        : planned.plan;
      const modelRoutes =
        models.length > 1 && dependencies.modelRouting
          ? await routeStepModels(plan, input.request.text, input.analysis, specs, {
              ...dependencies.modelRouting,
              chain: modelChain,
            })
          : {};
      return {
        ...planned,
        plan,
        enabledAgents,
        ...(models.length > 1 ? { modelChain } : {}),
        ...modelRoutes,
      };
    },
    /** Runs one agent step through the model layer; records the attempt in the agent history. */
    async runAgentStep(input: AgentStepInput): Promise<AgentStepResult> {
      const model =
        (input.modelRef !== undefined ? byRef.get(input.modelRef) : undefined) ??
        models[input.modelHop ?? 0] ??
        dependencies.model;
      const recalled = await recallFor(input);
      const result = await runAgentStepWith(
        model,
        recalled ? { ...input, memories: recalled.lines } : input,
        agents,
        dependencies.agentHistory,
        dependencies.routing?.recorder,
        dependencies.modelLayer,
        (input.modelHop ?? 0) + 1 >= models.length,
        dependencies.agentConcurrency,
      );
      if (!recalled || !result.context) return result;
      return {
        ...result,
        context: { ...result.context, recalled: recalled.used, semanticRecall: recalled.semantic },
      };
    },
    /**
     * Summarises an earlier turn of a session with the primary model (through the model
     * layer: durable, under the shared limits, in the usage ledger); the offline model gives
     * the rule-based summary. The workflow keeps the answer, so each turn is summarised once.
     */
    async summarizeTurn(input: SummarizeTurnInput): Promise<TurnRecap> {
      const model = layer
        ? providerInActivity(layer, plannerBase, () => ({
            ...(input.tenantId ? { tenantId: input.tenantId } : {}),
            sessionId: input.sessionId,
            stepId: recapStepId(input.turn.turn),
            agent: 'memory',
          }))
        : dependencies.model;
      return summarizeTurnWith(model, input, activitySignal());
    },
    /**
     * Remembers what a finished turn leaves worth keeping, extracted by the primary model
     * (through the model layer, as `summarizeTurn`) or by the rules when it cannot; see
     * activities/memory/extract-turn-memories.ts. Idempotent per (session, run, turn).
     */
    async extractTurnMemories(input: ExtractTurnMemoriesInput): Promise<ExtractTurnMemoriesResult> {
      const memory = dependencies.memory;
      if (!memory) return { method: 'none', memoryIds: [], alreadyWritten: 0 };
      const model = layer
        ? providerInActivity(layer, plannerBase, () => ({
            tenantId: input.tenantId,
            sessionId: input.sessionId,
            stepId: extractionStepId(input.turn),
            agent: 'memory',
          }))
        : dependencies.model;
      return extractTurnMemoriesWith({ memory, model }, input, activitySignal());
    },
    /**
     * Upserts the session index row (idempotent, ordered by `updatedAt`), then hands the write
     * to the session-event sink; a sink failure fails the write, so it is retried with it.
     */
    async recordSession(record: SessionIndexRecord): Promise<void> {
      const { pausedBy: _pausedBy, ...row } = record;
      await dependencies.sessionIndex.upsert(row);
      await dependencies.sessionEvents?.(record);
    },
  };
  return activities;
}

export type SessionActivities = ReturnType<typeof createActivities>;

/** The running activity's cancellation signal; undefined when called outside an activity (tests). */
function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}
