import type { AgentSpec } from '../../core/agents/agent-spec';
import { BUILTIN_AGENTS } from '../../core/agents/builtin-agents';
import {
  createRouter,
  type QueueLoad,
  type RouteDecision,
  type RouteResult,
} from '../../runtime/routing';

const DEFAULT_QUEUE = 'tdev-session';

function agent(name: string, overrides: Partial<AgentSpec> = {}): AgentSpec {
  return {
    name,
    version: 1,
    source: 'registry',
    role: `${name} agent`,
    description: `the ${name} agent`,
    capabilities: [name],
    modelPreferences: [],
    maxConcurrency: 10,
    timeoutMs: 60_000,
    retry: { maximumAttempts: 3, initialIntervalMs: 1_000 },
    systemPrompt: 'You help.',
    alternatives: [],
    enabled: true,
    ...overrides,
  };
}

const AGENTS: AgentSpec[] = [
  agent('backend-coder', {
    capabilities: ['code', 'backend'],
    modelPreferences: ['long', 'missing-model', 'cheap-coder'],
    taskQueue: 'pool-backend',
    alternatives: ['fullstack'],
  }),
  agent('frontend-coder', { capabilities: ['code', 'frontend'], taskQueue: 'pool-frontend' }),
  agent('fullstack', { capabilities: ['code', 'backend', 'frontend', 'docs'] }),
  agent('retired', { capabilities: ['code', 'backend'], enabled: false }),
  agent('security'),
];

const router = createRouter(AGENTS, { defaultTaskQueue: DEFAULT_QUEUE });

function decided(result: RouteResult): RouteDecision {
  if (!result.ok) throw new Error(`expected a decision, got ${result.reason}: ${result.reasoning}`);
  return result;
}

describe('createRouter().route', () => {
  test('a named agent is used as named, on its own pool queue', () => {
    const decision = decided(router.route({ agent: 'frontend-coder' }));
    expect(decision).toMatchObject({
      agent: 'frontend-coder',
      agentVersion: 1,
      taskQueue: 'pool-frontend',
    });
    expect(decision.score.capability).toBe(1);
    expect(decision.reasoning).toContain('as requested');
  });

  test('an agent without a pool runs on the default session queue', () => {
    expect(decided(router.route({ agent: 'security' })).taskQueue).toBe(DEFAULT_QUEUE);
  });

  test('by capability: only enabled agents with every capability are candidates', () => {
    const decision = decided(router.route({ capabilities: ['code', 'backend'] }));
    expect(['backend-coder', 'fullstack']).toContain(decision.agent);
    const everyone = [decision.agent, ...decision.alternatives.map((entry) => entry.agent)];
    expect(everyone.sort()).toEqual(['backend-coder', 'fullstack']);
  });

  test('by capability: the specialist beats the generalist when nothing else differs', () => {
    const decision = decided(router.route({ capabilities: ['backend'] }));
    expect(decision.agent).toBe('backend-coder');
    expect(decision.alternatives).toEqual([
      expect.objectContaining({ agent: 'fullstack', taskQueue: DEFAULT_QUEUE }),
    ]);
    expect(decision.alternatives[0]!.score).toBeLessThan(decision.score.total);
  });

  test('a disabled agent is never chosen, named or by capability', () => {
    const named = router.route({ agent: 'retired' });
    expect(named).toMatchObject({ ok: false, reason: 'disabled-agent' });
    // Its capability peers are offered as alternatives, the disabled agent never.
    expect(named.alternatives.map((entry) => entry.agent).sort()).toEqual([
      'backend-coder',
      'fullstack',
    ]);
    for (let index = 0; index < 20; index += 1) {
      const result = router.route(
        { capabilities: ['code', 'backend'] },
        { queues: new Map([['pool-backend', { backlog: 1_000, pollers: 0 }]]) },
      );
      expect(decided(result).agent).not.toBe('retired');
      expect(result.alternatives.map((entry) => entry.agent)).not.toContain('retired');
    }
  });

  test('an unknown agent is never scheduled', () => {
    expect(router.route({ agent: 'ghost' })).toMatchObject({
      ok: false,
      reason: 'unknown-agent',
      alternatives: [],
    });
    expect(router.route({ agent: 'ghost', capabilities: ['frontend'] })).toMatchObject({
      ok: false,
      reason: 'unknown-agent',
      alternatives: [
        expect.objectContaining({ agent: 'frontend-coder' }),
        expect.objectContaining({ agent: 'fullstack' }),
      ],
    });
  });

  test('rejections: missing capability, nobody capable, empty request', () => {
    expect(router.route({ agent: 'security', capabilities: ['code'] })).toMatchObject({
      ok: false,
      reason: 'missing-capability',
      reasoning: 'agent "security" lacks code',
    });
    expect(router.route({ capabilities: ['quantum'] })).toMatchObject({
      ok: false,
      reason: 'no-capable-agent',
    });
    expect(router.route({})).toMatchObject({ ok: false, reason: 'empty-request' });
  });

  test('queue load moves the choice: backlog without pollers loses', () => {
    const idle: QueueLoad = { backlog: 0, pollers: 2 };
    const calm = decided(
      router.route(
        { capabilities: ['backend'] },
        {
          queues: new Map([
            ['pool-backend', idle],
            [DEFAULT_QUEUE, idle],
          ]),
        },
      ),
    );
    expect(calm.agent).toBe('backend-coder');
    const swamped = decided(
      router.route(
        { capabilities: ['backend'] },
        {
          queues: new Map([
            ['pool-backend', { backlog: 40, pollers: 1 }],
            [DEFAULT_QUEUE, idle],
          ]),
        },
      ),
    );
    expect(swamped.agent).toBe('fullstack');
    expect(swamped.alternatives[0]).toMatchObject({ agent: 'backend-coder' });
    const unpolled = decided(
      router.route(
        { capabilities: ['backend'] },
        { queues: new Map([['pool-backend', { backlog: 0, pollers: 0 }]]) },
      ),
    );
    expect(unpolled.agent).toBe('fullstack');
  });

  test('agent utilisation moves the choice', () => {
    const decision = decided(
      router.route({ capabilities: ['backend'] }, { inFlight: new Map([['backend-coder', 10]]) }),
    );
    expect(decision.agent).toBe('fullstack');
  });

  test('history moves the choice: success rate and latency', () => {
    const failing = decided(
      router.route(
        { capabilities: ['backend'] },
        {
          history: new Map([
            ['backend-coder', { successRate: 0.1, p50LatencyMs: 120_000, samples: 200 }],
            ['fullstack', { successRate: 1, p50LatencyMs: 5_000, samples: 200 }],
          ]),
        },
      ),
    );
    expect(failing.agent).toBe('fullstack');
    expect(failing.score.success).toBeGreaterThan(0.95);
    // Few samples count little: one failure does not outweigh specialisation.
    const unlucky = decided(
      router.route(
        { capabilities: ['backend'] },
        {
          history: new Map([
            ['backend-coder', { successRate: 0, p50LatencyMs: 10_000, samples: 1 }],
          ]),
        },
      ),
    );
    expect(unlucky.agent).toBe('backend-coder');
  });

  test('a named agent stays chosen under load; better agents become alternatives', () => {
    const decision = decided(
      router.route(
        { agent: 'backend-coder' },
        { queues: new Map([['pool-backend', { backlog: 100, pollers: 1 }]]) },
      ),
    );
    expect(decision.agent).toBe('backend-coder');
    expect(decision.score.load).toBeLessThanOrEqual(0.01);
    // Declared alternatives first in the peer list, ranked by score with the capability peers.
    expect(decision.alternatives.map((entry) => entry.agent)).toEqual(['fullstack']);
  });

  test('decisions repeat and reasoning names the parts of the score', () => {
    const first = router.route({ capabilities: ['code'] });
    expect(router.route({ capabilities: ['code'] })).toEqual(first);
    expect(decided(first).reasoning).toMatch(
      /score \d\.\d\d \(capability \d\.\d\d, load \d\.\d\d, success \d\.\d\d, latency \d\.\d\d\)/,
    );
  });

  test('maxAlternatives bounds the alternatives', () => {
    const many = createRouter(
      Array.from({ length: 10 }, (_, index) => agent(`coder-${index}`, { capabilities: ['code'] })),
      { defaultTaskQueue: DEFAULT_QUEUE, maxAlternatives: 2 },
    );
    expect(decided(many.route({ capabilities: ['code'] })).alternatives).toHaveLength(2);
  });

  test('routes the built-in agents', () => {
    const builtins = createRouter(BUILTIN_AGENTS, { defaultTaskQueue: DEFAULT_QUEUE });
    expect(decided(builtins.route({ capabilities: ['security'] }))).toMatchObject({
      agent: 'security',
      taskQueue: DEFAULT_QUEUE,
    });
  });
});
