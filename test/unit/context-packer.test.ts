/**
 * The context packer (models/context/context-packer.ts) with the real token counters: the
 * exact o200k_base tokenizer and the calibrated Anthropic estimate. The prompt plus the
 * reserved output never exceeds the window (checked against the model layer's own count),
 * lower-priority parts go first, the exact budget edge, and huge inputs.
 */
import { assembleContext, CUT_MARKER, type ContextSources } from '../../models/context';
import { countPromptTokens } from '../../models/model-call';
import { loadTokenCounter, type TokenCounter } from '../../models/tokens';
import type { TurnMemory } from '../../core/session';

const OPENAI_MODEL = 'gpt-4o';
const ANTHROPIC_MODEL = 'us.anthropic.claude-sonnet-4-20250514-v1:0';

let openai: TokenCounter;
let anthropic: TokenCounter;

beforeAll(async () => {
  openai = await loadTokenCounter(OPENAI_MODEL);
  anthropic = await loadTokenCounter(ANTHROPIC_MODEL);
});

const words = (seed: string, count: number): string =>
  Array.from({ length: count }, (_, index) => `${seed}${index % 97}`).join(' ');

const turn = (number: number, text: string, summarised = false): TurnMemory => ({
  turn: number,
  request: `request of turn ${number}`,
  outcome: 'succeeded',
  text,
  summarised,
});

function sources(overrides: Partial<ContextSources> = {}): ContextSources {
  return {
    system: 'You are the code agent.',
    header: 'Session: s-1 · turn 4 · step b',
    request: 'now make it use PostgreSQL instead',
    instruction: 'Change the storage layer of the orders service.',
    dependencies: [
      { stepId: 'design', agent: 'architect', output: words('design', 300) },
      { stepId: 'schema', agent: 'code', output: words('schema', 40) },
    ],
    attachments: `Attachments: ${words('diagram', 200)}`,
    memories: ['our services use PostgreSQL', 'tests in Vitest'],
    history: [
      turn(1, words('first', 200), true),
      turn(2, words('second', 200)),
      turn(3, words('third', 200)),
    ],
    ...overrides,
  };
}

/** What the model layer counts for the assembled request (models/model-call.ts). */
async function layerCount(model: string, system: string, prompt: string): Promise<number> {
  return countPromptTokens(model, { system, messages: [{ role: 'user', text: prompt }] });
}

test('everything fits: nothing is cut, the layout is fixed and the count is the model layer’s', async () => {
  const assembled = assembleContext(sources(), {
    contextWindow: 200_000,
    reservedOutput: 4_096,
    counter: anthropic,
  });
  expect(assembled.report.cut).toEqual([]);
  expect(assembled.report.overflow).toBeUndefined();
  expect(assembled.report.summarisedTurns).toEqual([1]);
  const order = [
    'Session: s-1',
    'Earlier turns of this session (oldest first):',
    '### Turn 1 (succeeded) asked: "request of turn 1"\nsummary: first0',
    '### Turn 2',
    '### Turn 3',
    'Recalled memories:\n\n- our services use PostgreSQL',
    'Request: now make it use PostgreSQL instead',
    'Task: Change the storage layer',
    'Attachments: diagram0',
    'Context from earlier steps:',
    '### Output of step "design" (architect)',
    '### Output of step "schema" (code)',
  ].map((text) => assembled.prompt.indexOf(text));
  expect(order.every((position) => position >= 0)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  expect(assembled.report.tokensBound).toBeUndefined();
  expect(assembled.report.tokens).toBe(
    await layerCount(ANTHROPIC_MODEL, assembled.system, assembled.prompt),
  );
  // Handed to the model layer, which then does not count the prompt again.
  expect(assembled.countedTokens).toBe(assembled.report.tokens);
});

test('an exact tokenizer: a prompt whose UTF-8 bytes fit is not counted, and the bound holds', async () => {
  // Multi-byte text too: the bound is bytes, not characters.
  const input = sources({ memories: ['서비스는 PostgreSQL을 쓴다', 'テストは Vitest'] });
  const assembled = assembleContext(input, {
    contextWindow: 200_000,
    reservedOutput: 4_096,
    counter: openai,
  });
  expect(assembled.report.cut).toEqual([]);
  expect(assembled.report.tokensBound).toBe('utf8-bytes');
  expect(assembled.countedTokens).toBeUndefined();
  const counted = await layerCount(OPENAI_MODEL, assembled.system, assembled.prompt);
  const systemTokens = (await layerCount(OPENAI_MODEL, assembled.system, '')) - 4;
  expect(assembled.report.tokens).toBe(
    systemTokens + Buffer.byteLength(assembled.prompt, 'utf8') + 4,
  );
  expect(counted).toBeLessThan(assembled.report.tokens);
  // Where the bytes do not fit, the prompt is counted whole and the count handed on.
  const tight = assembleContext(input, {
    contextWindow: 4_000,
    reservedOutput: 500,
    counter: openai,
  });
  expect(tight.report.tokensBound).toBeUndefined();
  expect(tight.report.tokens).toBe(await layerCount(OPENAI_MODEL, tight.system, tight.prompt));
  expect(tight.countedTokens).toBe(tight.report.tokens);
  expect(tight.report.tokens + 500).toBeLessThanOrEqual(4_000);
});

test('lower priorities go first: history (oldest turn first), then memories, attachments, dependencies', async () => {
  const count = async (input: ContextSources) => {
    const whole = assembleContext(input, {
      contextWindow: 200_000,
      reservedOutput: 0,
      counter: openai,
    });
    return layerCount(OPENAI_MODEL, whole.system, whole.prompt);
  };
  const full = await count(sources());
  const cutsAt = (window: number) =>
    assembleContext(sources(), { contextWindow: window, reservedOutput: 500, counter: openai })
      .report;
  // A little short: only the oldest turn is cut.
  const slightly = cutsAt(full + 500 - 100);
  expect(slightly.cut.map((cut) => cut.part)).toEqual(['history turn 1']);
  expect(slightly.cut[0]?.action).toBe('truncated');
  // Shorter: all history goes before anything else is touched.
  const withoutHistory = await count(sources({ history: [] }));
  const without = cutsAt(withoutHistory + 500 - 5);
  expect(without.cut.map((cut) => `${cut.part}:${cut.action}`).slice(0, 3)).toEqual([
    'history turn 3:dropped',
    'history turn 2:dropped',
    'history turn 1:dropped',
  ]);
  // A few tokens short after all of history: the next priority up (memories) gives way.
  expect(without.cut.length).toBeGreaterThan(3);
  expect(without.cut.slice(3).every((cut) => cut.part.startsWith('memory'))).toBe(true);
  // Shorter still: the dependencies are the last to be cut, and shared fairly.
  const tight = assembleContext(sources(), {
    contextWindow: 900,
    reservedOutput: 500,
    counter: openai,
  });
  const parts = tight.report.cut.map((cut) => `${cut.part}:${cut.action}`);
  expect(parts.slice(0, 6)).toEqual([
    'history turn 3:dropped',
    'history turn 2:dropped',
    'history turn 1:dropped',
    'memory 1:dropped',
    'memory 2:dropped',
    'attachments:dropped',
  ]);
  expect(parts).toContain('dependency design:truncated');
  // The short dependency fits in its fair share whole; the long one is cut to the rest.
  expect(parts).not.toContain('dependency schema:truncated');
  expect(tight.prompt).toContain(words('schema', 40));
  expect(tight.prompt).toContain(CUT_MARKER);
  // Never cut: header, request, task.
  expect(tight.prompt).toContain('Session: s-1 · turn 4 · step b');
  expect(tight.prompt).toContain('Request: now make it use PostgreSQL instead');
  expect(tight.prompt).toContain('Task: Change the storage layer of the orders service.');
  expect(tight.report.tokens + 500).toBeLessThanOrEqual(900);
  expect(tight.report.tokens).toBe(await layerCount(OPENAI_MODEL, tight.system, tight.prompt));
});

test('the exact budget edge: a window of exactly the need cuts nothing, one token less cuts', () => {
  const reservedOutput = 1_000;
  const need = assembleContext(sources(), {
    contextWindow: 1_000_000,
    reservedOutput,
    counter: anthropic,
  }).report.tokens;
  const exact = assembleContext(sources(), {
    contextWindow: need + reservedOutput,
    reservedOutput,
    counter: anthropic,
  });
  expect(exact.report.cut).toEqual([]);
  expect(exact.report.tokens + reservedOutput).toBe(need + reservedOutput);
  const short = assembleContext(sources(), {
    contextWindow: need + reservedOutput - 1,
    reservedOutput,
    counter: anthropic,
  });
  expect(short.report.cut.length).toBeGreaterThan(0);
  expect(short.report.cut[0]?.part).toBe('history turn 1');
  expect(short.report.tokens + reservedOutput).toBeLessThanOrEqual(need + reservedOutput - 1);
});

test('the parts that are never cut overflow alone: nothing else goes in and the report says so', () => {
  const assembled = assembleContext(sources({ request: words('huge', 3_000) }), {
    contextWindow: 2_000,
    reservedOutput: 500,
    counter: openai,
  });
  expect(assembled.report.overflow).toBe(true);
  expect(assembled.prompt).toContain(words('huge', 3_000));
  expect(assembled.prompt).not.toContain('Earlier turns');
  expect(assembled.prompt).not.toContain('Context from earlier steps');
  expect(assembled.report.cut.every((cut) => cut.action === 'dropped')).toBe(true);
  expect(assembled.report.tokens).toBeGreaterThan(2_000);
});

test('huge inputs (a 2 MB dependency, 1,000 turns of history) are packed within the window, fast', async () => {
  const huge = sources({
    dependencies: [{ stepId: 'dump', agent: 'code', output: 'x1 y2 z3 '.repeat(230_000) }],
    attachments: `Attachments: ${'w '.repeat(500_000)}`,
    history: Array.from({ length: 1_000 }, (_, index) => turn(index + 1, words('t', 300))),
  });
  for (const [model, counter] of [
    [OPENAI_MODEL, openai],
    [ANTHROPIC_MODEL, anthropic],
  ] as const) {
    const started = performance.now();
    const assembled = assembleContext(huge, {
      contextWindow: 32_000,
      reservedOutput: 4_096,
      counter,
    });
    const elapsedMs = performance.now() - started;
    expect(assembled.report.overflow).toBeUndefined();
    expect(assembled.report.tokens + 4_096).toBeLessThanOrEqual(32_000);
    expect(assembled.report.tokens).toBe(
      await layerCount(model, assembled.system, assembled.prompt),
    );
    // The window is used: a cut leaves at most a few hundred tokens unused.
    expect(assembled.report.tokens + 4_096).toBeGreaterThan(32_000 - 400);
    expect(assembled.report.cut.find((cut) => cut.part === 'dependency dump')?.action).toBe(
      'truncated',
    );
    expect(assembled.report.cut.filter((cut) => cut.part.startsWith('history'))).toHaveLength(
      1_000,
    );
    expect(elapsedMs).toBeLessThan(3_000);
  }
});

test('any mix of sizes and windows: prompt + reserved output never exceeds the window', async () => {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  for (let round = 0; round < 200; round += 1) {
    const counter = round % 2 === 0 ? openai : anthropic;
    const input = sources({
      dependencies: Array.from({ length: Math.floor(random() * 5) }, (_, index) => ({
        stepId: `s${index}`,
        agent: 'code',
        output: words(`d${index}`, Math.floor(random() * 2_000)),
      })),
      attachments: random() < 0.5 ? words('att', Math.floor(random() * 1_500)) : undefined,
      history: Array.from({ length: Math.floor(random() * 25) }, (_, index) =>
        turn(index + 1, words(`h${index}`, Math.floor(random() * 600)), random() < 0.5),
      ),
    });
    const window = 1_000 + Math.floor(random() * 20_000);
    const reservedOutput = Math.floor(random() * 800);
    const assembled = assembleContext(input, { contextWindow: window, reservedOutput, counter });
    expect(assembled.report.overflow).toBeUndefined();
    expect(assembled.report.tokens + reservedOutput).toBeLessThanOrEqual(window);
    // Counted (and handed on) unless the bytes bound it; either way the count is within it.
    const counted = await layerCount(
      counter === openai ? OPENAI_MODEL : ANTHROPIC_MODEL,
      assembled.system,
      assembled.prompt,
    );
    if (assembled.report.tokensBound) {
      expect(assembled.countedTokens).toBeUndefined();
      expect(counted).toBeLessThanOrEqual(assembled.report.tokens);
    } else expect(assembled.countedTokens).toBe(counted);
  }
});
