/**
 * The session activities, built from their dependencies: the worker wires real clients,
 * tests wire local servers. Nothing here opens a connection on import.
 */
import type { AgentCatalog } from '../core/agents/agent-spec';
import { BUILTIN_AGENT_CATALOG } from '../core/agents/builtin-agents';
import type {
  AgentStepInput,
  AgentStepResult,
  PlanRequestInput,
  PlanRequestResult,
  RequestAnalysis,
  SessionIndexRecord,
} from '../core/session';
import type { SessionIndexStore } from '../runtime/stores/session-index-store';
import type { ModelProvider } from './models/model-provider';
import { analyzeText } from './session/analyze-request';
import { planTurn } from './session/plan-request';
import { runAgentStepWith } from './session/run-agent-step';

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
}

export function createActivities(dependencies: ActivityDependencies) {
  const agents = dependencies.agents ?? BUILTIN_AGENT_CATALOG;
  const models = dependencies.models?.length ? dependencies.models : [dependencies.model];
  const modelChain = models.map((model) => `${model.name}:${model.model}`);
  return {
    /** Normalises the request and extracts language, keywords and intents. Pure. */
    async analyzeRequest(input: { text: string }): Promise<RequestAnalysis> {
      return analyzeText(input.text);
    },
    /** Plans the turn (rules, or the supplied plan) and validates it against enabled agents. */
    async planRequest(input: PlanRequestInput): Promise<PlanRequestResult> {
      const specs = new Map((await agents.list()).map((spec) => [spec.name, spec]));
      const planned = planTurn(
        input,
        await agents.enabledNames(),
        (agent) => specs.get(agent)?.alternatives ?? [],
      );
      return models.length > 1 ? { ...planned, modelChain } : planned;
    },
    /** Runs one agent step through the model layer. */
    async runAgentStep(input: AgentStepInput): Promise<AgentStepResult> {
      const model = models[input.modelHop ?? 0] ?? dependencies.model;
      return runAgentStepWith(model, input, agents);
    },
    /** Upserts the session index row. Idempotent (ordered by `updatedAt`). */
    async recordSession(record: SessionIndexRecord): Promise<void> {
      await dependencies.sessionIndex.upsert(record);
    },
  };
}

export type SessionActivities = ReturnType<typeof createActivities>;
