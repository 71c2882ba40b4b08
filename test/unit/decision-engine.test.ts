import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../activities';
import type { ModelProvider, ModelRequest, ModelResponse } from '../../models/model-provider';
import { createOfflineProvider } from '../../models/offline-provider';
import { checkPlannerOutput, decidePlan } from '../../activities/planning';
import { analyzeText } from '../../activities/session/analyze-request';
import { planTurn } from '../../activities/session/plan-request';
import type { AgentCatalog, AgentSpec } from '../../core/agents/agent-spec';
import { BUILTIN_AGENTS } from '../../core/agents/builtin-agents';
import { ERROR_TYPES } from '../../core/errors';
import type { Plan } from '../../core/plan';
import type { PlanRequestInput } from '../../core/session';

/** Text, a thrown error, a call that never answers, or an offline answer. */
type Reply = string | Error | { hang: true } | { offline: string };

/** A model that answers from a script, one reply per call, and keeps every request. */
function scriptedModel(replies: Reply[], name = 'bedrock') {
  const requests: ModelRequest[] = [];
  const model: ModelProvider = {
    name,
    model: 'scripted-1',
    async generate(request) {
      requests.push(request);
      const reply = replies[requests.length - 1] ?? 'no more replies';
      if (reply instanceof Error) throw reply;
      if (typeof reply === 'object' && 'hang' in reply) {
        return new Promise<ModelResponse>(() => undefined);
      }
      const offline = typeof reply === 'object';
      return {
        text: offline ? reply.offline : reply,
        provider: name,
        model: 'scripted-1',
        usage: { inputTokens: 10, outputTokens: 20 },
        stopReason: 'end_turn',
        latencyMs: 1,
        offline,
      };
    },
  };
  return { model, requests };
}

const AGENTS: AgentSpec[] = [
  ...BUILTIN_AGENTS,
  { ...(BUILTIN_AGENTS[3] as AgentSpec), name: 'legacy-audit', enabled: false },
];

const TEXT = 'Add OAuth login to billing';

const answer = (overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({
    intent: { labels: ['security', 'code'], summary: 'Add OAuth login to the billing service' },
    steps: [
      {
        id: 'code',
        agent: 'code',
        title: 'Implement OAuth login',
        instruction: 'Add OAuth login to billing',
        dependsOn: [],
      },
      {
        id: 'security',
        agent: 'security',
        title: 'Review the login flow',
        instruction: 'Review token handling of the new login',
        dependsOn: ['code'],
      },
    ],
    agents: [
      { agent: 'code', confidence: 0.9, reasoning: 'the login must be implemented' },
      { agent: 'security', confidence: 0.95, reasoning: 'OAuth handles tokens and secrets' },
    ],
    ...overrides,
  });

const cyclicSteps = [
  { id: 'a', agent: 'code', title: 'A', instruction: 'do a', dependsOn: ['b'] },
  { id: 'b', agent: 'test', title: 'B', instruction: 'do b', dependsOn: ['a'] },
];

describe('the LLM part', () => {
  test('a valid first answer plans the turn: intent, steps and per-agent reasoning from the model', async () => {
    const { model, requests } = scriptedModel([answer()]);
    const result = await decidePlan({ requestText: TEXT, agents: AGENTS, model });

    expect(requests).toHaveLength(1);
    expect(result.intent).toEqual({
      labels: ['security', 'code'],
      summary: 'Add OAuth login to the billing service',
      source: 'llm',
    });
    expect(result.plan.steps.map((step) => `${step.id}<-${step.dependsOn.join(',')}`)).toEqual([
      'code<-',
      'security<-code',
    ]);
    expect(result.decisions.map((decision) => [decision.agent, decision.source])).toEqual([
      ['code', 'llm'],
      ['security', 'llm'],
    ]);
    const security = result.decisions[1];
    expect(security?.reasoning).toContain('rules: request mentions "OAuth", "login"');
    expect(security?.reasoning).toContain('llm (0.95): OAuth handles tokens and secrets');
    expect(security?.reasoning).toContain("history: no attempts yet for 'security', 'code'");
    // rule 0.8 × 0.3 + llm 0.95 × 0.5, over 0.8
    expect(security?.confidence).toBe(0.89);
  });

  test('the prompt offers only enabled agents, with role and capabilities, and asks for JSON', async () => {
    const { model, requests } = scriptedModel([answer()]);
    await decidePlan({ requestText: TEXT, agents: AGENTS, model });
    const prompt = requests[0]?.messages[0]?.text ?? '';
    expect(prompt).toContain(`Request:\n${TEXT}`);
    expect(prompt).toContain('- security: security agent; capabilities: security;');
    expect(prompt).not.toContain('legacy-audit');
    expect(requests[0]?.system).toContain('exactly one JSON object');
    expect(requests[0]?.temperature).toBe(0);
    expect(requests[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  test('an invalid answer gets exactly one repair turn with its output and the precise errors', async () => {
    const { model, requests } = scriptedModel([
      'Sure! Here is the plan: code then test.',
      answer(),
    ]);
    const result = await decidePlan({ requestText: TEXT, agents: AGENTS, model });

    expect(requests).toHaveLength(2);
    const repair = requests[1]?.messages ?? [];
    expect(repair.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(repair[1]?.text).toBe('Sure! Here is the plan: code then test.');
    expect(repair[2]?.text).toMatch(/^Your answer was invalid:\n- answer is not JSON: /);
    expect(result.intent.source).toBe('llm-repaired');
    expect(result.plan.steps.map((step) => step.agent)).toEqual(['code', 'security']);
  });

  test('invalid twice in hybrid mode: the rules plan runs and the reason is recorded', async () => {
    const { model, requests } = scriptedModel(['not json', '{"intent": {}}']);
    const result = await decidePlan({ requestText: TEXT, agents: AGENTS, model });

    expect(requests).toHaveLength(2);
    expect(result.plan.steps.map((step) => step.agent)).toEqual(['code', 'security', 'test']);
    expect(result.intent.source).toBe('rules');
    expect(result.intent.labels).toEqual(['code', 'security']);
    expect(result.intent.llmSkippedReason).toMatch(
      /^planner output invalid after one repair: intent\.labels: .*; steps: .*; agents: /,
    );
    expect(result.decisions.map((decision) => decision.source)).toEqual([
      'rule',
      'rule',
      'default',
    ]);
  });

  test('invalid twice in llm mode: a non-retryable PlannerOutputInvalid listing the errors', async () => {
    const { model } = scriptedModel([
      answer({ steps: cyclicSteps }),
      answer({ steps: cyclicSteps }),
    ]);
    const failure = await decidePlan({
      requestText: TEXT,
      agents: AGENTS,
      model,
      mode: 'llm',
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const applicationFailure = failure as ApplicationFailure;
    expect(applicationFailure.type).toBe(ERROR_TYPES.plannerOutputInvalid);
    expect(applicationFailure.nonRetryable).toBe(true);
    expect(applicationFailure.message).toContain('dependency cycle: ');
    expect(applicationFailure.message).toContain('agents has no entry for "test", used in steps');
  });

  test('an unknown or disabled agent is reported by name and repaired', async () => {
    const proposed = answer({
      steps: [
        { id: 'deploy', agent: 'deployer', title: 'Deploy', instruction: 'ship it', dependsOn: [] },
        { id: 'audit', agent: 'legacy-audit', title: 'Audit', instruction: 'audit', dependsOn: [] },
      ],
      agents: [{ agent: 'deployer', confidence: 0.7, reasoning: 'someone must deploy' }],
    });
    const { model, requests } = scriptedModel([proposed, answer()]);
    const result = await decidePlan({ requestText: TEXT, agents: AGENTS, model });

    const errors = requests[1]?.messages[2]?.text ?? '';
    expect(errors).toContain('- step "deploy" uses unknown agent "deployer"');
    expect(errors).toContain('- step "audit" uses disabled agent "legacy-audit"');
    expect(errors).toContain('- agents lists unknown agent "deployer"');
    expect(errors).not.toContain('uses unknown agent "legacy-audit"');
    expect(result.intent.source).toBe('llm-repaired');
  });

  test('a proposed cycle is named in the errors', () => {
    const checked = checkPlannerOutput(
      answer({
        steps: cyclicSteps,
        agents: [
          { agent: 'code', confidence: 0.5, reasoning: 'r' },
          { agent: 'test', confidence: 0.5, reasoning: 'r' },
        ],
      }),
      AGENTS,
    );
    expect(checked).toEqual({
      ok: false,
      errors: ['dependency cycle: a -> b -> a (-> means "depends on")'],
    });
  });

  test('schema violations carry their path; a code fence around valid JSON is accepted', () => {
    const bad = JSON.parse(answer()) as { agents: { confidence: number }[] };
    (bad.agents[0] as { confidence: number }).confidence = 1.5;
    const checked = checkPlannerOutput(JSON.stringify(bad), AGENTS);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.errors.join('\n')).toMatch(/^agents\.0\.confidence: /m);
    expect(checkPlannerOutput('```json\n' + answer() + '\n```', AGENTS).ok).toBe(true);
  });

  test('the offline provider is never asked; an offline answer is not used either', async () => {
    const offline = createOfflineProvider({ latencyMs: 0 });
    const generate = jest.spyOn(offline, 'generate');
    const skipped = await decidePlan({ requestText: TEXT, agents: AGENTS, model: offline });
    expect(generate).not.toHaveBeenCalled();
    expect(skipped.intent.llmSkippedReason).toBe('offline model: rules only');
    expect(skipped.intent.source).toBe('rules');

    const { model } = scriptedModel([{ offline: '[offline] outline' }], 'guarded');
    const answeredOffline = await decidePlan({
      requestText: TEXT,
      agents: AGENTS,
      model,
      mode: 'llm',
    });
    expect(answeredOffline.intent.llmSkippedReason).toBe('offline model: rules only');
  });

  test('a model error falls back in hybrid mode (recorded, not retried) and is thrown as it is in llm mode', async () => {
    const throttled = new Error('Bedrock ThrottlingException: slow down');
    const hybrid = scriptedModel([throttled, answer()]);
    const result = await decidePlan({ requestText: TEXT, agents: AGENTS, model: hybrid.model });
    expect(hybrid.requests).toHaveLength(1);
    expect(result.intent.llmSkippedReason).toBe(
      'planner model failed: Bedrock ThrottlingException: slow down',
    );

    const strict = scriptedModel([throttled]);
    await expect(
      decidePlan({ requestText: TEXT, agents: AGENTS, model: strict.model, mode: 'llm' }),
    ).rejects.toBe(throttled);
  });

  test('the LLM part is bounded in time: the call is aborted and the rules plan runs', async () => {
    const { model, requests } = scriptedModel([{ hang: true }]);
    const started = Date.now();
    const result = await decidePlan({
      requestText: TEXT,
      agents: AGENTS,
      model,
      llmTimeoutMs: 100,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(requests[0]?.signal?.aborted).toBe(true);
    expect(result.intent.llmSkippedReason).toBe('planner model timed out after 0.1 s');
    expect(result.plan.steps.map((step) => step.agent)).toEqual(['code', 'security', 'test']);
  });
});

describe('planTurn', () => {
  const input = (text: string, plan?: Plan): PlanRequestInput => ({
    sessionId: 's-1',
    turn: 1,
    request: { text, ...(plan ? { plan } : {}) },
    analysis: analyzeText(text),
  });

  test('a supplied plan is checked, not planned: no model call, source supplied, no intent', async () => {
    const { model, requests } = scriptedModel([answer()]);
    const result = await planTurn(
      input(TEXT, {
        schemaVersion: 1,
        steps: [{ id: 'only', agent: 'docs', title: 'Docs', instruction: 'write', dependsOn: [] }],
      }),
      { agents: AGENTS, model },
    );
    expect(requests).toHaveLength(0);
    expect(result.intent).toBeUndefined();
    expect(result.decisions).toEqual([
      {
        agent: 'docs',
        confidence: 1,
        reasoning: 'plan supplied with the request',
        source: 'supplied',
      },
    ]);
  });

  test('an invalid plan still fails with PlanInvalid listing every error', async () => {
    const disabled = AGENTS.map((spec) =>
      spec.name === 'test' || spec.name === 'security' ? { ...spec, enabled: false } : spec,
    );
    const failure = await planTurn(input(TEXT), { agents: disabled }).then(
      () => {
        throw new Error('expected PlanInvalid');
      },
      (error: unknown) => error as ApplicationFailure,
    );
    expect(failure.type).toBe(ERROR_TYPES.planInvalid);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('step "test" uses unknown agent "test"');
    expect(failure.message).toContain('step "security" uses unknown agent "security"');
  });

  test('steps get their agent spec alternatives (enabled ones only)', async () => {
    const agents = AGENTS.map((spec) =>
      spec.name === 'security' ? { ...spec, alternatives: ['review', 'legacy-audit'] } : spec,
    );
    const result = await planTurn(input(TEXT), { agents });
    expect(result.plan.steps.find((step) => step.id === 'security')?.alternatives).toEqual([
      'review',
    ]);
  });

  test('the planRequest activity returns the intent next to plan and decisions', async () => {
    const { model } = scriptedModel([answer()]);
    const catalog: AgentCatalog = {
      get: async (name) => AGENTS.find((spec) => spec.name === name),
      list: async () => AGENTS,
      enabledNames: async () => new Set(AGENTS.filter((s) => s.enabled).map((s) => s.name)),
    };
    const activities = createActivities({
      model,
      agents: catalog,
      sessionIndex: { upsert: async () => undefined },
    });
    const result = await activities.planRequest(input(TEXT));
    expect(result.intent).toMatchObject({ labels: ['security', 'code'], source: 'llm' });
    expect(result.plan.steps.map((step) => step.agent)).toEqual(['code', 'security']);
    expect(result.decisions.every((decision) => decision.source === 'llm')).toBe(true);
  });

  test('the analyzeAndPlan activity answers what analyzeRequest then planRequest answer', async () => {
    const catalog: AgentCatalog = {
      get: async (name) => AGENTS.find((spec) => spec.name === name),
      list: async () => AGENTS,
      enabledNames: async () => new Set(AGENTS.filter((s) => s.enabled).map((s) => s.name)),
    };
    const activitiesOf = (model: ModelProvider) =>
      createActivities({ model, agents: catalog, sessionIndex: { upsert: async () => undefined } });
    const separate = scriptedModel([answer()]);
    const combined = scriptedModel([answer()]);
    const { analysis: _analysis, ...turn } = input(TEXT);
    const analysis = await activitiesOf(separate.model).analyzeRequest({ text: TEXT });
    const planned = await activitiesOf(separate.model).planRequest({ ...turn, analysis });
    const both = await activitiesOf(combined.model).analyzeAndPlan(turn);
    expect(both).toEqual({ analysis, planned });
    expect(both.planned.intent).toMatchObject({ labels: ['security', 'code'], source: 'llm' });
    // The planner saw the same prompt: the analysis reached it as it does from the workflow.
    expect(combined.requests).toEqual(separate.requests);
  });
});
