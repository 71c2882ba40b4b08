import {
  DECISION_WEIGHTS,
  combineConfidence,
  decidePlan,
  describeTrackRecord,
  isClearlyWorse,
  recordStepOutcome,
  smoothedSuccessRate,
  swapPoorAgents,
  trackRecords,
  type AgentHistoryReader,
  type AgentHistoryWriter,
} from '../../activities/planning';
import type { AgentSpec } from '../../core/agents/agent-spec';
import { BUILTIN_AGENTS } from '../../core/agents/builtin-agents';
import type { Plan } from '../../core/plan';
import {
  LATENCY_BUCKET_BOUNDS_MS,
  bucketAttribute,
  type AgentHistoryRecord,
  type AgentOutcome,
} from '../../runtime/stores/agent-history-store';

const security = BUILTIN_AGENTS.find((spec) => spec.name === 'security') as AgentSpec;
const variant = (name: string, capabilities: string[], enabled = true): AgentSpec => ({
  ...security,
  name,
  capabilities,
  enabled,
});
const AGENTS: AgentSpec[] = [
  ...BUILTIN_AGENTS,
  variant('security-plus', ['security', 'compliance']),
  variant('security-lite', ['security']),
  variant('security-old', ['security'], false),
  variant('pentest', ['pentest']),
];

/** A row with `successes` of `attempts`, every success taking `latencyMs`. */
const row = (
  intent: string,
  agent: string,
  successes: number,
  attempts: number,
  latencyMs = 1_200,
): AgentHistoryRecord => {
  const buckets = new Array<number>(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0);
  buckets[Number(bucketAttribute(latencyMs).slice('latency'.length))] = successes;
  return {
    intent,
    agent,
    attempts,
    successes,
    totalLatencyMs: successes * latencyMs,
    latencyBuckets: buckets,
  };
};

const securityPlan: Plan = {
  schemaVersion: 1,
  steps: [
    { id: 'code', agent: 'code', title: 'Code', instruction: 'code it', dependsOn: [] },
    { id: 'review', agent: 'security', title: 'Sec', instruction: 'review', dependsOn: ['code'] },
  ],
};

describe('smoothing and track records', () => {
  test('Laplace smoothing: no history is 0.5, and never reaches 0 or 1', () => {
    expect(smoothedSuccessRate(0, 0)).toBe(0.5);
    expect(smoothedSuccessRate(9, 10)).toBeCloseTo(10 / 12);
    expect(smoothedSuccessRate(0, 3)).toBeCloseTo(0.2);
    expect(smoothedSuccessRate(100, 100)).toBeLessThan(1);
  });

  test('rows are summed per agent over the labels, with p50 bucket and mean latency', () => {
    const records = trackRecords([
      row('security', 'security', 9, 10, 1_200),
      row('code', 'security', 1, 2, 300),
      row('security', 'code', 0, 1),
    ]);
    expect(records.get('security')).toMatchObject({
      attempts: 12,
      successes: 10,
      p50LatencyMs: 2_000,
      meanLatencyMs: 1_110,
    });
    expect(records.get('code')).toEqual({
      agent: 'code',
      attempts: 1,
      successes: 0,
      byIntent: [{ intent: 'security', attempts: 1, successes: 0 }],
    });
    expect(describeTrackRecord(records.get('security'), ['security', 'code'])).toBe(
      "history: 9/10 succeeded for 'security', 1/2 for 'code', p50 ≤ 2 s, mean 1.1 s",
    );
    expect(describeTrackRecord(undefined, ['general'])).toBe(
      "history: no attempts yet for 'general'",
    );
  });

  test('clearly worse needs at least 5 samples and a smoothed rate below 0.5', () => {
    const record = (successes: number, attempts: number) =>
      trackRecords([row('general', 'a', successes, attempts)]).get('a');
    expect(isClearlyWorse(record(0, 4))).toBe(false); // too few samples
    expect(isClearlyWorse(record(2, 5))).toBe(true); // 3/7
    expect(isClearlyWorse(record(3, 5))).toBe(false); // 4/7
    expect(isClearlyWorse(undefined)).toBe(false);
  });
});

describe('combined confidence', () => {
  test('weights are documented and sum to 1', () => {
    expect(DECISION_WEIGHTS.rule + DECISION_WEIGHTS.llm + DECISION_WEIGHTS.history).toBe(1);
  });

  test('a weighted mean over the parts present, history scaled by its sample count', () => {
    expect(combineConfidence({ rule: 0.8 })).toBe(0.8);
    // (0.3·0.8 + 0.5·0.4) / 0.8
    expect(combineConfidence({ rule: 0.8, llm: 0.4 })).toBe(0.55);
    // history weight 0.2·10/15; (0.3·0.2 + 0.5·1 + 0.1333·(1/12)) / 0.9333
    expect(combineConfidence({ rule: 0.2, llm: 1, history: { successes: 0, attempts: 10 } })).toBe(
      0.61,
    );
    // no attempts: no weight
    expect(combineConfidence({ rule: 0.8, history: { successes: 0, attempts: 0 } })).toBe(0.8);
    // more samples of the same rate move the result further
    const few = combineConfidence({ rule: 0.8, history: { successes: 0, attempts: 5 } });
    const many = combineConfidence({ rule: 0.8, history: { successes: 0, attempts: 50 } });
    expect(many).toBeLessThan(few);
  });
});

describe('history swap', () => {
  test('a clearly worse agent is swapped for the best enabled agent with its capabilities', () => {
    const records = trackRecords([
      row('security', 'security', 1, 6),
      row('security', 'security-plus', 9, 10),
      row('security', 'security-lite', 3, 3),
      row('security', 'security-old', 10, 10),
      row('security', 'pentest', 10, 10),
    ]);
    const { plan, swaps } = swapPoorAgents(securityPlan, AGENTS, records, ['security']);
    expect(plan.steps.map((step) => step.agent)).toEqual(['code', 'security-plus']);
    expect(plan.steps[1]?.id).toBe('review');
    expect(swaps).toEqual([
      {
        stepId: 'review',
        from: 'security',
        to: 'security-plus',
        reasoning: expect.stringContaining(
          `replaced "security" (history: 1/6 succeeded for 'security', p50 ≤ 2 s, mean 1.2 s) by "security-plus"`,
        ) as string,
      },
    ]);
  });

  test('no swap with too few samples, without a better alternative, or for a good record', () => {
    const swapWith = (rows: AgentHistoryRecord[]) =>
      swapPoorAgents(securityPlan, AGENTS, trackRecords(rows), ['security']).swaps;
    expect(swapWith([row('security', 'security', 0, 4)])).toEqual([]);
    expect(swapWith([row('security', 'security', 5, 6)])).toEqual([]);
    expect(
      swapWith([
        row('security', 'security', 0, 6),
        row('security', 'security-plus', 0, 6),
        row('security', 'security-lite', 0, 6),
      ]),
    ).toEqual([]);
    // An alternative without history (0.5) beats a clearly worse record.
    expect(swapWith([row('security', 'security', 0, 6)]).map((swap) => swap.to)).toEqual([
      'security-plus',
    ]);
  });

  test('the engine reads the labels, swaps, and records the swap as a history decision', async () => {
    const reads: string[][] = [];
    const history: AgentHistoryReader = {
      read: async (intents) => {
        reads.push([...intents]);
        return [row('security', 'security', 1, 8), row('security', 'security-lite', 9, 10)];
      },
    };
    const result = await decidePlan({
      requestText: 'Add OAuth login to billing',
      agents: AGENTS,
      history,
    });
    expect(reads).toEqual([['code', 'security']]);
    expect(result.plan.steps.map((step) => step.agent)).toEqual(['code', 'security-lite', 'test']);
    const swapped = result.decisions.find((decision) => decision.agent === 'security-lite');
    expect(swapped).toMatchObject({ source: 'history', replaced: 'security' });
    expect(swapped?.reasoning).toContain('history swap: replaced "security"');
    expect(swapped?.reasoning).toContain('rules: request mentions "OAuth", "login"');
    expect(swapped?.reasoning).toContain("history: 9/10 succeeded for 'security'");
    expect(swapped?.alternatives?.map((alternative) => alternative.agent)).toEqual([
      'security-plus',
      'security',
    ]);
  });

  test('an unreachable or slow history store is skipped with a reason, never fails planning', async () => {
    const broken: AgentHistoryReader = {
      read: () => Promise.reject(new Error('connect ECONNREFUSED')),
    };
    const slow: AgentHistoryReader = { read: () => new Promise(() => undefined) };
    const text = 'Write docs for the export';
    const failed = await decidePlan({ requestText: text, agents: AGENTS, history: broken });
    expect(failed.intent.historySkippedReason).toBe('history unavailable: connect ECONNREFUSED');
    const timed = await decidePlan({
      requestText: text,
      agents: AGENTS,
      history: slow,
      historyTimeoutMs: 50,
    });
    expect(timed.intent.historySkippedReason).toBe('history unavailable: no answer within 50 ms');
    expect(timed.plan.steps.map((step) => step.agent)).toEqual(['docs']);
  });
});

describe('recording step outcomes', () => {
  const writer = (behaviour: 'ok' | 'fail' | 'hang') => {
    const outcomes: AgentOutcome[] = [];
    const history: AgentHistoryWriter = {
      record: async (outcome) => {
        outcomes.push(outcome);
        if (behaviour === 'fail') throw new Error('ProvisionedThroughputExceeded');
        if (behaviour === 'hang') await new Promise(() => undefined);
      },
    };
    return { outcomes, history };
  };

  test('one write per intent label; `general` when the turn has none; latency only on success', async () => {
    const { outcomes, history } = writer('ok');
    const warn = jest.fn();
    await recordStepOutcome(
      history,
      { agent: 'code', intents: ['code', 'security', 'code'], succeeded: true, latencyMs: 812 },
      warn,
    );
    await recordStepOutcome(history, { agent: 'test', succeeded: false, latencyMs: 5 }, warn);
    expect(outcomes).toEqual([
      { intent: 'code', agent: 'code', succeeded: true, latencyMs: 812 },
      { intent: 'security', agent: 'code', succeeded: true, latencyMs: 812 },
      { intent: 'general', agent: 'test', succeeded: false },
    ]);
    expect(warn).not.toHaveBeenCalled();
  });

  test('a failed or slow write is a warning, bounded in time, never an error', async () => {
    const warn = jest.fn();
    await expect(
      recordStepOutcome(writer('fail').history, { agent: 'code', succeeded: true }, warn),
    ).resolves.toBeUndefined();
    const started = Date.now();
    await recordStepOutcome(writer('hang').history, { agent: 'code', succeeded: true }, warn, 50);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(warn.mock.calls.map(([, details]) => (details as { error: string }).error)).toEqual([
      'ProvisionedThroughputExceeded',
      'history write took longer than 50 ms',
    ]);
  });
});
