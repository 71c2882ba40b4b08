/**
 * The window check trusts a count the context assembly made of the same prompt for the same
 * model (so a step's prompt is counted once, not twice), ignores one made for another model,
 * and reports the prompt tokens it checked.
 */
import { ERROR_TYPES } from '../../core/errors';
import { callModel, countPromptTokens, type ModelLayer } from '../../models/model-call';
import type { ModelProvider, ModelRequest } from '../../models/model-provider';
import { ModelRegistry, parseModelCard } from '../../models/registry';

const MODEL = 'gpt-4o';

function provider(calls: ModelRequest[]): ModelProvider {
  return {
    name: 'openai',
    model: MODEL,
    generate: (request) => {
      calls.push(request);
      return Promise.resolve({
        text: 'ok',
        provider: 'openai',
        model: MODEL,
        usage: { inputTokens: 1, outputTokens: 1 },
        stopReason: 'stop',
        latencyMs: 1,
        offline: false,
      });
    },
  };
}

const layer: ModelLayer = {
  registry: new ModelRegistry([
    parseModelCard({ ref: `openai:${MODEL}`, contextWindow: 1_000, maxOutputTokens: 100 }),
  ]),
};
const target = { sessionId: 's-1', stepId: 'a', agent: 'code', activityId: 'a', attempt: 1 };
const request = (counted?: ModelRequest['counted']): ModelRequest => ({
  system: 'You are the code agent.',
  messages: [{ role: 'user', text: 'Add OAuth login to billing' }],
  ...(counted ? { counted } : {}),
});

test('a count handed over for the same model is the one checked and reported', async () => {
  const calls: ModelRequest[] = [];
  const real = await countPromptTokens(MODEL, request());
  const handed = await callModel(
    layer,
    provider(calls),
    request({ model: MODEL, tokens: real }),
    target,
  );
  expect(handed.promptTokens).toBe(real);
  expect(handed.requiredTokens).toBe(real + 100);
  // A (wrong) count that says the prompt is too big is believed: no call is made.
  await expect(
    callModel(layer, provider(calls), request({ model: MODEL, tokens: 950 }), target),
  ).rejects.toMatchObject({ type: ERROR_TYPES.modelContextOverflow, nonRetryable: true });
  expect(calls).toHaveLength(1);
});

test('a count made for another model is ignored: the prompt is counted for this one', async () => {
  const calls: ModelRequest[] = [];
  const real = await countPromptTokens(MODEL, request());
  const result = await callModel(
    layer,
    provider(calls),
    request({ model: 'claude-sonnet-4', tokens: 950 }),
    target,
  );
  expect(result.promptTokens).toBe(real);
  expect(calls).toHaveLength(1);
});
